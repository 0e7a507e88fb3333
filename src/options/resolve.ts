// Views of a loaded cluster for the parts that serve it: one filer's topology (what option 43
// carries, §5.2.6.2), every identifier with its address and DHCP scope (what a DHCP server
// reserves, §5.2.6.3, §5.11), the subnets with scope inheritance applied, and where each virtual
// server can run.
import { RackstrapError } from '../errors.js';
import type { Topology, TopologyMysql, TopologyVserver } from './schema.js';
import type { LoadedCluster } from './load.js';
import type { ResolvedFiler } from './normalize.js';
import { filerIdentifier, mysqlIdentifier, topologyKey, vserverIdentifier } from './identifiers.js';
import { contains, formatIp, netmaskOf, parseCidr, parseIp, PrefixIndex, type Cidr, type Family } from './rules/ip.js';
import { findFiler, placeVservers, type Placement } from './rules/placement.js';
import { firstOnLinkRouter, type AddressFacts } from './wire/address-tags.js';

export type { Placement, Exclusion } from './rules/placement.js';

/** A subnet with the scope's defaults applied (a subnet's own value wins; lists replace, not merge). */
export interface ResolvedSubnet {
  /** As written: 10.1.1.0/24. */
  prefix: string;
  family: Family;
  /** Network address: 10.1.1.0. */
  network: string;
  prefixLength: number;
  /** IPv4 only: 255.255.255.0. */
  netmask: string | undefined;
  routers: string[];
  dns: string[];
  ntp: string[];
  domain: string | undefined;
  /** Seconds. */
  leaseTime: number;
  pool: { start: string; end: string } | undefined;
  bootstrap: { start: string; end: string } | undefined;
}

interface ReservationBase {
  /** The DHCP client identifier text (option 61). */
  identifier: string;
}
export interface AddressReservation extends ReservationBase {
  address: string;
  family: Family;
  alias: string;
  /** The declared subnet the address falls in (validation guarantees there is one). */
  subnet: ResolvedSubnet;
}
export interface FilerReservation extends AddressReservation {
  kind: 'filer';
  filer: string;
}
export interface VserverReservation extends AddressReservation {
  kind: 'vserver';
  vserver: string;
  instance: number;
  /** Filer that brings it up at bootstrap, if any. */
  home: string | undefined;
}
export interface MysqlReservation extends AddressReservation {
  kind: 'mysql';
  role: string;
  home: string | undefined;
}
/** The topology request of one filer: no fixed address, answered with option 43. */
export interface TopologyReservation extends ReservationBase {
  kind: 'topology';
  filer: string;
  baseMac: string;
}
export type Reservation = FilerReservation | VserverReservation | MysqlReservation | TopologyReservation;

function getFiler(loaded: LoadedCluster, name: string): ResolvedFiler {
  const f = findFiler(loaded.filers, name);
  if (!f) throw new RackstrapError('RS_NO_FILER', `no filer named ${name} in ${loaded.file} (filers: ${[...loaded.filers.keys()].join(', ')})`);
  return f;
}

/** Instance keys are strings in YAML maps; numeric order is what an admin expects. */
function instancesOf(instances: Record<string, string>): Array<[number, string]> {
  return Object.entries(instances)
    .map(([n, a]) => [Number(n), a] as [number, string])
    .sort((a, b) => a[0] - b[0]);
}

