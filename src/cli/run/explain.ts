// rackstrap explain FILE [--filer NAME]: what the description means, filer by filer — each alias
// down to the NICs, the topology key and every identifier with its address — then where each
// virtual server can fail over, and why not elsewhere. Plain text, no colour: it is read, piped
// and pasted into tickets.
import type { ExplainOptions } from '../commands/explain.js';
import { UsageError } from '../../errors.js';
import type { LoadedCluster } from '../../options/load.js';
import type { ResolvedFiler } from '../../options/normalize.js';
import { ipv6Notice, placementsOf, reservationsOf, subnetsOf, type Reservation } from '../../options/resolve.js';
import { parseInterfaceName } from '../../options/names.js';
import { findFiler } from '../../options/rules/placement.js';
import { filerStackView } from '../../options/rules/cluster-context.js';
import { buildStackModel, isAliasVlan, type StackModel } from '../../options/rules/stack-model.js';
import { loadOrReport } from './validate.js';
import { keyId, readDescriptionKey } from '../../cluster-key/key-file.js';
import { topologyBudget, type FilerBudget } from '../../generate/budget.js';
import type { Io } from '../main.js';

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function duration(seconds: number): string {
  for (const [unit, s] of [['d', 86400], ['h', 3600], ['min', 60]] as const) if (seconds % s === 0) return `${seconds / s} ${unit}`;
  return `${seconds} s`;
}

/** Rows as aligned columns, each padded to its widest entry. */
function columns(rows: string[][], indent: string): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => `${indent}${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd());
}

/** identifier, address, subnet: for every reservation that has an address. */
function addressRows(rs: Reservation[]): string[][] {
  return rs.flatMap((r) => (r.kind === 'topology' ? [] : [[r.identifier, r.address, r.subnet.prefix]]));
}

function natural(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** One line describing an interface of the tree, after its name. */
function describeNode(f: ResolvedFiler, m: StackModel, name: string): string {
  const mtu = `MTU ${m.mtuOf(name)}`;
  switch (m.declared(name)) {
    case 'nic':
      return f.nics[name] ?? '';
    case 'bond': {
      const b = f.stack.bonds[name]!;
      const opts = [
        `bond ${b.mode}`,
        b.lacpRate && `lacp ${b.lacpRate}`,
        b.hashPolicy && `hash ${b.hashPolicy}`,
        b.primary && `primary ${b.primary}`,
        b.miimon !== undefined && `miimon ${b.miimon}`,
        mtu,
      ];
      return opts.filter(Boolean).join(' · ');
    }
    case 'failover': {
      const g = f.stack.failovers[name]!;
      return ['failover', g.primary && `primary ${g.primary}`, g.miimon !== undefined && `miimon ${g.miimon}`, mtu].filter(Boolean).join(' · ');
    }
    case 'vlan': {
      const r = parseInterfaceName(name);
      return `${r.ok && r.value.kind === 'vlan' ? `VLAN ${r.value.vlanId}` : 'VLAN'} · ${mtu}`;
    }
    case 'alias':
      return `alias · ${mtu}`;
    default:
      return '(missing)';
  }
}

/** The tree below one addressable interface, drawn with box characters. */
function tree(f: ResolvedFiler, m: StackModel, root: string, head: string): string[] {
  const lines = [head];
  const walk = (name: string, prefix: string, seen: Set<string>): void => {
    const below = m.below(name);
    below.forEach((child, i) => {
      const last = i === below.length - 1;
      const loop = seen.has(child);
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${child}  ${loop ? '(loop)' : describeNode(f, m, child)}`);
      if (!loop) walk(child, `${prefix}${last ? '   ' : '│  '}`, new Set([...seen, child]));
    });
  };
  walk(root, '    ', new Set([root]));
  return lines;
}

