// What a filer's kernel should hold, derived from the cluster description alone (the model in
// src/options), never from the agent's plan or topology: so a wrong plan shows up here as a
// difference. Then the comparison with what the kernel reports (`ip -j -d`, parsed by net/observe),
// field by field. Pure.
//
// What the description means, as checked:
//  - every bond and failover group with the fields the description sets (mode, members, miimon,
//    lacpRate, hashPolicy, primary), up; every 802.3ad member distributing (the lab's switch is
//    an LACP partner);
//  - every VLAN with its id on its lower device; every alias on the interface it names; the MTU of
//    each link: its own, else its lower device's (a bond's members take the bond's);
//  - the filer's own addresses and those of the virtual servers and MySQL roles whose home it is,
//    each on its alias (IPv4: DHCPv4 serves nothing else);
//  - per virtual-server table: the connected route of each address (source the address, realm the
//    table), one default route via the server's gateway (one per table, shared by the servers in
//    it); a rule per address into the table with the table's realm;
//  - the main table's default route via the router of the lowest-numbered mgmt# alias;
//  - nothing else of rackstrap's: no other marked link, address, route or rule.
import type { LoadedCluster } from '../options/load.js';
import { normalizeName, parseInterfaceName } from '../options/names.js';
import { reservationsOf, subnetsOf, type AddressReservation } from '../options/resolve.js';
import type { Stack } from '../options/schema.js';
import { contains, networkOf } from '../net/ipv4.js';
import type { ObservedLink, ObservedState } from '../net/observe.js';
import { RT_TABLE_MAIN } from '../net/ownership.js';

export interface ExpectedLink {
  ifname: string;
  kind: 'nic' | 'bond' | 'failover' | 'vlan' | 'alias';
  /** Fields as the kernel reports them, by name: mode, miimon, lacp_rate, parent, vlan id, mtu ... */
  fields: Record<string, string>;
  members: string[];
  /** 802.3ad: every member distributing. */
  lacp: boolean;
}

export interface ExpectedRoute {
  table: number;
  dst: string;
  gateway?: string;
  dev: string;
  prefsrc?: string;
  realm?: number;
  owner: string;
}

export interface ExpectedRule {
  src: string;
  table: number;
  realm: number;
  owner: string;
}

export interface ExpectedKernel {
  filer: string;
  links: ExpectedLink[];
  /** `dev a.b.c.d/len` with the owner. */
  addresses: Array<{ dev: string; address: string; owner: string }>;
  routes: ExpectedRoute[];
  rules: ExpectedRule[];
}

const DEFAULT_MTU = 1500;

const lower = (n: string) => normalizeName(n);

