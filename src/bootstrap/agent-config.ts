// The agent's settings, seed 004's way: a config file (/etc/rackstrap/agent.yaml), environment
// variables that override it (RACKSTRAP_*), command-line flags that override both, then defaults.
// Every value is checked by one zod schema; a bad value is reported where it came from
// (`agent.yaml:4:18 topologyTimeoutMs: ...`, `RACKSTRAP_NICS: ...`, `--base-mac: ...`), all at once.
import { LimitedReadError, readLimited } from '../input/read-limited.js';
import { checkAliases, parseDocumentBounded } from '../options/yaml-bounds.js';
import { firstYamlError, yamlProblemAt } from '../options/yaml-syntax.js';
import path from 'node:path';
import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { ConfigError, RackstrapError, type Problem } from '../errors.js';
import { FEATURE_NAMES, type Feature } from '../net/features.js';
import { KernelIfName } from '../net/desired.js';
import { parseInterfaceName } from '../options/names.js';
import { Mac } from '../options/schema.js';
import { AGENT_LOG_LEVELS } from './agent-log.js';
import { LOG_FORMATS } from '../log/line.js';
import { durationMs, formatDuration } from '../options/duration.js';

export { DEFAULT_CONFIG_FILE, DEFAULT_CACHE_DIR, defaultControlSocket } from './locations.js';
import { DEFAULT_CONFIG_FILE, DEFAULT_CACHE_DIR, defaultControlSocket } from './locations.js';

/**
 * A duration (`10s`, `500ms`, `2m`; a plain number is milliseconds) -> milliseconds between `min`
 * and `max`: every wait of the agent is bounded, so it never hangs a boot.
 */
const ms = (min: number, max: number) =>
  z
    .union([z.number(), z.string()])
    .transform((v, ctx) => {
      const r = durationMs(v, 'ms');
      if (r.ok) return r.ms;
      ctx.addIssue({ code: 'custom', message: r.reason });
      return z.NEVER;
    })
    .pipe(z.int().min(min, `at least ${formatDuration(min)}`).max(max, `at most ${formatDuration(max)}`));

const isEthName = (s: string) => {
  const r = parseInterfaceName(s);
  return r.ok && r.value.kind === 'ethernet';
};

/** Topology NIC name -> kernel name; keys any case, stored lower-case. */
const NicMap = z
  .record(z.string(), KernelIfName)
  .superRefine((map, ctx) => {
    for (const k of Object.keys(map)) {
      if (!isEthName(k)) ctx.addIssue({ code: 'custom', path: [k], message: `NIC map keys are the topology names eth0, eth1, ...` });
    }
  })
  .transform((map) => Object.fromEntries(Object.entries(map).map(([k, v]) => [k.toLowerCase(), v])));

const FeatureName = z.string().refine((f): f is Feature => (FEATURE_NAMES as string[]).includes(f), {
  error: (i) => `unknown feature "${String(i.input)}" (features: ${FEATURE_NAMES.join(', ')})`,
});