function explainFiler(loaded: LoadedCluster, f: ResolvedFiler, reservations: Reservation[]): string[] {
  const d = loaded.description;
  const m = buildStackModel(filerStackView(f));
  const nicCount = Object.keys(f.nics).length;
  const out: string[] = [];
  out.push(`${f.name} · base MAC ${f.baseMac} · ${plural(nicCount, 'NIC')}${f.template ? ` · template ${f.template}` : ''}`);
  const topo = reservations.find((r) => r.kind === 'topology' && r.filer === f.name);
  if (topo) out.push(`  topology key  ${topo.identifier}`);
  out.push('');

  // Aliases and VLANs of aliases carry addresses: each is a tree root. An alias that carries
  // VLANs (data0 under data0.5) shows up inside its VLAN's tree instead.
  const roots = [...Object.keys(f.stack.aliases), ...f.stack.vlans.filter(isAliasVlan)]
    .filter((n) => !m.uses(n).some((u) => u.how === 'vlan'))
    .sort(natural);
  const users = new Map<string, string[]>();
  for (const [vs, v] of Object.entries(d.vservers)) for (const a of Object.keys(v.addresses)) users.set(a, [...(users.get(a) ?? []), vs]);
  for (const root of roots) {
    const bits = [describeNode(f, m, root)];
    if (f.addresses[root]) bits.unshift(f.addresses[root]);
    const vs = users.get(root);
    if (vs) bits.push(`virtual servers ${vs.join(', ')}`);
    out.push(...tree(f, m, root, `  ${root}  ${bits.join(' · ')}`));
  }
  const usedNics = new Set<string>();
  for (const n of [...m.names()]) for (const b of m.below(n)) if (m.declared(b) === 'nic') usedNics.add(b);
  const spare = Object.keys(f.nics).filter((n) => !usedNics.has(n)).sort(natural);
  if (spare.length) out.push(`  spare NICs  ${spare.map((n) => `${n} ${f.nics[n]}`).join(', ')}`);
  out.push('');

  const own = reservations.filter((r) => r.kind === 'filer' && r.filer === f.name);
  out.push('  identifiers (DHCP client id → address)');
  out.push(...columns(addressRows(own), '    '));

  const homed = reservations.filter((r) => (r.kind === 'vserver' || r.kind === 'mysql') && r.home !== undefined && findFiler(loaded.filers, r.home)?.name === f.name);
  if (homed.length) {
    out.push('  brought up here at bootstrap (home)');
    out.push(...columns(addressRows(homed), '    '));
  }

  const placement = placementsOf(loaded);
  const can: string[] = [];
  const cannot: string[] = [];
  for (const p of placement.values()) {
    const home = d.vservers[p.vserver]?.home;
    if (p.hosts.includes(f.name)) can.push(home === f.name ? `${p.vserver} (home)` : p.vserver);
    const ex = p.excluded.find((e) => e.filer === f.name);
    if (ex) cannot.push(`${p.vserver} (lacks ${ex.missing.join(', ')})`);
    else if (!p.candidates.includes(f.name)) cannot.push(`${p.vserver} (not in its filers list)`);
  }
  if (can.length) out.push(`  virtual servers that can run here  ${can.join(', ')}`);
  if (cannot.length) out.push(`  cannot run here                   ${cannot.join(', ')}`);
  return out;
}

function explainVservers(loaded: LoadedCluster): string[] {
  const out: string[] = ['Virtual servers: where each can fail over'];
  for (const [name, p] of placementsOf(loaded)) {
    const v = loaded.description.vservers[name]!;
    const head = [`table ${v.table}`, v.gateway ? `gateway ${v.gateway}` : 'no gateway', v.home ? `home ${v.home}` : 'no home (placed by HA)'];
    const aliases = Object.entries(v.addresses).map(([a, inst]) => `${a} ${Object.values(inst).join(', ')}`);
    out.push(`  ${name} · ${head.join(' · ')}`);
    out.push(`    addresses   ${aliases.join('; ')}`);
    out.push(`    runs on     ${p.hosts.join(', ') || 'nowhere'}`);
    for (const ex of p.excluded) out.push(`    not on      ${ex.filer}: lacks ${ex.missing.join(', ')}`);
    const others = [...loaded.filers.keys()].filter((f) => !p.candidates.includes(f));
    if (others.length) out.push(`    not listed  ${others.join(', ')}`);
  }
  return out;
}