/** The links of a stack with their effective MTU (own, else the lower device's; members take their bond's). */
function expectedLinks(stack: Stack, nics: string[]): ExpectedLink[] {
  const mtu = new Map(Object.entries(stack.mtu).map(([k, v]) => [lower(k), v]));
  const masterOf = new Map<string, string>();
  for (const [b, bond] of Object.entries(stack.bonds)) for (const m of bond.members) masterOf.set(lower(m), lower(b));
  for (const [f, fo] of Object.entries(stack.failovers)) for (const m of fo.members) masterOf.set(lower(m), lower(f));
  const lowerOf = new Map<string, string>();
  for (const v of stack.vlans) {
    const p = parseInterfaceName(lower(v));
    if (p.ok && p.value.kind === 'vlan') lowerOf.set(lower(v), p.value.parent);
  }
  for (const [a, on] of Object.entries(stack.aliases)) lowerOf.set(lower(a), lower(on));
  // A bond sets its members to its own MTU; anything else has its own, else its lower device's.
  const memberMtu = (name: string, depth = 0): number => {
    const master = masterOf.get(name);
    if (master !== undefined && depth < 32) return memberMtu(master, depth + 1);
    const own = mtu.get(name);
    if (own !== undefined) return own;
    const below = lowerOf.get(name);
    return below !== undefined && depth < 32 ? memberMtu(below, depth + 1) : DEFAULT_MTU;
  };
  const mtuOf = memberMtu;
  const out: ExpectedLink[] = [];
  const used = new Set<string>([...masterOf.keys(), ...lowerOf.values()]);
  for (const n of nics) {
    if (!used.has(n)) continue;
    out.push({ ifname: n, kind: 'nic', fields: { mtu: String(memberMtu(n)), ...(masterOf.has(n) ? { master: masterOf.get(n)! } : {}) }, members: [], lacp: false });
  }
  for (const [raw, b] of Object.entries(stack.bonds)) {
    const n = lower(raw);
    const fields: Record<string, string> = { mode: b.mode, mtu: String(memberMtu(n)) };
    if (b.miimon !== undefined) fields.miimon = String(b.miimon);
    if (b.lacpRate !== undefined) fields.lacp_rate = b.lacpRate;
    if (b.hashPolicy !== undefined) fields.xmit_hash_policy = b.hashPolicy;
    if (b.primary !== undefined) fields.primary = lower(b.primary);
    if (masterOf.has(n)) fields.master = masterOf.get(n)!;
    out.push({ ifname: n, kind: 'bond', fields, members: b.members.map(lower), lacp: b.mode === '802.3ad' });
  }
  for (const [raw, f] of Object.entries(stack.failovers)) {
    const n = lower(raw);
    const fields: Record<string, string> = { mode: 'active-backup', mtu: String(memberMtu(n)) };
    if (f.miimon !== undefined) fields.miimon = String(f.miimon);
    if (f.primary !== undefined) fields.primary = lower(f.primary);
    if (masterOf.has(n)) fields.master = masterOf.get(n)!;
    out.push({ ifname: n, kind: 'failover', fields, members: f.members.map(lower), lacp: false });
  }
  for (const raw of stack.vlans) {
    const n = lower(raw);
    const p = parseInterfaceName(n);
    if (!p.ok || p.value.kind !== 'vlan') continue;
    const fields: Record<string, string> = { parent: p.value.parent, 'vlan id': String(p.value.vlanId), mtu: String(memberMtu(n)) };
    if (masterOf.has(n)) fields.master = masterOf.get(n)!;
    out.push({ ifname: n, kind: 'vlan', fields, members: [], lacp: false });
  }
  for (const [raw, on] of Object.entries(stack.aliases)) {
    const n = lower(raw);
    out.push({ ifname: n, kind: 'alias', fields: { parent: lower(on), mtu: String(mtuOf(n)) }, members: [], lacp: false });
  }
  return out;
}

/** What `filer`'s kernel should hold once its agent is up, from the description. */
export function expectedKernel(loaded: LoadedCluster, filerName: string): ExpectedKernel {
  const f = [...loaded.filers.values()].find((x) => x.name.toLowerCase() === filerName.toLowerCase());
  if (f === undefined) throw new Error(`no filer ${filerName} in ${loaded.file}`);
  const d = loaded.description;
  const links = expectedLinks(f.stack, Object.keys(f.nics).map(lower));
  const addresses: ExpectedKernel['addresses'] = [];
  const routes: ExpectedRoute[] = [];
  const rules: ExpectedRule[] = [];
  const mine = reservationsOf(loaded).filter(
    (r): r is Exclude<ReturnType<typeof reservationsOf>[number], { kind: 'topology' }> =>
      r.kind !== 'topology' && r.family === 4 && (r.kind === 'filer' ? r.filer === f.name : r.home === f.name),
  );
  for (const r of mine) {
    addresses.push({ dev: lower(r.alias), address: `${r.address}/${r.subnet.prefixLength}`, owner: r.kind === 'filer' ? 'filer' : r.kind === 'vserver' ? r.vserver : r.role });
  }

  // Main table: default via the router of the lowest-numbered mgmt# that has one.
  let best: { index: number; r: AddressReservation } | undefined;
  for (const r of mine) {
    if (r.kind !== 'filer' || r.subnet.routers.length === 0) continue;
    const p = parseInterfaceName(lower(r.alias));
    if (!p.ok || p.value.kind !== 'alias' || p.value.role !== 'mgmt') continue;
    if (best === undefined || p.value.index < best.index) best = { index: p.value.index, r };
  }
  if (best !== undefined) routes.push({ table: RT_TABLE_MAIN, dst: 'default', gateway: best.r.subnet.routers[0]!, dev: lower(best.r.alias), owner: `filer ${f.name}` });

  // Virtual servers homed here: their tables (one default route per table) and rules.
  const tableGateways = new Map<number, { gateway: string; dev: string; servers: string[] }>();
  for (const r of mine) {
    if (r.kind !== 'vserver') continue;
    const v = d.vservers[r.vserver]!;
    const dev = lower(r.alias);
    routes.push({ table: v.table, dst: `${networkOf(r.address, r.subnet.prefixLength)}/${r.subnet.prefixLength}`, dev, prefsrc: r.address, realm: v.table, owner: r.vserver });
    rules.push({ src: r.address, table: v.table, realm: v.table, owner: r.vserver });
    if (v.gateway !== undefined && contains(r.address, r.subnet.prefixLength, v.gateway)) {
      const t = tableGateways.get(v.table);
      if (t === undefined) tableGateways.set(v.table, { gateway: v.gateway, dev, servers: [r.vserver] });
      else if (!t.servers.includes(r.vserver)) t.servers.push(r.vserver);
    }
  }
  for (const [table, t] of tableGateways) routes.push({ table, dst: 'default', gateway: t.gateway, dev: t.dev, realm: table, owner: t.servers.join(', ') });
  return { filer: f.name, links, addresses, routes, rules };
}

