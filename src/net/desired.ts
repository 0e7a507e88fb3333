// The desired network state of one filer: what the kernel should hold once rackstrap is done. Built
// from the filer's Topology (option 43), the map of its NIC names, and the addresses DHCP gave each
// alias (seed 003 §5.2; seed 000 "Virtual Server Enable Operation"). Pure: no kernel access here.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, type Problem } from '../errors.js';
import { isAddressable, normalizeName, parseInterfaceName } from '../options/names.js';
import { BondMode, HashPolicy, IfName, LacpRate, Mtu, TableId, Topology } from '../options/schema.js';
import { type Feature } from './features.js';
import { broadcastOf, contains, networkOf, parseHostPrefix } from './ipv4.js';
import { RS_RULE_PRIORITY, RT_TABLE_MAIN, type LinkRole } from './ownership.js';

/** A Linux interface name: 1-15 bytes (IFNAMSIZ - 1), no whitespace, '/' or ':' (dev_valid_name). */
export const KernelIfName = z.string().regex(/^[^\s/:]{1,15}$/, 'must be a Linux interface name (1-15 characters, no spaces, / or :)');
const Ipv4 = z.ipv4({ error: 'must be an IPv4 address' });
const HostPrefix4 = z
  .string()
  .refine((s) => parseHostPrefix(s) !== undefined, 'must be an IPv4 address with its prefix length, like 10.1.1.2/24');

// ---- input ------------------------------------------------------------------------------------

export const FilerAddressInput = z.strictObject({
  /** mgmt#/san# (or a VLAN on one): the interface the address goes on. */
  alias: IfName,
  address: HostPrefix4,
  /** Defaults to the subnet's directed broadcast. */
  broadcast: Ipv4.optional(),
  /** The subnet's router (DHCP option 3); the lowest-numbered mgmt# with one gives the default route. */
  router: Ipv4.optional(),
});

export const VserverAddressInput = z.strictObject({
  alias: IfName,
  address: HostPrefix4,
  broadcast: Ipv4.optional(),
});

export const VserverInput = z.strictObject({
  name: z.string().min(1),
  /** Routing table and realm: seed 000's VSID. */
  table: TableId,
  gateway: Ipv4.optional(),
  addresses: z.array(VserverAddressInput).default([]),
});

export const DesiredInput = z.strictObject({
  topology: Topology,
  /**
   * Cluster ID; salts the alias MACs so that two clusters that both name a filer
   * "Filer1" do not collide on a shared segment. Pass the same value on every run (the bootstrap
   * and the cache path both have it), or the MACs change.
   */
  clusterId: z.string().optional(),
  /** eth# -> kernel interface name; an eth# not listed keeps its own name. */
  nics: z.record(IfName, KernelIfName).default({}),
  filerAddresses: z.array(FilerAddressInput).default([]),
  vservers: z.array(VserverInput).default([]),
});
export type DesiredInput = z.input<typeof DesiredInput>;

// ---- the desired state ------------------------------------------------------------------------

const LinkBase = {
  /** The topology's name (eth0, bond0, data0): what messages show. */
  name: z.string(),
  /** The kernel's name: equals `name` except for eth#, which the NIC map translates. */
  ifname: KernelIfName,
  mtu: Mtu.optional(),
};

export const DesiredEthernet = z.object({ kind: z.literal('ethernet'), ...LinkBase });
export const DesiredBond = z.object({
  kind: z.literal('bond'),
  ...LinkBase,
  /** bond# or fail# (a failover group is an active-backup bond on Linux). */
  role: z.enum(['bond', 'failover']),
  mode: BondMode,
  miimon: z.int().min(0),
  lacpRate: LacpRate.optional(),
  hashPolicy: HashPolicy.optional(),
  primary: KernelIfName.optional(),
  members: z.array(KernelIfName),
});
export const DesiredVlan = z.object({ kind: z.literal('vlan'), ...LinkBase, parent: KernelIfName, vlanId: z.int().min(1).max(4094) });
export const DesiredMacvlan = z.object({ kind: z.literal('macvlan'), ...LinkBase, parent: KernelIfName, mac: z.string() });
export const DesiredLink = z.discriminatedUnion('kind', [DesiredEthernet, DesiredBond, DesiredVlan, DesiredMacvlan]);
export type DesiredLink = z.infer<typeof DesiredLink>;