/** Every setting, as the file, the environment and the flags may give it. */
export const AgentConfigFields = {
  /** Cluster ID: seeds every DHCP identifier. */
  clusterId: Mac,
  /** Option 60 (RFC 2132 §9.13): selects the cluster's option 43 space on the server. */
  vendorClass: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'printable ASCII without spaces, 1-64 chars'),
  /** The filer's label MAC: with the cluster ID it keys the topology request. */
  baseMac: Mac,
  /** This filer's name: a topology for any other filer is refused (a replayed, signed one too). */
  filer: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,62}$/, 'a letter, then letters, digits, - or _'),
  /** Topology name -> kernel name, for hosts whose NICs are not called eth0, eth1, ... */
  nics: NicMap,
  /** Cache (two copies) and status file. */
  cacheDir: z.string().min(1),
  /** The cluster key file (whole file = key): topology must then be signed with it. */
  keyFile: z.string().min(1),
  /** How long to wait for a topology answer before bringing the filer up from the cache. */
  topologyTimeoutMs: ms(100, 600_000),
  /** How long to wait for every alias's address before applying what has come. */
  addressTimeoutMs: ms(100, 600_000),
  /**
   * The daemon tells systemd it is up (READY) at the latest this long after it started, once the
   * stack is built, even while some aliases still have no address (STATUS names them; it keeps
   * asking). Below the unit's TimeoutStartSec, so a partly addressed filer is not restarted.
   */
  readyTimeoutMs: ms(1_000, 3_600_000),
  /** First DHCP retransmission delay (RFC 2131 §4.1: 4 s; the curve scales with it). */
  retransmitBaseMs: ms(10, 64_000),
  /** How often a running agent asks for the topology again, to notice a newer generation. */
  refreshIntervalMs: ms(100, 86_400_000),
  /** After a failed apply, how long before trying again. */
  retryIntervalMs: ms(100, 3_600_000),
  /** Features that are ON (seed 004 `--sync-mask`): a number or "0x3f". */
  featureMask: z.union([z.int().min(0), z.string().min(1)]),
  /** Features switched off (seed 004 `--disable-sync-*`); added up over every source. */
  disable: z.array(FeatureName).transform((fs) => fs as Feature[]),
  logLevel: z.enum(AGENT_LOG_LEVELS),
  /** text (for the journal; the default) or json (one object per line, for programs). */
  logFormat: z.enum(LOG_FORMATS),
  /** What the daemon does when the kernel drifts from what it built: repair (only its own objects), report, off. */
  reconcile: z.enum(['repair', 'report', 'off']),
  /** The daemon's control socket (`rackstrap show`, `status`). */
  controlSocket: z.string().min(1),
};

/** /etc/rackstrap/agent.yaml: any subset of the settings. */
export const AgentConfigFile = z.strictObject(AgentConfigFields).partial();
export type AgentConfigFile = z.infer<typeof AgentConfigFile>;

export const AGENT_DEFAULTS = {
  vendorClass: 'rackstrap',
  cacheDir: DEFAULT_CACHE_DIR,
  topologyTimeoutMs: 10_000,
  addressTimeoutMs: 10_000,
  readyTimeoutMs: 60_000,
  retransmitBaseMs: 1_000,
  refreshIntervalMs: 300_000,
  retryIntervalMs: 30_000,
  disable: [] as Feature[],
  logLevel: 'info' as const,
  logFormat: 'text' as const,
  reconcile: 'repair' as const,
};

/** The merged settings. baseMac and nics stay optional: their defaults come from the host (nic-discovery.ts). */
export const AgentConfig = z.strictObject({
  ...AgentConfigFields,
  baseMac: AgentConfigFields.baseMac.optional(),
  filer: AgentConfigFields.filer.optional(),
  nics: AgentConfigFields.nics.optional(),
  keyFile: AgentConfigFields.keyFile.optional(),
  controlSocket: AgentConfigFields.controlSocket.optional(),
  featureMask: AgentConfigFields.featureMask.optional(),
});
export type AgentConfig = z.infer<typeof AgentConfig>;
export type AgentConfigKey = keyof typeof AgentConfigFields;

/** The environment variable of each setting. */
export const ENV_NAMES: Readonly<Record<AgentConfigKey, string>> = {
  clusterId: 'RACKSTRAP_CLUSTER_ID',
  vendorClass: 'RACKSTRAP_VENDOR_CLASS',
  baseMac: 'RACKSTRAP_BASE_MAC',
  filer: 'RACKSTRAP_FILER',
  nics: 'RACKSTRAP_NICS',
  cacheDir: 'RACKSTRAP_CACHE_DIR',
  keyFile: 'RACKSTRAP_KEY_FILE',
  topologyTimeoutMs: 'RACKSTRAP_TOPOLOGY_TIMEOUT_MS',
  addressTimeoutMs: 'RACKSTRAP_ADDRESS_TIMEOUT_MS',
  readyTimeoutMs: 'RACKSTRAP_READY_TIMEOUT_MS',
  retransmitBaseMs: 'RACKSTRAP_RETRANSMIT_BASE_MS',
  refreshIntervalMs: 'RACKSTRAP_REFRESH_INTERVAL_MS',
  retryIntervalMs: 'RACKSTRAP_RETRY_INTERVAL_MS',
  featureMask: 'RACKSTRAP_FEATURE_MASK',
  disable: 'RACKSTRAP_DISABLE',
  logLevel: 'RACKSTRAP_LOG_LEVEL',
  logFormat: 'RACKSTRAP_LOG_FORMAT',
  reconcile: 'RACKSTRAP_RECONCILE',
  controlSocket: 'RACKSTRAP_CONTROL_SOCKET',
};
export const CONFIG_ENV = 'RACKSTRAP_CONFIG';

