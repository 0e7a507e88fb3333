// A pair's settings from serve's flags and the description's pair section (flags win): checked
// together, so a half-configured pair is refused at start with a message naming the flag.

import { networkInterfaces } from 'node:os';
import { UsageError } from '../errors.js';
import { pairServers, pairServiceAddress } from '../options/pair.js';
import type { ClusterDescription } from '../options/schema.js';
import type { Endpoint, PairSettings, SyncMode } from './pair.js';

export const DEFAULT_SYNC_PORT = 6767;

export interface PairFlags {
  pairName?: string;
  pairListen?: string;
  pairPeer?: string;
  pairPath: string[];
  pairSecretFile?: string;
  /** Default sync. */
  pairMode?: string;
  pairPreferred?: boolean;
  serviceAddress?: string;
  /** Default 100. */
  pairHeartbeatMs?: number;
  /** Default 1000 (ten heartbeats). */
  pairDeadMs?: number;
  /** Default: the dead time less three heartbeats. */
  pairConnectionTimeoutMs?: number;
  /** Default: the dead time less three heartbeats. */
  pairAckTimeoutMs?: number;
}

export const DEFAULT_HEARTBEAT_MS = 100;
/** Heartbeats the partner may miss on every path before it counts as gone. */
export const DEFAULT_DEAD_HEARTBEATS = 10;

/**
 * The connection and acknowledgment timeouts from the heartbeat and the dead time: by default
 * three heartbeats less than the dead time, so a server whose partner went quiet closes the
 * connection (and serves alone, under the guard) before that partner could take over, yet a
 * partner that is only slow — a loaded machine, a long write — has most of the dead time to
 * answer. Never less than two heartbeats.
 */
export function derivedTimeoutMs(heartbeatMs: number, deadMs: number): number {
  return Math.max(2 * heartbeatMs, deadMs - 3 * heartbeatMs);
}

/** This host's IPv4 addresses (which of the pair's servers this is, when no --pair-name says). */
export function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4') out.add(a.address);
  return out;
}

/**
 * The flags, with every pair setting they leave unset taken from the description's pair section.
 * Which server this is: --pair-name, else the one whose sync address is on this host.
 */
export function withDescription(f: PairFlags, d: ClusterDescription, local: () => Set<string> = localAddresses): PairFlags {
  const p = d.pair;
  if (!p) return f;
  let name = f.pairName;
  if (name === undefined) {
    const here = local();
    const mine = Object.entries(p.servers).filter(([, s]) => here.has(s.sync.split(':')[0]!)).map(([n]) => n);
    if (mine.length !== 1) {
      throw new UsageError(mine.length === 0
        ? `the description has a server pair (${Object.keys(p.servers).join(', ')}), but no sync address of it is on this host: give --pair-name`
        : `both servers of the pair have their sync address on this host: give --pair-name`);
    }
    name = mine[0]!;
  }
  const servers = pairServers(d, name);
  if (!servers) throw new UsageError(`--pair-name ${name}: the description's pair has the servers ${Object.keys(p.servers).join(' and ')}`);
  const service = f.serviceAddress === undefined ? pairServiceAddress(d) : undefined;
  return {
    ...f,
    pairName: name,
    pairListen: f.pairListen ?? servers.self.sync,
    pairPeer: f.pairPeer ?? servers.partner.sync,
    pairPath: f.pairPath.length > 0 ? f.pairPath : servers.partner.paths,
    pairSecretFile: f.pairSecretFile ?? p.secretFile,
    pairMode: f.pairMode ?? p.mode,
    pairPreferred: f.pairPreferred === true || servers.self.preferred,
    serviceAddress: f.serviceAddress ?? (typeof service === 'object' ? `${service.address}/${service.prefixLength}` : undefined),
    pairHeartbeatMs: f.pairHeartbeatMs ?? p.heartbeatMs,
    pairDeadMs: f.pairDeadMs ?? p.deadMs,
  };
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function parseEndpoint(flag: string, text: string): Endpoint {
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(text);
  const port = m?.[2] === undefined ? DEFAULT_SYNC_PORT : Number(m[2]);
  if (!m || !IPV4.test(m[1]!) || port < 1 || port > 65535) throw new UsageError(`${flag}: expected an IPv4 address with an optional port (10.9.0.1:${DEFAULT_SYNC_PORT}), got ${JSON.stringify(text)}`);
  return { host: m[1]!, port };
}

export function parseServiceAddress(text: string): { address: string; prefixLength: number } {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!m || !IPV4.test(m[1]!) || Number(m[2]) > 32) throw new UsageError(`--service-address: expected an IPv4 address with its prefix length (10.1.1.250/24), got ${JSON.stringify(text)}`);
  return { address: m[1]!, prefixLength: Number(m[2]) };
}

