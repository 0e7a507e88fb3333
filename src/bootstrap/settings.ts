// The agent's configuration made concrete for this host: the NIC map and base MAC (configured or
// derived), the cluster key read from its file (the whole file is the key, as the generator and
// the server read it), the feature switches resolved. Only the key's fingerprint leaves here.
import { fingerprintKey } from '../cache/fingerprint-key.js';
import { keyId, readKeyFile } from '../cluster-key/key-file.js';
import { FEATURE_NAMES, resolveFeatures, type Feature, type Features } from '../net/features.js';
import type { DriftPolicy } from '../net/drift.js';
import type { Runner } from '../net/runner.js';
import type { AgentConfig } from './agent-config.js';
import { resolveNicIdentity } from './nic-discovery.js';
import { joinedKeyFile } from '../join/bundle-store.js';

export interface AgentSettings {
  clusterId: string;
  vendorClass: string;
  baseMac: string;
  filer: string | undefined;
  /** Topology name (eth#) -> kernel name. */
  nics: Record<string, string>;
  cacheDir: string;
  key: Buffer | undefined;
  /** fingerprintKey(key): `sha256:<hex>`, how the cache records the key (compared, never shown). */
  keyFingerprint: string | null;
  /** keyId(key): the key's name wherever a user sees it (logs, status), as the signature's `key=`. */
  keyId: string | null;
  topologyTimeoutMs: number;
  addressTimeoutMs: number;
  /** The daemon's READY deadline (agent-config.ts); the CLI's daemon reads it, default 60 s. */
  readyTimeoutMs?: number;
  retransmitBaseMs: number;
  refreshIntervalMs: number;
  retryIntervalMs: number;
  features: Features;
  /** What the daemon does about drift (default repair: re-apply the difference, only its own objects). */
  reconcile?: DriftPolicy;
  /** The daemon's control socket (default /run/rackstrap/agent.sock). */
  controlSocket?: string;
  /** Where the NIC map and base MAC came from (logged at start). */
  derived: { nics: boolean; baseMac: boolean };
}

export async function resolveAgentSettings(config: AgentConfig, runner: Runner): Promise<AgentSettings> {
  // No I/O first: a bad mask is reported before the host is looked at.
  const features = resolveFeatures({ ...(config.featureMask === undefined ? {} : { mask: config.featureMask }), disable: config.disable });
  // A configured key file wins; otherwise the key a `rackstrap join` stored in the cache folder:
  // once a filer has joined, it requires topology signed with its cluster's key.
  const keyFile = config.keyFile ?? (await joinedKeyFile(config.cacheDir));
  const key = keyFile === undefined ? undefined : await readKeyFile(keyFile, config.keyFile === undefined ? { namedBy: 'stored by rackstrap join' } : {});
  const identity = await resolveNicIdentity({ nics: config.nics, baseMac: config.baseMac }, runner);
  return {
    clusterId: config.clusterId,
    vendorClass: config.vendorClass,
    baseMac: identity.baseMac,
    filer: config.filer,
    nics: identity.nics,
    cacheDir: config.cacheDir,
    key,
    keyFingerprint: key === undefined ? null : fingerprintKey(key),
    keyId: key === undefined ? null : keyId(key),
    topologyTimeoutMs: config.topologyTimeoutMs,
    addressTimeoutMs: config.addressTimeoutMs,
    readyTimeoutMs: config.readyTimeoutMs,
    retransmitBaseMs: config.retransmitBaseMs,
    refreshIntervalMs: config.refreshIntervalMs,
    retryIntervalMs: config.retryIntervalMs,
    features,
    reconcile: config.reconcile,
    controlSocket: config.controlSocket,
    derived: identity.derived,
  };
}

export function featuresOff(features: Features): Feature[] {
  return FEATURE_NAMES.filter((f) => !features[f]);
}