/** The command-line flag of each setting (for messages; the CLI defines them). */
export const FLAG_NAMES: Readonly<Record<AgentConfigKey, string>> = {
  clusterId: '--cluster-id',
  vendorClass: '--vendor-class',
  baseMac: '--base-mac',
  filer: '--filer',
  nics: '--nic',
  cacheDir: '--cache-dir',
  keyFile: '--key-file',
  topologyTimeoutMs: '--topology-timeout',
  addressTimeoutMs: '--address-timeout',
  readyTimeoutMs: '--ready-timeout',
  retransmitBaseMs: '--retransmit-base',
  refreshIntervalMs: '--refresh-interval',
  retryIntervalMs: '--retry-interval',
  featureMask: '--mask',
  disable: '--no-<feature>',
  logLevel: '--log-level',
  logFormat: '--log-format',
  reconcile: '--reconcile',
  controlSocket: '--control-socket',
};

/** Text values (environment, flags), one string per setting; `nics` and `disable` may repeat. */
export type TextSettings = Partial<Record<AgentConfigKey, string | readonly string[]>>;

export interface ConfigSources {
  /** Config file: from --config or RACKSTRAP_CONFIG. A missing file is an error only when named explicitly. */
  file?: string;
  env?: Readonly<Record<string, string | undefined>>;
  flags?: TextSettings;
  /** Resolves relative paths given in the environment or flags (default process.cwd()). */
  cwd?: string;
}

/** Settings for commands that only read the agent's files (`rackstrap status`): no cluster ID needed. */
export interface LoadedLocations {
  cacheDir: string;
  controlSocket: string;
  file: string | undefined;
}

export type ConfigOrigin = 'default' | 'file' | 'env' | 'flag';

export interface LoadedAgentConfig {
  config: AgentConfig;
  /** The config file read, if any. */
  file: string | undefined;
  /** Where each setting that is set came from. */
  origins: Partial<Record<AgentConfigKey, ConfigOrigin>>;
}