export interface KernelCheck {
  /** bond0, "10.2.2.1/24", "table 1 default", "rule from 10.2.2.1". */
  subject: string;
  field: string;
  want: string;
  got: string;
  ok: boolean;
}

/** Every field of `exp` against the kernel's state, plus "nothing else of rackstrap's". */
export function checkKernel(exp: ExpectedKernel, s: ObservedState): KernelCheck[] {
  const out: KernelCheck[] = [];
  const add = (subject: string, field: string, want: string, got: string | undefined) => out.push({ subject, field, want, got: got ?? 'none', ok: want === (got ?? 'none') });
  const links = new Map(s.links.map((l) => [l.ifname, l]));
  // A failover group is an active-backup bond on Linux: its kind is bond, its mode says the rest.
  const kindOf = (l: ObservedLink | undefined): string => (l === undefined ? 'missing' : l.kind === 'bond' ? 'bond' : l.kind === 'vlan' ? 'vlan' : l.kind === 'macvlan' ? 'alias' : 'nic');
  for (const e of exp.links) {
    const l = links.get(e.ifname);
    if (e.kind !== 'nic' || l === undefined) add(e.ifname, 'kind', e.kind === 'failover' ? 'bond' : e.kind, kindOf(l));
    if (l === undefined) continue;
    add(e.ifname, 'state', 'up', l.up ? 'up' : 'down');
    for (const [field, want] of Object.entries(e.fields)) {
      const got =
        field === 'mode' ? l.bond?.mode
        : field === 'miimon' ? (l.bond?.miimon === undefined ? undefined : String(l.bond.miimon))
        : field === 'lacp_rate' ? l.bond?.lacpRate
        : field === 'xmit_hash_policy' ? l.bond?.hashPolicy
        : field === 'primary' ? l.bond?.primary
        : field === 'parent' ? l.parent
        : field === 'vlan id' ? (l.vlanId === undefined ? undefined : String(l.vlanId))
        : field === 'mtu' ? String(l.mtu)
        : field === 'master' ? l.master
        : undefined;
      add(e.ifname, field, want, got);
    }
    if (e.members.length > 0) {
      const got = s.links.filter((x) => x.master === e.ifname).map((x) => x.ifname).sort();
      add(e.ifname, 'members', [...e.members].sort().join(' '), got.join(' ') || undefined);
    }
    if (e.lacp) {
      const notYet = e.members.filter((m) => !links.get(m)?.slave?.adPortState?.includes('distributing'));
      add(e.ifname, 'LACP', 'every member distributing', notYet.length === 0 ? 'every member distributing' : `not distributing: ${notYet.join(' ')}`);
    }
  }
  const wantLinks = new Set(exp.links.map((l) => l.ifname));
  const extraLinks = s.links.filter((l) => l.owned && !wantLinks.has(l.ifname)).map((l) => l.ifname);
  add('links', "rackstrap's, not in the description", 'none', extraLinks.join(' ') || undefined);

  const haveAddr = new Map(s.addresses.map((a) => [`${a.local}/${a.prefixlen}`, a]));
  for (const a of exp.addresses) {
    const got = haveAddr.get(a.address);
    add(`${a.address} (${a.owner})`, 'on', a.dev, got?.dev);
  }
  const wantAddr = new Set(exp.addresses.map((a) => a.address));
  const extraAddr = s.addresses.filter((a) => a.owned && !wantAddr.has(`${a.local}/${a.prefixlen}`)).map((a) => `${a.local}/${a.prefixlen} on ${a.dev}`);
  add('addresses', "rackstrap's, not in the description", 'none', extraAddr.join(', ') || undefined);

  const routes = s.routes.filter((r) => r.type === 1);
  const tableName = (t: number) => (t === RT_TABLE_MAIN ? 'main' : `table ${t}`);
  const used = new Set<unknown>();
  for (const r of exp.routes) {
    const subject = `${tableName(r.table)} ${r.dst}${r.prefsrc ? ` src ${r.prefsrc}` : ''}`;
    const same = routes.filter((o) => o.table === r.table && o.dst === r.dst && (r.prefsrc === undefined || o.prefsrc === r.prefsrc));
    const o = same.find((x) => x.owned && !used.has(x)) ?? same.find((x) => !used.has(x));
    if (o !== undefined) used.add(o);
    if (o === undefined) {
      add(subject, 'route', 'present', 'missing');
      continue;
    }
    if (r.dst === 'default') add(subject, 'count', '1', String(same.length));
    if (r.gateway !== undefined) add(subject, 'via', r.gateway, o.gateway);
    add(subject, 'dev', r.dev, o.dev);
    if (r.realm !== undefined) add(subject, 'realm', String(r.realm), o.realm === undefined ? undefined : String(o.realm));
  }
  const extraRoutes = s.routes.filter((o) => o.owned && !used.has(o)).map((o) => `${tableName(o.table)} ${o.dst}${o.gateway ? ` via ${o.gateway}` : ''}${o.dev ? ` dev ${o.dev}` : ''}`);
  add('routes', "rackstrap's, not in the description", 'none', extraRoutes.join(', ') || undefined);

  const usedRules = new Set<unknown>();
  for (const r of exp.rules) {
    const o = s.rules.find((x) => !usedRules.has(x) && x.src === r.src && x.srclen === 32 && x.table === r.table);
    if (o !== undefined) usedRules.add(o);
    add(`rule from ${r.src} (${r.owner})`, 'lookup', `table ${r.table} realms ${r.realm}/${r.realm}`, o === undefined ? 'missing' : `table ${o.table} realms ${o.realmFrom ?? 0}/${o.realmTo ?? 0}`);
  }
  const extraRules = s.rules.filter((o) => o.owned && !usedRules.has(o)).map((o) => `from ${o.src ?? 'all'} lookup ${o.table ?? '?'}`);
  add('rules', "rackstrap's, not in the description", 'none', extraRules.join(', ') || undefined);
  return out;
}