export const DesiredAddress = z.object({
  dev: KernelIfName,
  local: Ipv4,
  prefixlen: z.int().min(0).max(32),
  broadcast: Ipv4.optional(),
  /** Filer addresses keep the kernel's connected route in main; virtual-server ones use noprefixroute. */
  prefixRoute: z.boolean(),
  /** "filer Filer1" or the virtual server's name: for messages. */
  owner: z.string(),
});
export type DesiredAddress = z.infer<typeof DesiredAddress>;

export const DesiredRoute = z.object({
  table: z.int(),
  /** "default" or "a.b.c.d/len". */
  dst: z.string(),
  gateway: Ipv4.optional(),
  dev: KernelIfName,
  prefsrc: Ipv4.optional(),
  realm: z.int().optional(),
  owner: z.string(),
});
export type DesiredRoute = z.infer<typeof DesiredRoute>;

export const DesiredRule = z.object({
  priority: z.int(),
  src: Ipv4,
  srclen: z.int().min(0).max(32),
  table: z.int(),
  /** Rule realms FROM/TO (FRA_FLOW). */
  realmFrom: z.int(),
  realmTo: z.int(),
  owner: z.string(),
});
export type DesiredRule = z.infer<typeof DesiredRule>;

/** One accounting counter pair (in and out) for a virtual-server address. */
export const DesiredCounter = z.object({ server: z.string(), address: Ipv4 });
export type DesiredCounter = z.infer<typeof DesiredCounter>;

export const DesiredState = z.object({
  filer: z.string(),
  generation: z.int(),
  /** Bottom-up: every link comes after what it sits on and after its members. */
  links: z.array(DesiredLink),
  addresses: z.array(DesiredAddress),
  /** Connected routes before the gateway routes that need them. */
  routes: z.array(DesiredRoute),
  rules: z.array(DesiredRule),
  counters: z.array(DesiredCounter),
});
export type DesiredState = z.infer<typeof DesiredState>;

/** A state with nothing in it: planning towards it is teardown. */
export const EMPTY_DESIRED: DesiredState = { filer: '', generation: 1, links: [], addresses: [], routes: [], rules: [], counters: [] };

/**
 * The switch that governs a link; physical NICs have none (they are never created or removed).
 * It is the link's role: every role (bond, failover, vlan, alias) is also a feature switch.
 */
export function linkFeature(link: DesiredLink): Feature | undefined {
  return linkRole(link);
}

export function linkRole(link: DesiredLink): LinkRole | undefined {
  switch (link.kind) {
    case 'ethernet':
      return undefined;
    case 'bond':
      return link.role;
    case 'vlan':
      return 'vlan';
    case 'macvlan':
      return 'alias';
  }
}

/**
 * A stable, locally administered unicast MAC for an alias: the same on every boot, so switch
 * forwarding tables and peers' ARP caches stay valid across reboots and failovers of the filer.
 * IEEE 802: bit 0 of the first octet clear = unicast, bit 1 set = locally administered.
 */