/** undefined when no pair flag is given; else complete settings minus the secret (read by the caller). */
export function pairSettingsFromFlags(f: PairFlags): (Omit<PairSettings, 'secret'> & { secretFile: string }) | undefined {
  const given = [f.pairListen, f.pairPeer, f.pairSecretFile, f.serviceAddress].some((v) => v !== undefined) || f.pairPath.length > 0 || f.pairPreferred === true;
  if (f.pairName === undefined) {
    if (given) throw new UsageError('--pair-* flags and --service-address need --pair-name (this server is then one of a pair)');
    return undefined;
  }
  if (f.pairListen === undefined) throw new UsageError('--pair-name needs --pair-listen (this server\'s sync endpoint)');
  if (f.pairPeer === undefined) throw new UsageError('--pair-name needs --pair-peer (the partner\'s sync endpoint)');
  if (f.pairSecretFile === undefined) throw new UsageError('--pair-name needs --pair-secret-file (the shared secret, in a file)');
  const mode = f.pairMode ?? 'sync';
  const heartbeatMs = f.pairHeartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const deadMs = f.pairDeadMs ?? DEFAULT_DEAD_HEARTBEATS * heartbeatMs;
  if (mode !== 'sync' && mode !== 'async') throw new UsageError(`--pair-mode: expected sync or async, got ${JSON.stringify(mode)}`);
  for (const p of f.pairPath) if (!IPV4.test(p)) throw new UsageError(`--pair-path: expected an IPv4 address, got ${JSON.stringify(p)}`);
  if (deadMs < 3 * heartbeatMs) throw new UsageError(`--pair-dead-ms (${deadMs}) must be at least three heartbeats (3 × ${heartbeatMs} ms)`);
  const timeout = derivedTimeoutMs(heartbeatMs, deadMs);
  const connectionMs = f.pairConnectionTimeoutMs ?? timeout;
  const ackMs = f.pairAckTimeoutMs ?? timeout;
  for (const [flag, v] of [['--pair-connection-timeout-ms', connectionMs], ['--pair-ack-timeout-ms', ackMs]] as const) {
    // Past the dead time the partner could already serve alone while this server still counts
    // on the connection: a change it then confirms would be one the partner no longer guards.
    if (v >= deadMs) throw new UsageError(`${flag} (${v}) must be shorter than the dead time (--pair-dead-ms ${deadMs})`);
    if (v < 2 * heartbeatMs) throw new UsageError(`${flag} (${v}) must be at least two heartbeats (2 × ${heartbeatMs} ms)`);
  }
  return {
    name: f.pairName,
    preferred: f.pairPreferred === true,
    listen: parseEndpoint('--pair-listen', f.pairListen),
    partner: parseEndpoint('--pair-peer', f.pairPeer),
    paths: f.pairPath,
    secretFile: f.pairSecretFile,
    mode: mode as SyncMode,
    heartbeatMs,
    partnerDeadMs: deadMs,
    sessionDeadMs: connectionMs,
    ackTimeoutMs: ackMs,
  };
}