/** The comparison for people: one line per subject, with every field it was checked on; differences spelled out. */
export function renderChecks(filer: string, checks: KernelCheck[]): string {
  const bySubject = new Map<string, KernelCheck[]>();
  for (const c of checks) bySubject.set(c.subject, [...(bySubject.get(c.subject) ?? []), c]);
  const bad = checks.filter((c) => !c.ok).length;
  const lines = [`${filer}: the kernel against the description, ${checks.length} fields: ${bad === 0 ? 'all match' : `${bad} differ`}`];
  const width = Math.min(40, Math.max(...[...bySubject.keys()].map((k) => k.length)));
  for (const [subject, cs] of bySubject) {
    const wrong = cs.filter((c) => !c.ok);
    const shown = cs.filter((c) => !(c.field.startsWith("rackstrap's") && c.ok)).map((c) => (c.field === 'on' ? `on ${c.want}` : `${c.field} ${c.want}`));
    if (wrong.length === 0) {
      if (shown.length > 0) lines.push(`  ok    ${subject.padEnd(width)}  ${shown.join(', ')}`);
    } else {
      for (const c of wrong) lines.push(`  DIFF  ${subject.padEnd(width)}  ${c.field}: the description means ${c.want}, the kernel has ${c.got}`);
    }
  }
  return lines.join('\n');
}

/** Subnet helpers for messages: the first router of the subnet an address is in. */
export function firstRouterOf(loaded: LoadedCluster, address: string): string | undefined {
  const s = subnetsOf(loaded).find((x) => x.family === 4 && contains(x.network, x.prefixLength, address));
  return s?.routers[0];
}
