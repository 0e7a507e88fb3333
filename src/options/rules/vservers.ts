// Virtual servers: where they can run, and routing tables (seed 003 §5.2.1, §5.7, §5.9; seed 000).
//  - a filer listed for a server but lacking one of its data# aliases: warning naming both (§5.7
//    "detect that two filers in the same failover group will not have a virtual server failover
//    due to missing interfaces");
//  - no filer can host it, or its home cannot: error;
//  - at most 252 distinct routing tables among the servers that may run on one filer;
//  - servers sharing a table that can meet on a filer share its default route, so their gateways
//    must agree;
//  - the gateway is on one of the server's own subnets, and is not an address of the cluster.
import { error, warning, type Finding, type Path } from './context.js';
import type { ClusterContext } from './cluster-context.js';
import { assignmentsOf } from './assignments.js';
import { contains, ipKey, parseCidr, parseIp, PrefixIndex, ruleWork, type Cidr } from './ip.js';

/** Linux: table ids 1-252 are free for users; 253-255 are default/main/local (§5.9, ref. 14). */
export const MAX_TABLES_PER_FILER = 252;

export function checkVservers(ctx: ClusterContext): Finding[] {
  const out: Finding[] = [];
  const { description: d, placement } = ctx;

  for (const [name, v] of Object.entries(d.vservers)) {
    const p = placement.get(name);
    if (!p || Object.keys(v.addresses).length === 0) continue;
    const base: Path = ['vservers', name];
    if (p.listed) {
      for (const ex of p.excluded) {
        const i = (v.filers ?? []).findIndex((r) => r.toLowerCase() === ex.filer.toLowerCase());
        out.push(warning([...base, 'filers', i], `${ex.filer} lacks ${ex.missing.join(', ')}, so ${name} cannot fail over to it`));
      }
    }
    if (p.candidates.length > 0 && p.hosts.length === 0) {
      const why = p.excluded.map((e) => `${e.filer} lacks ${e.missing.join(', ')}`).join('; ');
      out.push(error(p.listed ? [...base, 'filers'] : [...base, 'addresses'], `no filer can host ${name}: ${why}`));
      continue;
    }
    if (v.home !== undefined) {
      const ex = p.excluded.find((e) => e.filer === v.home);
      if (ex) out.push(error([...base, 'home'], `home ${v.home} lacks ${ex.missing.join(', ')}, so ${name} cannot start there (it can run on ${p.hosts.join(', ')})`));
    }
  }

  // Tables per filer: one pass over the servers, each adding its table to its hosts' sets.
  const perFiler = new Map<string, { tables: Set<number>; servers: number }>();
  for (const [name, v] of Object.entries(d.vservers)) {
    for (const filer of placement.get(name)?.hosts ?? []) {
      const t = perFiler.get(filer) ?? { tables: new Set<number>(), servers: 0 };
      t.servers++;
      t.tables.add(v.table);
      perFiler.set(filer, t);
    }
  }
  for (const filer of ctx.filers.keys()) {
    const t = perFiler.get(filer);
    if (t && t.tables.size > MAX_TABLES_PER_FILER) {
      out.push(error(['filers', filer], `${t.servers} virtual servers with ${t.tables.size} distinct routing tables may run on ${filer}; Linux has ${MAX_TABLES_PER_FILER}`));
    }
  }

  // Shared tables must agree on the default route where the servers can meet. For each table
  // and filer, the first two servers with different gateways are kept (in description order);
  // a server conflicts with the earlier one whose gateway differs from its own on any filer it
  // shares with it. Linear in servers x hosts: comparing pairs was quadratic in the servers of a
  // table (10,000 servers in one table: 50 M pairs, each parsing two gateways).
  type Seen = { index: number; name: string; gateway: string | undefined; key: string; hosts: readonly string[] };
  const firstTwo = new Map<string, [Seen] | [Seen, Seen]>();
  let index = 0;
  for (const [a, va] of Object.entries(d.vservers)) {
    const hosts = placement.get(a)?.hosts ?? [];
    const ga = va.gateway === undefined ? undefined : parseIp(va.gateway);
    const me: Seen = { index: index++, name: a, gateway: va.gateway, key: ga ? ipKey(ga) : 'none', hosts };
    let conflict: Seen | undefined;
    for (const f of hosts) {
      ruleWork.comparisons++;
      const slot = `${va.table} ${f}`;
      const seen = firstTwo.get(slot);
      if (!seen) {
        firstTwo.set(slot, [me]);
        continue;
      }
      // The earliest server that disagrees, as comparing in description order would name.
      const other = seen.find((s) => s.key !== me.key);
      if (other && (!conflict || other.index < conflict.index)) conflict = other;
      if (seen.length === 1 && seen[0].key !== me.key) firstTwo.set(slot, [seen[0], me]);
    }
    if (conflict) {
      const mine = new Set(hosts);
      const meet = conflict.hosts.filter((f) => mine.has(f));
      out.push(
        error(va.gateway !== undefined ? ['vservers', a, 'gateway'] : ['vservers', a, 'table'],
          `${a} shares table ${va.table} with ${conflict.name} and both can run on ${meet.join(', ')}, but their gateways differ (${va.gateway ?? 'none'} vs ${conflict.gateway ?? 'none'}): one table has one default route`),
      );
    }
  }

  // Gateways.
  const cidrs = d.scope.subnets.map((s) => parseCidr(s.prefix)).filter((c): c is Cidr => c !== undefined);
  const subnetIndex = new PrefixIndex(cidrs.map((c) => [c, c] as const));
  const assigned = new Map<string, string>();
  for (const a of assignmentsOf(d)) if (a.ip) assigned.set(ipKey(a.ip), a.label);
  for (const [name, v] of Object.entries(d.vservers)) {
    if (v.gateway === undefined) continue;
    const path: Path = ['vservers', name, 'gateway'];
    const gw = parseIp(v.gateway);
    if (!gw) continue;
    const own = assigned.get(ipKey(gw));
    if (own) {
      out.push(error(path, `gateway ${v.gateway} is ${own}, an address of this cluster, not a router`));
      continue;
    }
    const mine = new Set<Cidr>();
    for (const instances of Object.values(v.addresses)) {
      for (const a of Object.values(instances)) {
        const ip = parseIp(a);
        const c = ip && subnetIndex.find(ip);
        if (c) mine.add(c);
      }
    }
    if (Object.keys(v.addresses).length > 0 && ![...mine].some((c) => contains(c, gw))) {
      const list = [...mine].map((c) => c.text).join(', ') || 'none declared';
      out.push(error(path, `gateway ${v.gateway} is not on any subnet of ${name}'s addresses (${list}): the server could not reach it`));
    }
  }
  return out;
}
