// From the options of ../commands/settings-options.ts to the agent's settings, log and runtime.
import { makeAgentLog, type AgentLog } from '../../bootstrap/agent-log.js';
import { loadAgentConfig, type TextSettings } from '../../bootstrap/agent-config.js';
import { resolveAgentSettings, type AgentSettings } from '../../bootstrap/settings.js';
import { FEATURE_NAMES, makeAgentRuntime, type Feature } from '../../bootstrap/runtime.js';
import type { SettingsOptions } from '../commands/settings-options.js';
import { lineStyle } from '../../log/line.js';
import { keyFileModeWarning } from '../../cluster-key/key-file-mode.js';

/** Flags in the shape loadAgentConfig reads (the same text parsing as RACKSTRAP_*). */
export function flagSettings(o: SettingsOptions): TextSettings {
  const disable = FEATURE_NAMES.filter((f: Feature) => o[f] === false);
  const pick = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const out: TextSettings = {
    clusterId: pick(o.clusterId),
    vendorClass: pick(o.vendorClass),
    baseMac: pick(o.baseMac),
    filer: pick(o.filer),
    nics: o.nic,
    cacheDir: pick(o.cacheDir),
    keyFile: pick(o.keyFile),
    topologyTimeoutMs: pick(o.topologyTimeout),
    addressTimeoutMs: pick(o.addressTimeout),
    readyTimeoutMs: pick(o.readyTimeout),
    retransmitBaseMs: pick(o.retransmitBase),
    refreshIntervalMs: pick(o.refreshInterval),
    retryIntervalMs: pick(o.retryInterval),
    featureMask: pick(o.mask),
    logLevel: pick(o.logLevel),
    logFormat: pick(o.logFormat),
    reconcile: pick(o.reconcile),
    controlSocket: pick(o.controlSocket),
    ...(disable.length > 0 ? { disable } : {}),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as TextSettings;
}

/** Settings, log and runtime (runner, sockets) for a command working from the agent's settings. */
export async function loadSettings(o: SettingsOptions): Promise<{ settings: AgentSettings; log: AgentLog; runtime: ReturnType<typeof makeAgentRuntime> }> {
  const loaded = await loadAgentConfig({ ...(o.config === undefined ? {} : { file: o.config }), flags: flagSettings(o) });
  const log = makeAgentLog({ level: loaded.config.logLevel, style: lineStyle(loaded.config.logFormat, 2) });
  if (loaded.file !== undefined) log.debug('config', `read ${loaded.file}`, { origins: loaded.origins });
  const exposed = loaded.config.keyFile === undefined ? undefined : keyFileModeWarning(loaded.config.keyFile);
  if (exposed !== undefined) log.warn('key-file', exposed.replace(/^warning: /, ''));
  const runtime = makeAgentRuntime({ netns: o.netns, log });
  return { settings: await resolveAgentSettings(loaded.config, runtime.runner), log, runtime };
}
