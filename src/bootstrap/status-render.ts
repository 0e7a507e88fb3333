// The status file as text for `rackstrap status`: the stack as a tree from each alias down to the
// NICs (a bond has two lower devices, so the tree hangs from the top), with the addresses on each
// alias, then the leases, the cache and the last error. Pure.
import { naturalCompare } from '../options/wire/normalize.js';
import { normalizeName, parseInterfaceName } from '../options/names.js';
import type { Stack } from '../options/schema.js';
import type { AgentStatus } from './status.js';

/** Lower devices of each interface of the stack. */
function lowerOf(stack: Stack): Map<string, { label: string; lower: string[] }> {
  const out = new Map<string, { label: string; lower: string[] }>();
  for (const [name, b] of Object.entries(stack.bonds)) out.set(normalizeName(name), { label: `bond ${b.mode}`, lower: b.members.map(normalizeName) });
  for (const [name, f] of Object.entries(stack.failovers)) out.set(normalizeName(name), { label: 'failover active-backup', lower: f.members.map(normalizeName) });
  for (const v of stack.vlans) {
    const r = parseInterfaceName(v);
    if (r.ok && r.value.kind === 'vlan') out.set(normalizeName(v), { label: `VLAN ${r.value.vlanId}`, lower: [r.value.parent] });
  }
  for (const [name, on] of Object.entries(stack.aliases)) out.set(normalizeName(name), { label: 'alias', lower: [normalizeName(on)] });
  return out;
}

export function renderStackTree(stack: Stack, opts: { nics?: Record<string, string>; addresses?: AgentStatus['addresses'] } = {}): string[] {
  const links = lowerOf(stack);
  const used = new Set([...links.values()].flatMap((l) => l.lower));
  const tops = [...links.keys()].filter((n) => !used.has(n)).sort(naturalCompare);
  const addrs = new Map<string, string[]>();
  for (const a of opts.addresses ?? []) addrs.set(a.dev, [...(addrs.get(a.dev) ?? []), `${a.address} (${a.owner})`]);
  const lines: string[] = [];
  const label = (name: string): string => {
    const l = links.get(name);
    const kernel = opts.nics?.[name];
    const what = l?.label ?? (kernel !== undefined && kernel !== name ? `NIC ${kernel}` : 'NIC');
    const a = addrs.get(name);
    return `${name} [${what}]${a ? `  ${a.join(', ')}` : ''}`;
  };
  const walk = (name: string, prefix: string, last: boolean, depth: number) => {
    lines.push(depth === 0 ? label(name) : `${prefix}${last ? '└─ ' : '├─ '}${label(name)}`);
    const lower = links.get(name)?.lower ?? [];
    const next = depth === 0 ? '' : `${prefix}${last ? '   ' : '│  '}`;
    lower.forEach((l, i) => walk(l, next, i === lower.length - 1, depth + 1));
  };
  for (const t of tops) walk(t, '', true, 0);
  return lines;
}

export function renderStatus(s: AgentStatus, opts: { running: boolean; now?: Date }): string {
  const now = opts.now ?? new Date();
  const out: string[] = [];
  const state = opts.running ? `running (pid ${s.pid})` : s.daemon ? `not running (pid ${s.pid} gone)` : `not running (last run pid ${s.pid})`;
  out.push(`agent: ${state}, ${describeMode(s)}`);
  const t = s.topology;
  out.push(`filer: ${t?.filer ?? '?'}  generation ${t?.generation ?? '-'}  cluster ${s.clusterId}  base MAC ${s.baseMac}`);
  out.push(`cache: ${s.cache.dir}  ${s.cache.generation === null ? 'not written yet' : `generation ${s.cache.generation}, written ${s.cache.writtenAt ?? '?'}`}`);
  out.push(`key: ${s.keyId ?? 'none (topology is not required to be signed)'}`);
  if (s.featuresOff.length > 0) out.push(`features off: ${s.featuresOff.join(', ')}`);
  out.push('');
  if (t !== null) {
    out.push('stack:');
    for (const l of renderStackTree(t.stack, { nics: s.nics, addresses: s.addresses })) out.push(`  ${l}`);
    out.push('');
  }
  out.push(`leases (${s.leases.filter((l) => l.address !== undefined).length}/${s.leases.length}):`);
  if (s.leases.length === 0) out.push('  none');
  const rows = s.leases.map((l) => [l.identifier, l.address ?? '-', expiry(l.expiresAt, now), l.serverId ?? '-', l.state]);
  out.push(...table(['identifier', 'address', 'expires', 'server', 'state'], rows).map((r) => `  ${r}`));
  out.push('');
  out.push(`last apply: ${s.lastApply === null ? 'none' : `${s.lastApply.at}: ${s.lastApply.steps} step(s), ${s.lastApply.what}`}`);
  out.push(`last error: ${s.lastError === null ? 'none' : `${s.lastError.at} ${s.lastError.code}: ${s.lastError.message}`}`);
  return `${out.join('\n')}\n`;
}

function describeMode(s: AgentStatus): string {
  switch (s.mode) {
    case 'starting':
      return 'asking DHCP for the topology';
    case 'dhcp':
      return 'configured from DHCP';
    case 'cache':
      return 'configured from the cache (no DHCP answer yet; still asking)';
    case 'waiting':
      return 'nothing configured: no DHCP answer and no cache; still asking';
    case 'stopped':
      return `stopped; configuration from ${s.source === null ? 'nowhere' : s.source === 'dhcp' ? 'DHCP' : 'the cache'} left in place`;
    case 'down':
      return 'torn down (agent --down)';
  }
}

function expiry(at: string | null | undefined, now: Date): string {
  if (at === undefined) return '-';
  if (at === null) return 'never';
  const left = Math.round((Date.parse(at) - now.getTime()) / 1000);
  return left < 0 ? `${at} (expired)` : `${at} (in ${left} s)`;
}

function table(head: string[], rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(width[i]!))).join('  ');
  return [fmt(head), ...rows.map(fmt)];
}
