// `rackstrap plan`: the exact batch the agent would run on this host, without running it. From the
// cache (stack and cached addresses: what a boot without DHCP applies), or from a topology file
// (JSON Topology, or option 43 as hex — what a server sends): the stack alone, since addresses
// come from DHCP after it is built. Read-only: observe runs `ip -j ... show` and `iptables -S`.
import { readLimited } from '../input/read-limited.js';
import path from 'node:path';
import { openCache } from '../cache/open-cache.js';
import { ConfigError, RackstrapError } from '../errors.js';
import { formatBatch } from '../net/batch.js';
import { buildDesiredState } from '../net/desired.js';
import { observe } from '../net/observe.js';
import { plan, type Plan } from '../net/plan.js';
import type { Runner } from '../net/runner.js';
import { checkStack } from '../options/rules/index.js';
import { Topology } from '../options/schema.js';
import { desiredInputFor, leasesFor, type LeaseMap } from './leases-to-desired.js';
import type { AgentSettings } from './settings.js';
import { judgeTopology } from './topology-source.js';

export type PlanSource = { kind: 'cache' } | { kind: 'topology'; file: string };

export interface Preview {
  plan: Plan;
  scope: 'links' | 'all';
  topology: Topology;
  /** The batch with a `#` header line; `ip -batch` ignores comments. */
  text: string;
}

export class PlanSourceError extends RackstrapError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RS_PLAN_SOURCE', message, options);
  }
}

/** A topology file: JSON (a Topology) or option 43 bytes as hex (colons, spaces and newlines allowed). */
export function parseTopologyText(text: string, file: string, s: Pick<AgentSettings, 'key' | 'filer' | 'nics'>): Topology {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (e) {
      throw new PlanSourceError(`${file}: not valid JSON: ${(e as Error).message}`, { cause: e });
    }
    const r = Topology.safeParse(json);
    if (!r.success) throw new ConfigError(r.error.issues.map((i) => ({ file, field: i.path.join('.') || '(topology)', rule: i.message, severity: 'error' as const })));
    const errors = checkStack(r.data.stack, { nics: Object.keys(s.nics) }).filter((p) => p.severity === 'error');
    if (errors.length > 0) throw new ConfigError(errors.map((p) => ({ ...p, file, field: `stack.${p.field}` })));
    return r.data;
  }
  const hex = trimmed.replace(/[\s:]/g, '');
  if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new PlanSourceError(`${file}: neither JSON (a topology) nor hex (option 43 bytes)`);
  const j = judgeTopology(Buffer.from(hex, 'hex'), { ...(s.key === undefined ? {} : { key: s.key }), ...(s.filer === undefined ? {} : { expectFiler: s.filer }), nics: Object.keys(s.nics) });
  if (!j.ok) throw new PlanSourceError(`${file}: the agent would refuse this topology: ${j.reason}`);
  return j.topology;
}

export async function previewPlan(s: AgentSettings, source: PlanSource, runner: Runner): Promise<Preview> {
  let topology: Topology;
  let leases: LeaseMap = {};
  let scope: 'links' | 'all';
  let header: string;
  const notes: string[] = [];
  if (source.kind === 'cache') {
    // Read-only: plan changes nothing, not even the cache's modes (the warnings say what the agent would do).
    const r = await openCache(s.cacheDir, { clusterId: s.clusterId, readOnly: true }).read();
    for (const w of r.warnings) notes.push(`# cache: ${w.message}`);
    if (r.kind === 'empty') throw new PlanSourceError(`no cache in ${s.cacheDir}: nothing to plan from (use --topology FILE)`);
    topology = r.entry.topology;
    leases = leasesFor(topology, s.clusterId, r.entry.leases);
    scope = 'all';
    header = `# rackstrap plan: ${topology.filer} generation ${topology.generation} from the cache in ${s.cacheDir}: stack and cached addresses`;
  } else {
    // A topology is at most 252 objects of 253 bytes; as JSON or hex, well under 1 MiB.
    const text = (await readLimited(source.file, { maxBytes: 2 ** 20, what: 'a topology file', code: 'RS_PLAN_SOURCE' })).toString('utf8');
    topology = parseTopologyText(text, source.file, s);
    scope = 'links';
    header = `# rackstrap plan: ${topology.filer} generation ${topology.generation} from ${path.basename(source.file)}: the stack only (addresses come from DHCP once it is built)`;
  }
  const desired = buildDesiredState(desiredInputFor({ topology, clusterId: s.clusterId, nics: s.nics, leases }));
  const p = plan(desired, await observe(runner), s.features, { scope });
  const body = formatBatch(p);
  return { plan: p, scope, topology, text: `${[header, ...notes].join('\n')}\n${body === '' ? '# nothing to change\n' : body}` };
}