export function aliasMac(filer: string, alias: string, clusterId = ''): string {
  const digest = createHash('sha256').update(`rackstrap-alias-mac\0${clusterId.toLowerCase()}\0${filer}\0${alias}`).digest();
  const bytes = [...digest.subarray(0, 6)];
  bytes[0] = (bytes[0]! & 0xfc) | 0x02;
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** eth2 < eth10; names compare by their text and numeric runs. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

const DEFAULT_MIIMON_MS = 100; // without link monitoring a bond never notices a dead member

interface LinkDef {
  name: string;
  deps: string[];
  make: () => DesiredLink;
}

/** Builds and checks the desired state; every problem found is reported at once as a ConfigError. */
export function buildDesiredState(raw: DesiredInput): DesiredState {
  const parsed = DesiredInput.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(input)', rule: i.message, severity: 'error' as const })),
    );
  }
  const input = parsed.data;
  const problems: Problem[] = [];
  const problem = (field: string, rule: string) => problems.push({ field, rule, severity: 'error' });
  const { topology } = input;
  const stack = topology.stack;
  const nics = new Map(Object.entries(input.nics).map(([k, v]) => [normalizeName(k), v]));
  const mtu = new Map(Object.entries(stack.mtu).map(([k, v]) => [normalizeName(k), v]));
  const ifnameOf = (name: string) => (kindOf(name) === 'ethernet' ? nics.get(name) ?? name : name);
  const withMtu = <T extends object>(name: string, link: T): T & { mtu?: number } => {
    const m = mtu.get(name);
    return m === undefined ? link : { ...link, mtu: m };
  };

  const defs = new Map<string, LinkDef>();
  const define = (field: string, name: string, want: ReturnType<typeof kindOf>, deps: string[], make: () => DesiredLink) => {
    if (kindOf(name) !== want) problem(field, `"${name}" is not a ${want} name`);
    if (defs.has(name)) problem(field, `"${name}" is defined twice`);
    defs.set(name, { name, deps, make });
  };

  const memberOf = new Map<string, string>();
  const claimMembers = (field: string, owner: string, members: string[]) => {
    for (const m of members) {
      const prev = memberOf.get(m);
      if (prev !== undefined) problem(field, `${m} is already a member of ${prev}`);
      memberOf.set(m, owner);
    }
  };

  for (const [rawName, bond] of sortedEntries(stack.bonds)) {
    const name = normalizeName(rawName);
    const field = `topology.stack.bonds.${rawName}`;
    const members = bond.members.map(normalizeName);
    claimMembers(field, name, members);
    checkBondOptions(field, bond.mode, bond, problem);
    const primary = bond.primary === undefined ? undefined : normalizeName(bond.primary);
    if (primary !== undefined && !members.includes(primary)) problem(`${field}.primary`, `${primary} is not one of its members`);
    define(field, name, 'bond', members, () =>
      withMtu(name, {
        kind: 'bond',
        name,
        ifname: name,
        role: 'bond',
        mode: bond.mode,
        miimon: bond.miimon ?? DEFAULT_MIIMON_MS,
        ...(bond.lacpRate === undefined ? {} : { lacpRate: bond.lacpRate }),
        ...(bond.hashPolicy === undefined ? {} : { hashPolicy: bond.hashPolicy }),
        ...(primary === undefined ? {} : { primary: ifnameOf(primary) }),
        members: members.map(ifnameOf),
      }),
    );
  }
  for (const [rawName, fail] of sortedEntries(stack.failovers)) {
    const name = normalizeName(rawName);
    const field = `topology.stack.failovers.${rawName}`;
    const members = fail.members.map(normalizeName);
    claimMembers(field, name, members);
    const primary = fail.primary === undefined ? undefined : normalizeName(fail.primary);
    if (primary !== undefined && !members.includes(primary)) problem(`${field}.primary`, `${primary} is not one of its members`);
    define(field, name, 'failover', members, () =>
      withMtu(name, {
        kind: 'bond',
        name,
        ifname: name,
        role: 'failover',
        mode: 'active-backup',
        miimon: fail.miimon ?? DEFAULT_MIIMON_MS,
        ...(primary === undefined ? {} : { primary: ifnameOf(primary) }),
        members: members.map(ifnameOf),
      }),
    );
  }
  for (const rawName of [...stack.vlans].sort(naturalCompare)) {
    const name = normalizeName(rawName);
    const parsedName = parseInterfaceName(name);
    const field = `topology.stack.vlans.${rawName}`;
    if (!parsedName.ok || parsedName.value.kind !== 'vlan') {
      problem(field, parsedName.ok ? `"${name}" is not a VLAN name (<parent>.<vlan id>)` : parsedName.reason);
      continue;
    }
    const { parent, vlanId } = parsedName.value;
    define(field, name, 'vlan', [parent], () => withMtu(name, { kind: 'vlan', name, ifname: name, parent: ifnameOf(parent), vlanId }));
  }
  for (const [rawName, rawParent] of sortedEntries(stack.aliases)) {
    const name = normalizeName(rawName);
    const parent = normalizeName(rawParent);
    define(`topology.stack.aliases.${rawName}`, name, 'alias', [parent], () =>
      withMtu(name, { kind: 'macvlan', name, ifname: name, parent: ifnameOf(parent), mac: aliasMac(topology.filer, name, input.clusterId) }),
    );
  }

  // Bottom-up order by depth-first search; physical NICs appear where first needed.
  const links: DesiredLink[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, from: string) => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') {
      problem(`topology.stack`, `${from} and ${name} depend on each other`);
      return;
    }
    state.set(name, 'visiting');
    const def = defs.get(name);
    if (def === undefined) {
      if (kindOf(name) === 'ethernet') {
        links.push(withMtu(name, { kind: 'ethernet', name, ifname: ifnameOf(name) }));
      } else {
        problem(`topology.stack`, `${from} uses ${name}, which the stack does not define`);
      }
    } else {
      for (const d of def.deps) visit(d, name);
      links.push(def.make());
    }
    state.set(name, 'done');
  };
  for (const name of defs.keys()) visit(name, name);
  for (const name of mtu.keys()) {
    if (!state.has(name)) problem(`topology.stack.mtu.${name}`, `${name} is not part of the stack`);
  }

  const linkNames = new Map(links.map((l) => [l.name, l]));
  const addresses: DesiredAddress[] = [];
  const seen = new Map<string, string>();
  const addAddress = (field: string, alias: string, text: string, broadcast: string | undefined, prefixRoute: boolean, owner: string) => {
    const hp = parseHostPrefix(text)!;
    const name = normalizeName(alias);
    const link = linkNames.get(name);
    if (link === undefined) problem(field, `${name} is not an interface of this filer's stack`);
    else if (!isAddressable(name)) problem(field, `${name} cannot carry addresses: only aliases (mgmt#, data#, san#) do`);
    const prev = seen.get(hp.address);
    if (prev !== undefined) problem(field, `${hp.address} is already given to ${prev}; no two aliases may share an address`);
    seen.set(hp.address, `${owner} on ${name}`);
    const bcast = broadcast ?? broadcastOf(hp.address, hp.prefixlen);
    const out: DesiredAddress = { dev: link?.ifname ?? name, local: hp.address, prefixlen: hp.prefixlen, prefixRoute, owner };
    if (bcast !== undefined) out.broadcast = bcast;
    addresses.push(out);
    return { ...hp, dev: out.dev };
  };

  const routes: DesiredRoute[] = [];
  const rules: DesiredRule[] = [];
  const counters: DesiredCounter[] = [];

  // Filer addresses: main table; the default route goes via the lowest-numbered mgmt# router.
  let defaultRoute: { via: string; dev: string; rank: number } | undefined;
  input.filerAddresses.forEach((fa, i) => {
    const field = `filerAddresses.${i}`;
    const a = addAddress(field, fa.alias, fa.address, fa.broadcast, true, `filer ${topology.filer}`);
    if (fa.router === undefined) return;
    if (!contains(a.address, a.prefixlen, fa.router)) {
      problem(`${field}.router`, `router ${fa.router} is outside ${networkOf(a.address, a.prefixlen)}/${a.prefixlen}`);
      return;
    }
    const p = parseInterfaceName(normalizeName(fa.alias));
    if (!p.ok || p.value.kind !== 'alias' || p.value.role !== 'mgmt') return;
    const rank = p.value.index;
    if (defaultRoute === undefined || rank < defaultRoute.rank) defaultRoute = { via: fa.router, dev: a.dev, rank };
  });
  if (defaultRoute !== undefined) {
    routes.push({ table: RT_TABLE_MAIN, dst: 'default', gateway: defaultRoute.via, dev: defaultRoute.dev, owner: `filer ${topology.filer}` });
  }

  // Virtual servers: seed 000 "Virtual Server Enable Operation" (and "Route Setup"). Servers may
  // share a routing table: the table is one object, with one default route that belongs to the
  // table (added once, after every server's connected routes), not to each server.
  const tableDefaults = new Map<number, { gateway: string; dev: string; servers: string[] }>();
  input.vservers.forEach((vs, i) => {
    const field = `vservers.${i}`;
    const placed = vs.addresses.map((va, j) => addAddress(`${field}.addresses.${j}`, va.alias, va.address, va.broadcast, false, vs.name));
    for (const a of placed) {
      routes.push({
        table: vs.table,
        dst: `${networkOf(a.address, a.prefixlen)}/${a.prefixlen}`,
        dev: a.dev,
        prefsrc: a.address,
        realm: vs.table,
        owner: vs.name,
      });
    }
    if (vs.gateway !== undefined) {
      const on = placed.find((a) => contains(a.address, a.prefixlen, vs.gateway!));
      const shared = tableDefaults.get(vs.table);
      if (on === undefined) problem(`${field}.gateway`, `gateway ${vs.gateway} of ${vs.name} is on none of its subnets`);
      else if (shared === undefined) tableDefaults.set(vs.table, { gateway: vs.gateway, dev: on.dev, servers: [vs.name] });
      else if (shared.gateway !== vs.gateway) {
        problem(`${field}.gateway`, `${vs.name} shares table ${vs.table} with ${shared.servers.join(', ')}, whose gateway is ${shared.gateway}, not ${vs.gateway}: one table has one default route`);
      } else shared.servers.push(vs.name);
    }
    // One rule per server address: `from IP table VSID realms VSID/VSID`. Seed 000 also adds
    // `from NET to IP iif DEV table VSID ...`; it is left out on purpose. Packets addressed to the
    // server match rule 0 (the local table) before any other rule, so a rule keyed on `to IP` is
    // never consulted for them (it would only matter when forwarding, which a filer does not).
    // `from IP` is consulted for all the server sends and, through the reverse-path lookup of
    // what it receives (source and destination swapped), tags incoming packets with the server's
    // realm as well: measured in /proc/net/rt_acct, realm 1 counted both directions with this
    // rule alone.
    for (const a of placed) {
      rules.push({ priority: RS_RULE_PRIORITY, src: a.address, srclen: 32, table: vs.table, realmFrom: vs.table, realmTo: vs.table, owner: vs.name });
      counters.push({ server: vs.name, address: a.address });
    }
  });

  for (const [table, t] of tableDefaults) {
    routes.push({ table, dst: 'default', gateway: t.gateway, dev: t.dev, realm: table, owner: t.servers.length === 1 ? t.servers[0]! : `table ${table} (${t.servers.join(', ')})` });
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return { filer: topology.filer, generation: topology.generation, links, addresses, routes, rules, counters };
}

