// argv builders for every command a plan may contain: iproute2 (seed 000's operations) and the
// iptables counting rules. Pure; the plan decides which to use, the runner executes them.
import type { DesiredLink } from './desired.js';
import type { ObservedLink } from './observe.js';
import { linkMark, RS_ADDR_METRIC, RS_CHAIN_IN, RS_CHAIN_OUT, RS_JUMP_COMMENT, RS_LINK_ALIAS_PREFIX, RS_ROUTE_PROTO, RT_TABLE_MAIN, type LinkRole } from './ownership.js';

export type Argv = string[];

const mtuArgs = (mtu: number | undefined): string[] => (mtu === undefined ? [] : ['mtu', String(mtu)]);

/** `ip link add` for a virtual link (seed 000 "Aggregated Port Setup", "[vconfig add EDEV VLAN]"). */
export function linkAdd(l: Exclude<DesiredLink, { kind: 'ethernet' }>): Argv {
  switch (l.kind) {
    case 'bond':
      return [
        'ip', 'link', 'add', l.ifname, ...mtuArgs(l.mtu), 'type', 'bond', 'mode', l.mode,
        ...(l.lacpRate === undefined ? [] : ['lacp_rate', l.lacpRate]),
        ...(l.hashPolicy === undefined ? [] : ['xmit_hash_policy', l.hashPolicy]),
        'miimon', String(l.miimon),
        // The primary is passed by name and resolved to an ifindex by iproute2, so it must exist
        // already (it does: members come before their bond); the driver keeps it until enslaved.
        ...(l.primary === undefined ? [] : ['primary', l.primary]),
      ];
    case 'vlan':
      return ['ip', 'link', 'add', 'link', l.parent, 'name', l.ifname, ...mtuArgs(l.mtu), 'type', 'vlan', 'id', String(l.vlanId)];
    case 'macvlan':
      return ['ip', 'link', 'add', 'link', l.parent, 'name', l.ifname, 'address', l.mac, ...mtuArgs(l.mtu), 'type', 'macvlan', 'mode', 'bridge'];
  }
}

export const linkSetAlias = (ifname: string, role: LinkRole): Argv => ['ip', 'link', 'set', 'dev', ifname, 'alias', linkMark(role)];
export const linkUp = (ifname: string): Argv => ['ip', 'link', 'set', 'dev', ifname, 'up'];
export const linkDown = (ifname: string): Argv => ['ip', 'link', 'set', 'dev', ifname, 'down'];
export const linkMaster = (ifname: string, master: string): Argv => ['ip', 'link', 'set', 'dev', ifname, 'master', master];
export const linkNomaster = (ifname: string): Argv => ['ip', 'link', 'set', 'dev', ifname, 'nomaster'];
export const linkMtu = (ifname: string, mtu: number): Argv => ['ip', 'link', 'set', 'dev', ifname, 'mtu', String(mtu)];
export const linkDel = (ifname: string): Argv => ['ip', 'link', 'del', 'dev', ifname];

/**
 * Keep the other addresses of a subnet when its first (primary) address is deleted: by default
 * Linux deletes all secondaries with it, which would take every other virtual server on the alias
 * down when one server leaves. The '/' form keeps dots in names (data0.5) literal for sysctl.
 */
export const promoteSecondaries = (ifnames: readonly string[]): Argv => [
  'sysctl', '-q', '-w', ...ifnames.map((n) => `net/ipv4/conf/${n}/promote_secondaries=1`),
];

/**
 * The commands that bring back a link rackstrap owns exactly as observed: the undo of its removal.
 * Undefined for kinds rackstrap never creates.
 */
export function linkRecreate(o: ObservedLink): Argv[] | undefined {
  const role = roleOf(o.ifalias);
  let add: Argv | undefined;
  if (o.kind === 'bond' && o.bond !== undefined) {
    add = [
      'ip', 'link', 'add', o.ifname, 'mtu', String(o.mtu), 'type', 'bond', 'mode', o.bond.mode,
      ...(o.bond.mode === '802.3ad' && o.bond.lacpRate !== undefined ? ['lacp_rate', o.bond.lacpRate] : []),
      ...(o.bond.hashPolicy !== undefined && ['balance-xor', '802.3ad', 'balance-tlb'].includes(o.bond.mode) ? ['xmit_hash_policy', o.bond.hashPolicy] : []),
      ...(o.bond.miimon === undefined ? [] : ['miimon', String(o.bond.miimon)]),
      ...(o.bond.primary === undefined ? [] : ['primary', o.bond.primary]),
    ];
  } else if (o.kind === 'vlan' && o.parent !== undefined && o.vlanId !== undefined) {
    add = ['ip', 'link', 'add', 'link', o.parent, 'name', o.ifname, 'mtu', String(o.mtu), 'type', 'vlan', 'id', String(o.vlanId)];
  } else if (o.kind === 'macvlan' && o.parent !== undefined && o.mac !== undefined) {
    add = ['ip', 'link', 'add', 'link', o.parent, 'name', o.ifname, 'address', o.mac, 'mtu', String(o.mtu), 'type', 'macvlan', 'mode', o.macvlanMode ?? 'bridge'];
  }
  if (add === undefined) return undefined;
  const out: Argv[] = [add];
  if (o.ifalias !== undefined) out.push(role ? linkSetAlias(o.ifname, role) : ['ip', 'link', 'set', 'dev', o.ifname, 'alias', o.ifalias]);
  if (o.up) out.push(linkUp(o.ifname));
  return out;
}