/** One filer's topology: its stack, and the virtual servers and MySQL roles whose home it is. */
export function topologyFor(loaded: LoadedCluster, filerName: string): Topology {
  const f = getFiler(loaded, filerName);
  const d = loaded.description;
  const vservers: TopologyVserver[] = [];
  for (const [name, v] of Object.entries(d.vservers)) {
    if (v.home === undefined || findFiler(loaded.filers, v.home)?.name !== f.name) continue;
    // Option 43 is DHCPv4's: only the instances DHCPv4 can serve are asked for. An IPv6 address
    // is reported ("IPv6: not served by DHCPv4 yet"), never requested, so the agent does not wait
    // for it.
    const addresses = Object.entries(v.addresses).flatMap(([alias, inst]) =>
      instancesOf(inst).filter(([, address]) => parseIp(address)?.family !== 6).map(([instance]) => ({ alias, instance })),
    );
    // IPv4 only: the agent asks DHCPv4, and a v6 default route has nothing to reach it by yet.
    const gateway = v.gateway !== undefined && parseIp(v.gateway)?.family === 4 ? v.gateway : undefined;
    if (addresses.length > 0) vservers.push({ name, table: v.table, ...(gateway === undefined ? {} : { gateway }), addresses });
  }
  const mysql: TopologyMysql[] = [];
  for (const [role, m] of Object.entries(d.mysql)) {
    if (m.home === undefined || findFiler(loaded.filers, m.home)?.name !== f.name) continue;
    const aliases = Object.entries(m.addresses).filter(([, address]) => parseIp(address)?.family !== 6).map(([alias]) => alias);
    if (aliases.length > 0) mysql.push({ role, aliases });
  }
  // The IPv6 addresses left out above, and the filer's own: counted, so the agent can say once that
  // they are not asked for (rather than leaving an admin to wonder where they went).
  let ipv6 = Object.values(f.addresses).filter((a) => parseIp(a)?.family === 6).length;
  for (const v of Object.values(d.vservers)) {
    if (v.home !== undefined && findFiler(loaded.filers, v.home)?.name === f.name) {
      for (const inst of Object.values(v.addresses)) ipv6 += instancesOf(inst).filter(([, a]) => parseIp(a)?.family === 6).length;
    }
  }
  for (const m of Object.values(d.mysql)) {
    if (m.home !== undefined && findFiler(loaded.filers, m.home)?.name === f.name) ipv6 += Object.values(m.addresses).filter((a) => parseIp(a)?.family === 6).length;
  }
  return { filer: f.name, generation: d.cluster.generation, stack: structuredClone(f.stack), vservers, mysql, ...(ipv6 > 0 ? { ipv6 } : {}) };
}

/** Every subnet of the scope, with the scope's defaults applied. */
export function subnetsOf(loaded: LoadedCluster): ResolvedSubnet[] {
  const scope = loaded.description.scope;
  return scope.subnets.map((s) => {
    const c = parseCidr(s.prefix)!;
    // A subnet's DHCP options carry addresses of its own family only: a DNS or NTP server of the
    // other family cannot go into a DHCPv4 option (nor a DHCPv6 one), so it is left out here, once,
    // for every server and generator; ipv6AddressesOf() lists what was left out, for reports.
    const same = (a: string) => parseIp(a)?.family === c.family;
    return {
      prefix: s.prefix,
      family: c.family,
      network: formatIp(c.family, c.network),
      prefixLength: c.length,
      netmask: netmaskOf(c),
      routers: [...s.routers],
      dns: (s.dns ?? scope.dns ?? []).filter(same),
      ntp: (s.ntp ?? scope.ntp ?? []).filter(same),
      domain: s.domain ?? scope.domain,
      leaseTime: s.leaseTime ?? scope.leaseTime,
      pool: s.pool ? { ...s.pool } : undefined,
      bootstrap: s.bootstrap ? { ...s.bootstrap } : undefined,
    };
  });
}

/**
 * Every IPv6 address of the description (addresses of filers, virtual servers and MySQL roles,
 * and DNS/NTP servers of the scope), each once with where it is written: DHCPv4 serves none of
 * them. For the "IPv6: not served by DHCPv4 yet" reports of validate, explain, gen, serve and the
 * agent.
 */
export function ipv6AddressesOf(loaded: LoadedCluster): Array<{ address: string; where: string }> {
  const out: Array<{ address: string; where: string }> = [];
  const seen = new Set<string>();
  const add = (address: string, where: string) => {
    if (parseIp(address)?.family !== 6 || seen.has(`${address} ${where}`)) return;
    seen.add(`${address} ${where}`);
    out.push({ address, where });
  };
  const scope = loaded.description.scope;
  for (const a of [...(scope.dns ?? []), ...(scope.ntp ?? [])]) add(a, 'scope DNS/NTP server');
  for (const s of scope.subnets) for (const a of [...(s.dns ?? []), ...(s.ntp ?? [])]) add(a, `subnet ${s.prefix} DNS/NTP server`);
  for (const r of reservationsOf(loaded)) if (r.kind !== 'topology' && r.family === 6) add(r.address, r.identifier);
  return out;
}