/** The whole explanation as text; `filer` limits it to one filer. */
export function renderExplain(loaded: LoadedCluster, opts: { filer?: string; keyId?: string } = {}): string {
  const d = loaded.description;
  const reservations = reservationsOf(loaded);
  const out: string[] = [];
  let filers = [...loaded.filers.values()];
  if (opts.filer !== undefined) {
    const f = findFiler(loaded.filers, opts.filer);
    if (!f) throw new UsageError(`no filer named ${opts.filer} in ${loaded.file} (filers: ${[...loaded.filers.keys()].join(', ')})`);
    filers = [f];
  }
  out.push(`Cluster ${d.cluster.name} · ID ${d.cluster.id} · generation ${d.cluster.generation} · vendor class ${d.cluster.vendorClass}`);
  out.push(
    [plural(loaded.filers.size, 'filer'), plural(Object.keys(d.vservers).length, 'virtual server'), plural(Object.keys(d.mysql).length, 'MySQL role'), plural(reservations.length, 'identifier')].join(' · '),
  );
  out.push(opts.keyId === undefined ? 'Topologies are not signed (no cluster.keyFile): a filer takes the first answer it hears' : `Topologies are signed with key ${opts.keyId}`);
  if (opts.filer === undefined) {
    out.push('', 'Subnets');
    for (const s of subnetsOf(loaded)) {
      const bits = [
        s.routers.length ? `routers ${s.routers.join(', ')}` : 'no router',
        s.dns.length && `dns ${s.dns.join(', ')}`,
        s.ntp.length && `ntp ${s.ntp.join(', ')}`,
        s.domain && `domain ${s.domain}`,
        `lease ${duration(s.leaseTime)}`,
        s.pool && `pool ${s.pool.start}–${s.pool.end}`,
        s.bootstrap && `bootstrap ${s.bootstrap.start}–${s.bootstrap.end}`,
      ];
      out.push(`  ${s.prefix.padEnd(18)} ${bits.filter(Boolean).join(' · ')}`);
    }
  }
  for (const f of filers) out.push('', ...explainFiler(loaded, f, reservations));
  if (opts.filer === undefined && Object.keys(d.vservers).length) out.push('', ...explainVservers(loaded));
  return `${out.join('\n')}\n`;
}

export async function run(io: Io, file: string, opts: ExplainOptions): Promise<void> {
  const loaded = await loadOrReport(file, io);
  const key = await readDescriptionKey(loaded);
  io.out(renderExplain(loaded, { ...opts, ...(key === undefined ? {} : { keyId: keyId(key) }) }));
  io.out(renderBudget(topologyBudget(loaded, key === undefined ? {} : { key }), opts.filer));
  const v6 = ipv6Notice(loaded);
  if (v6 !== undefined) io.out(`\n${v6}`);
}

/** The option 43 budget: each filer's topology against what each DHCP server delivers intact. */
export function renderBudget(budgets: FilerBudget[], only?: string): string {
  const shown = only === undefined ? budgets : budgets.filter((b) => b.filer.toLowerCase() === only.toLowerCase());
  if (shown.length === 0) return '';
  const targets = shown[0]!.fits.map((f) => f.target);
  const rows = [['filer', 'topology', ...targets.map((t) => `${t} room`)]];
  for (const b of shown) rows.push([b.filer, `${b.size} B`, ...b.fits.map((f) => `${f.limit} B${b.size > f.limit ? ' OVER' : ''}`)]);
  return ['', 'Option 43 budget (topology bytes against the room each DHCP server has on the tightest bootstrap subnet):', ...columns(rows, '  ')].join('\n');
}