function roleOf(ifalias: string | undefined): LinkRole | undefined {
  if (ifalias === undefined || !ifalias.startsWith(RS_LINK_ALIAS_PREFIX)) return undefined;
  const r = ifalias.slice(RS_LINK_ALIAS_PREFIX.length);
  return r === 'bond' || r === 'failover' || r === 'vlan' || r === 'alias' ? r : undefined;
}

export interface AddrSpec {
  dev: string;
  local: string;
  prefixlen: number;
  broadcast?: string | undefined;
  noprefixroute: boolean;
  metric?: number | undefined;
}

/** seed 000: `ip addr add IP/NETMB broadcast BDCS dev EVDEV`, marked with our metric. */
export function addrAdd(a: AddrSpec): Argv {
  return [
    'ip', 'addr', 'add', `${a.local}/${a.prefixlen}`,
    ...(a.broadcast === undefined ? [] : ['broadcast', a.broadcast]),
    'dev', a.dev,
    // noprefixroute answers seed 000's "ip route del ... (remove auto generated route?)": the
    // kernel never adds the main-table route that the seed deletes right after.
    ...(a.noprefixroute ? ['noprefixroute'] : []),
    ...(a.metric === undefined ? [] : ['metric', String(a.metric)]),
  ];
}
export const addrAddOwned = (a: Omit<AddrSpec, 'metric'>): Argv => addrAdd({ ...a, metric: RS_ADDR_METRIC });
export const addrDel = (a: { dev: string; local: string; prefixlen: number }): Argv => ['ip', 'addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', a.dev];

export interface RouteSpec {
  table: number;
  dst: string;
  gateway?: string | undefined;
  dev?: string | undefined;
  prefsrc?: string | undefined;
  realm?: number | undefined;
  metric?: number | undefined;
  protocol: number;
}

/** seed 000: `ip route add to NET/LEN src IP dev DEV table VSID realm VSID`, `... default via GW ...`. */
export function route(verb: 'add' | 'append' | 'del', r: RouteSpec): Argv {
  return [
    'ip', 'route', verb, r.dst,
    ...(r.gateway === undefined ? [] : ['via', r.gateway]),
    ...(r.dev === undefined ? [] : ['dev', r.dev]),
    ...(r.prefsrc === undefined ? [] : ['src', r.prefsrc]),
    ...(r.table === RT_TABLE_MAIN ? [] : ['table', String(r.table)]),
    ...(r.realm === undefined ? [] : ['realm', String(r.realm)]),
    'proto', String(r.protocol),
    ...(r.metric === undefined || r.metric === 0 ? [] : ['metric', String(r.metric)]),
  ];
}
export const routeOwned = (verb: 'add' | 'append' | 'del', r: Omit<RouteSpec, 'protocol'>): Argv => route(verb, { ...r, protocol: RS_ROUTE_PROTO });

export interface RuleSpec {
  priority: number;
  src?: string | undefined;
  srclen?: number | undefined;
  dst?: string | undefined;
  dstlen?: number | undefined;
  iif?: string | undefined;
  oif?: string | undefined;
  table?: number | undefined;
  realmFrom?: number | undefined;
  realmTo?: number | undefined;
  protocol: number;
}

const withLen = (a: string, len: number | undefined) => (len === undefined || len === 32 ? a : `${a}/${len}`);

/** seed 000: `ip rule add from ... table VSID realms VSID/VSID`. */
export function rule(verb: 'add' | 'del', r: RuleSpec): Argv {
  const realms =
    r.realmTo === undefined ? [] : ['realms', r.realmFrom === undefined ? String(r.realmTo) : `${r.realmFrom}/${r.realmTo}`];
  return [
    'ip', 'rule', verb, 'priority', String(r.priority),
    ...(r.src === undefined ? [] : ['from', withLen(r.src, r.srclen)]),
    ...(r.dst === undefined ? [] : ['to', withLen(r.dst, r.dstlen)]),
    ...(r.iif === undefined ? [] : ['iif', r.iif]),
    ...(r.oif === undefined ? [] : ['oif', r.oif]),
    ...(r.table === undefined ? [] : ['table', String(r.table)]),
    ...realms,
    'protocol', String(r.protocol),
  ];
}

export const routeFlushCache = (): Argv => ['ip', 'route', 'flush', 'cache'];

// ---- accounting (seed 000: `iptables -A INPUT -m account -aname vs.VSID -aaddr IP`) ----------

export const ipt = (...args: string[]): Argv => ['iptables', '-w', ...args];
export const counterComment = (server: string) => `vs.${server}`;
/** The protocols counted on their own for each address, besides the address's total. */
export const COUNTED_PROTOCOLS = ['tcp', 'udp', 'icmp'] as const;
export type CountedProtocol = (typeof COUNTED_PROTOCOLS)[number];
/**
 * Counting rules have no target: the packet is counted and goes on, so filtering is unchanged.
 * Without `proto` the rule counts everything of the address; with it, that protocol only (the
 * order of the words is the one `iptables -S` prints, so observed rules compare equal).
 */
export const counterSpec = (dir: 'in' | 'out', address: string, server: string, proto?: CountedProtocol): string[] => [
  dir === 'in' ? '-d' : '-s', `${address}/32`, ...(proto === undefined ? [] : ['-p', proto]), '-m', 'comment', '--comment', counterComment(server),
];
export const jumpSpec = (chain: string): string[] => ['-m', 'comment', '--comment', RS_JUMP_COMMENT, '-j', chain];
export const COUNTING_CHAINS = [
  { chain: RS_CHAIN_IN, hook: 'INPUT', dir: 'in' },
  { chain: RS_CHAIN_OUT, hook: 'OUTPUT', dir: 'out' },
] as const;