/** The one line every command prints for the IPv6 addresses of a description. */
export function ipv6Notice(loaded: LoadedCluster): string | undefined {
  const v6 = ipv6AddressesOf(loaded);
  if (v6.length === 0) return undefined;
  return `IPv6: not served by DHCPv4 yet: ${v6.map((x) => `${x.address} (${x.where})`).join(', ')}`;
}

/**
 * Every identifier of the cluster: one topology key per filer, then filer, virtual server and
 * MySQL addresses, each with the subnet (and so the DHCP options) it falls in.
 */
export function reservationsOf(loaded: LoadedCluster): Reservation[] {
  const d = loaded.description;
  const cid = d.cluster.id;
  const subnets = subnetsOf(loaded);
  const index = new PrefixIndex(subnets.map((s, i) => [parseCidr(s.prefix), i] as const));
  const place = (address: string): { family: Family; subnet: ResolvedSubnet } => {
    const ip = parseIp(address);
    const i = ip ? index.find(ip) ?? -1 : -1;
    if (!ip || i < 0) throw new RackstrapError('RS_CONFIG', `${address} is in no declared subnet (the description was not validated?)`);
    return { family: ip.family, subnet: subnets[i]! };
  };
  const out: Reservation[] = [];
  for (const f of loaded.filers.values()) {
    out.push({ kind: 'topology', identifier: topologyKey(cid, f.baseMac), filer: f.name, baseMac: f.baseMac });
  }
  for (const f of loaded.filers.values()) {
    for (const [alias, address] of Object.entries(f.addresses)) {
      out.push({ kind: 'filer', identifier: filerIdentifier(cid, alias, f.name), address, alias, filer: f.name, ...place(address) });
    }
  }
  for (const [name, v] of Object.entries(d.vservers)) {
    for (const [alias, inst] of Object.entries(v.addresses)) {
      for (const [instance, address] of instancesOf(inst)) {
        out.push({ kind: 'vserver', identifier: vserverIdentifier(cid, alias, name, instance), address, alias, vserver: name, instance, home: v.home, ...place(address) });
      }
    }
  }
  for (const [role, m] of Object.entries(d.mysql)) {
    for (const [alias, address] of Object.entries(m.addresses)) {
      out.push({ kind: 'mysql', identifier: mysqlIdentifier(cid, alias, role), address, alias, role, home: m.home, ...place(address) });
    }
  }
  return out;
}

/** Per virtual server: the filers it can run on, and each excluded filer with the aliases it lacks. */
export function placementsOf(loaded: LoadedCluster): Map<string, Placement> {
  return placeVservers(loaded.description, loaded.filers);
}

/**
 * Per filer, what a genuine DHCP server offers for each IPv4 reservation the filer asks for (its
 * own addresses, and those of the virtual servers and MySQL roles homed on it): the facts its
 * topology's address tags cover. One pass over the reservations.
 */
export function addressFactsByFiler(loaded: LoadedCluster, reservations: readonly Reservation[] = reservationsOf(loaded)): Map<string, AddressFacts[]> {
  const out = new Map<string, AddressFacts[]>();
  for (const name of loaded.filers.keys()) out.set(name, []);
  const homeOf = (home: string | undefined): string | undefined => (home === undefined ? undefined : findFiler(loaded.filers, home)?.name);
  for (const r of reservations) {
    if (r.kind === 'topology' || r.family !== 4) continue;
    const filer = r.kind === 'filer' ? r.filer : homeOf(r.home);
    const list = filer === undefined ? undefined : out.get(filer);
    if (list === undefined) continue;
    const routers = r.subnet.routers.filter((a) => parseIp(a)?.family === 4);
    list.push({ identifier: r.identifier, address: r.address, prefixLength: r.subnet.prefixLength, router: firstOnLinkRouter(r.address, r.subnet.prefixLength, routers) });
  }
  return out;
}