export async function loadAgentConfig(sources: ConfigSources = {}): Promise<LoadedAgentConfig> {
  const r = await mergeSources(sources, true);
  const parsed = AgentConfig.safeParse(r.merged);
  if (!parsed.success) {
    // Every source was checked on its own, so this is a combination no single source could show.
    throw new ConfigError(parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(config)', rule: i.message, severity: 'error' as const })));
  }
  return { config: parsed.data, file: r.file, origins: r.origins };
}

/** Where the agent keeps its files, from the same sources (the cluster ID may be missing). */
export async function loadAgentLocations(sources: ConfigSources = {}): Promise<LoadedLocations> {
  const r = await mergeSources(sources, false);
  return { cacheDir: r.merged.cacheDir as string, controlSocket: r.merged.controlSocket as string, file: r.file };
}

async function mergeSources(
  sources: ConfigSources,
  requireClusterId: boolean,
): Promise<{ merged: Record<string, unknown>; file: string | undefined; origins: LoadedAgentConfig['origins'] }> {
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  const explicit = sources.file ?? env[CONFIG_ENV];
  const fileName = explicit ?? DEFAULT_CONFIG_FILE;
  const problems: Problem[] = [];

  const fromFile = await readConfigFile(fileName, explicit !== undefined, problems);
  const fromEnv = parseTextSettings(
    Object.fromEntries(Object.entries(ENV_NAMES).flatMap(([k, name]) => (env[name] === undefined || env[name] === '' ? [] : [[k, env[name]!]]))),
    (k) => ENV_NAMES[k],
    cwd,
    problems,
  );
  const fromFlags = parseTextSettings(sources.flags ?? {}, (k) => FLAG_NAMES[k], cwd, problems);

  const origins: LoadedAgentConfig['origins'] = {};
  const merged: Record<string, unknown> = { ...AGENT_DEFAULTS };
  for (const k of Object.keys(AGENT_DEFAULTS) as AgentConfigKey[]) origins[k] = 'default';
  const layers: Array<[ConfigOrigin, Partial<Record<AgentConfigKey, unknown>>]> = [['file', fromFile.values], ['env', fromEnv], ['flag', fromFlags]];
  const disable = new Set<Feature>();
  for (const [origin, values] of layers) {
    for (const [k, v] of Object.entries(values) as Array<[AgentConfigKey, unknown]>) {
      if (v === undefined) continue;
      if (k === 'disable') for (const f of v as Feature[]) disable.add(f);
      else merged[k] = v;
      origins[k] = origin;
    }
  }
  merged.disable = [...disable];
  if (merged.controlSocket === undefined && typeof merged.cacheDir === 'string') merged.controlSocket = defaultControlSocket(merged.cacheDir);
  const clusterIdRefused =
    fromFile.unusable === true ||
    (fromFile.present?.includes('clusterId') ?? false) ||
    problems.some((p) => p.field === 'clusterId' || p.field === ENV_NAMES.clusterId || p.field === FLAG_NAMES.clusterId);
  if (requireClusterId && merged.clusterId === undefined && !clusterIdRefused) {
    problems.push({
      field: 'clusterId',
      rule: `required: the cluster ID (MAC form, as cluster.id in the cluster description); set clusterId in ${fileName}, ${ENV_NAMES.clusterId} or ${FLAG_NAMES.clusterId}`,
      severity: 'error',
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { merged, file: fromFile.read ? fileName : undefined, origins };
}

/** One source's text values -> typed values; problems name the variable or flag. */
export function parseTextSettings(
  text: TextSettings,
  nameOf: (k: AgentConfigKey) => string,
  cwd: string,
  problems: Problem[],
): Partial<Record<AgentConfigKey, unknown>> {
  const out: Partial<Record<AgentConfigKey, unknown>> = {};
  for (const [k, raw] of Object.entries(text) as Array<[AgentConfigKey, string | readonly string[] | undefined]>) {
    if (raw === undefined) continue;
    const items = (typeof raw === 'string' ? [raw] : [...raw]).flatMap((s) => (k === 'nics' || k === 'disable' ? s.split(',') : [s])).map((s) => s.trim());
    let value: unknown;
    switch (k) {
      case 'nics': {
        const map: Record<string, string> = {};
        for (const item of items.filter((s) => s !== '')) {
          const m = /^([^=]+)=(.+)$/.exec(item);
          if (m === null) {
            problems.push({ field: nameOf(k), rule: `"${item}" is not <eth#>=<kernel name>, e.g. eth0=ens3`, severity: 'error' });
            continue;
          }
          map[m[1]!.trim()] = m[2]!.trim();
        }
        value = map;
        break;
      }
      case 'disable':
        value = items.filter((s) => s !== '').map((s) => s.replace(/^--no-/, ''));
        break;
      case 'topologyTimeoutMs':
      case 'addressTimeoutMs':
      case 'readyTimeoutMs':
      case 'retransmitBaseMs':
      case 'refreshIntervalMs':
      case 'retryIntervalMs': {
        const s = items.at(-1)!;
        value = /^[0-9]+$/.test(s) ? Number(s) : s;
        break;
      }
      case 'cacheDir':
      case 'keyFile':
      case 'controlSocket':
        value = path.resolve(cwd, items.at(-1)!);
        break;
      default:
        value = items.at(-1);
    }
    const field = AgentConfigFields[k] as z.ZodType;
    const r = field.safeParse(value);
    if (r.success) out[k] = r.data;
    else for (const i of r.error.issues) problems.push({ field: nameOf(k), rule: issueText(i, value), severity: 'error' });
  }
  return out;
}

function issueText(i: z.core.$ZodIssue, value: unknown): string {
  // List positions (disable[0]) say nothing the message does not; map keys (nics.bond0) do.
  const named = i.path.filter((p) => typeof p === 'string');
  const at = named.length > 0 ? `${named.join('.')}: ` : '';
  const shown = typeof value === 'string' ? ` (got "${value}")` : '';
  return `${at}${i.message}${i.path.length === 0 ? shown : ''}`;
}

/** Largest agent configuration read: a few settings, a few hundred bytes in practice. */
export const MAX_AGENT_CONFIG_BYTES = 1 * 2 ** 20;

async function readConfigFile(
  file: string,
  required: boolean,
  problems: Problem[],
): Promise<{ read: boolean; values: Partial<Record<AgentConfigKey, unknown>>; unusable?: boolean; present?: string[] }> {
  let text: string;
  try {
    text = (await readLimited(file, { maxBytes: MAX_AGENT_CONFIG_BYTES, what: 'the agent configuration' })).toString('utf8');
  } catch (e) {
    if (e instanceof LimitedReadError && e.kind === 'missing' && !required) return { read: false, values: {} };
    throw e;
  }
  const lines = new LineCounter();
  const at = (pos: number) => ({ file, ...lines.linePos(pos) });
  // The same YAML limits as the cluster description (nesting, aliases).
  const bounded = parseDocumentBounded(text, { lineCounter: lines, uniqueKeys: true });
  const limit = bounded.ok ? checkAliases(bounded.doc) : bounded.problem;
  if (!bounded.ok || limit) {
    problems.push(yamlProblemAt(limit!.offset, limit!.rule, text, lines, file));
    return { read: true, values: {}, unusable: true };
  }
  const doc = bounded.doc;
  // The first syntax error only, with its line (the rest mostly follow from it).
  const syntax = firstYamlError(doc.errors, text, lines, file);
  if (syntax !== undefined) {
    problems.push(syntax);
    return { read: true, values: {}, unusable: true };
  }
  if (doc.contents === null) return { read: true, values: {} };
  if (!isMap(doc.contents)) {
    problems.push({ file, line: 1, col: 1, field: '(document)', rule: 'the agent configuration is a YAML mapping of settings', severity: 'error' });
    return { read: true, values: {} };
  }
  const r = AgentConfigFile.safeParse(doc.toJS());
  if (!r.success) {
    for (const i of r.error.issues) {
      const p = i.path.map((s) => (typeof s === 'symbol' ? String(s) : s));
      const keys = i.code === 'unrecognized_keys' ? i.keys : [undefined];
      for (const key of keys) {
        const where = key === undefined ? p : [...p, key];
        problems.push({
          ...locate(doc, where, at, key !== undefined),
          field: where.join('.') || '(document)',
          rule: key === undefined ? i.message : `unknown setting "${key}" (known: ${Object.keys(AgentConfigFields).join(', ')})`,
          severity: 'error',
        });
      }
    }
    problems.sort((a, b) => (a.file === file && b.file === file ? (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0) : 0));
    // The file is refused whole; the keys it does set are not "missing" (only its problems are reported).
    return { read: true, values: {}, present: Object.keys(doc.toJS() as object) };
  }
  const values: Partial<Record<AgentConfigKey, unknown>> = { ...r.data };
  // Paths in the file are relative to the file, as in cluster.yaml's keyFile.
  const dir = path.dirname(path.resolve(file));
  if (r.data.cacheDir !== undefined) values.cacheDir = path.resolve(dir, r.data.cacheDir);
  if (r.data.keyFile !== undefined) values.keyFile = path.resolve(dir, r.data.keyFile);
  if (r.data.controlSocket !== undefined) values.controlSocket = path.resolve(dir, r.data.controlSocket);
  return { read: true, values };
}

/** Position of the value at `where` (or of its key, for a key that should not be there). */
function locate(doc: Document, where: Array<string | number>, at: (pos: number) => { file: string; line: number; col: number }, keyItself: boolean) {
  if (keyItself && where.length > 0) {
    const parent = doc.getIn(where.slice(0, -1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === where.at(-1));
      const key = pair?.key as { range?: [number, number, number] } | undefined;
      if (key?.range !== undefined) return at(key.range[0]);
    }
  }
  for (let n = where.length; n >= 0; n--) {
    const node = doc.getIn(where.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node?.range !== undefined) return at(node.range[0]);
  }
  return { file: at(0).file };
}