function kindOf(name: string) {
  const r = parseInterfaceName(name);
  return r.ok ? r.value.kind : undefined;
}

function sortedEntries<T>(record: Record<string, T>): Array<[string, T]> {
  return Object.entries(record).sort(([a], [b]) => naturalCompare(a, b));
}

// Documentation/networking/bonding.rst: which options each mode accepts.
function checkBondOptions(
  field: string,
  mode: z.infer<typeof BondMode>,
  bond: { lacpRate?: unknown; hashPolicy?: unknown; primary?: unknown },
  problem: (field: string, rule: string) => void,
) {
  if (bond.lacpRate !== undefined && mode !== '802.3ad') problem(`${field}.lacpRate`, `lacpRate applies to mode 802.3ad only, not ${mode}`);
  if (bond.hashPolicy !== undefined && !['balance-xor', '802.3ad', 'balance-tlb'].includes(mode)) {
    problem(`${field}.hashPolicy`, `hashPolicy applies to balance-xor, 802.3ad and balance-tlb, not ${mode}`);
  }
  if (bond.primary !== undefined && !['active-backup', 'balance-tlb', 'balance-alb'].includes(mode)) {
    problem(`${field}.primary`, `primary applies to active-backup, balance-tlb and balance-alb, not ${mode}`);
  }
}
