// What the kernel holds now, read with iproute2's JSON output (`ip -N -j ...`) and `iptables -S`,
// zod-parsed (unknown fields are ignored) into an ObservedState that plan() compares against.
// `-N` prints protocols, scopes and tables as numbers, so /etc/iproute2 name files cannot change
// what we parse.
import { z } from 'zod';
import { RackstrapError } from '../errors.js';
import {
  isOwnedLinkAlias,
  RS_ADDR_METRIC,
  RS_CHAIN_IN,
  RS_CHAIN_OUT,
  RS_JUMP_COMMENT,
  RS_ROUTE_PROTO,
  RT_TABLE_DEFAULT,
  RT_TABLE_LOCAL,
  RT_TABLE_MAIN,
} from './ownership.js';
import type { Runner } from './runner.js';

// ---- the observed state -----------------------------------------------------------------------

export const ObservedBond = z.object({
  mode: z.string(),
  miimon: z.int().optional(),
  lacpRate: z.string().optional(),
  hashPolicy: z.string().optional(),
  primary: z.string().optional(),
});

export const ObservedLink = z.object({
  ifname: z.string(),
  ifindex: z.int(),
  /** linkinfo.info_kind: bond, vlan, macvlan, veth, ... ; absent for plain NICs. */
  kind: z.string().optional(),
  /** Lower device of a VLAN or macvlan. */
  parent: z.string().optional(),
  master: z.string().optional(),
  up: z.boolean(),
  /** Carrier (LOWER_UP); absent in fixtures recorded before it was read. */
  carrier: z.boolean().optional(),
  mtu: z.int(),
  mac: z.string().optional(),
  ifalias: z.string().optional(),
  /** Created by rackstrap (ifalias "rackstrap:..."). */
  owned: z.boolean(),
  bond: ObservedBond.optional(),
  vlanId: z.int().optional(),
  macvlanMode: z.string().optional(),
  /** Bond slave details, when this link is one (info_slave_data). */
  slave: z
    .object({ state: z.string().optional(), miiStatus: z.string().optional(), adPortState: z.array(z.string()).optional() })
    .optional(),
});
export type ObservedLink = z.infer<typeof ObservedLink>;

export const ObservedAddress = z.object({
  dev: z.string(),
  local: z.string(),
  prefixlen: z.int(),
  broadcast: z.string().optional(),
  metric: z.int().optional(),
  noprefixroute: z.boolean(),
  owned: z.boolean(),
});
export type ObservedAddress = z.infer<typeof ObservedAddress>;

export const ObservedRoute = z.object({
  table: z.int(),
  /** "default" or "a.b.c.d/len" (host routes get their /32 back). */
  dst: z.string(),
  /** rtm_type: 1 unicast, 2 local, 3 broadcast, ... */
  type: z.int(),
  gateway: z.string().optional(),
  dev: z.string().optional(),
  protocol: z.int(),
  prefsrc: z.string().optional(),
  metric: z.int(),
  realm: z.int().optional(),
  owned: z.boolean(),
});
export type ObservedRoute = z.infer<typeof ObservedRoute>;

export const ObservedRule = z.object({
  priority: z.int(),
  src: z.string().optional(),
  srclen: z.int().optional(),
  dst: z.string().optional(),
  dstlen: z.int().optional(),
  iif: z.string().optional(),
  oif: z.string().optional(),
  table: z.int().optional(),
  realmFrom: z.int().optional(),
  realmTo: z.int().optional(),
  protocol: z.int(),
  owned: z.boolean(),
});
export type ObservedRule = z.infer<typeof ObservedRule>;

export const IptablesRule = z.object({ chain: z.string(), spec: z.array(z.string()) });
export type IptablesRule = z.infer<typeof IptablesRule>;

export const ObservedIptables = z.discriminatedUnion('available', [
  z.object({
    available: z.literal(true),
    /** User chains that exist (`-N`). */
    chains: z.array(z.string()),
    /** Every `-A` rule of the filter table. */
    rules: z.array(IptablesRule),
  }),
  z.object({ available: z.literal(false), reason: z.string() }),
]);
export type ObservedIptables = z.infer<typeof ObservedIptables>;

export const ObservedState = z.object({
  links: z.array(ObservedLink),
  addresses: z.array(ObservedAddress),
  routes: z.array(ObservedRoute),
  rules: z.array(ObservedRule),
  iptables: ObservedIptables,
});
export type ObservedState = z.infer<typeof ObservedState>;

// ---- raw iproute2 JSON ------------------------------------------------------------------------

/** A number that `ip -N` may print as a string ("254"), or a name without -N ("main"). */
const Num = (names: Record<string, number> = {}) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    if (typeof v === 'number') return v;
    if (/^\d+$/.test(v)) return Number(v);
    const n = names[v];
    if (n === undefined) {
      ctx.addIssue({ code: 'custom', message: `unknown name "${v}"` });
      return z.NEVER;
    }
    return n;
  });

const TABLE_NAMES = { main: RT_TABLE_MAIN, local: RT_TABLE_LOCAL, default: RT_TABLE_DEFAULT, unspec: 0 };
const PROTO_NAMES = { unspec: 0, redirect: 1, kernel: 2, boot: 3, static: 4, dhcp: 16 };
const TYPE_NAMES = { unicast: 1, local: 2, broadcast: 3, anycast: 4, multicast: 5, blackhole: 6, unreachable: 7, prohibit: 8, throw: 9, nat: 10 };

const RawLink = z.object({
  ifindex: z.int(),
  ifname: z.string(),
  link: z.string().nullable().optional(),
  master: z.string().optional(),
  flags: z.array(z.string()).default([]),
  mtu: z.int(),
  address: z.string().optional(),
  ifalias: z.string().optional(),
  linkinfo: z
    .object({
      info_kind: z.string().optional(),
      info_data: z.record(z.string(), z.unknown()).optional(),
      info_slave_kind: z.string().optional(),
      info_slave_data: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});

const RawAddrLink = z.object({
  ifname: z.string(),
  addr_info: z
    .array(
      z.object({
        family: z.string(),
        local: z.string().optional(),
        prefixlen: z.int().optional(),
        broadcast: z.string().optional(),
        metric: z.int().optional(),
        noprefixroute: z.boolean().optional(),
      }),
    )
    .default([]),
});

const RawRoute = z.object({
  type: Num(TYPE_NAMES).optional(),
  dst: z.string(),
  gateway: z.string().optional(),
  dev: z.string().optional(),
  table: Num(TABLE_NAMES).optional(),
  protocol: Num(PROTO_NAMES).optional(),
  prefsrc: z.string().optional(),
  metric: z.int().optional(),
  flow: z.object({ from: Num().optional(), to: Num().optional() }).optional(),
});

const RawRule = z.object({
  priority: z.int(),
  src: z.string().optional(),
  srclen: z.int().optional(),
  dst: z.string().optional(),
  dstlen: z.int().optional(),
  iif: z.string().optional(),
  oif: z.string().optional(),
  table: Num(TABLE_NAMES).optional(),
  flow_from: Num().optional(),
  flow_to: Num().optional(),
  protocol: Num(PROTO_NAMES).optional(),
});

/** The raw outputs observe() collects; also the shape of the fixtures under test/fixtures/ip-json. */
export interface RawObservation {
  /** `ip -N -j -d link show` */
  link: unknown;
  /** `ip -N -j addr show` */
  addr: unknown;
  /** `ip -4 -N -j route show table all` */
  route: unknown;
  /** `ip -4 -N -j rule show` */
  rule: unknown;
  /** `iptables -w -S` stdout, or null with the reason it failed. */
  iptables: { ok: true; stdout: string } | { ok: false; reason: string };
}

export const OBSERVE_COMMANDS = {
  link: ['ip', '-N', '-j', '-d', 'link', 'show'],
  addr: ['ip', '-N', '-j', 'addr', 'show'],
  route: ['ip', '-4', '-N', '-j', 'route', 'show', 'table', 'all'],
  rule: ['ip', '-4', '-N', '-j', 'rule', 'show'],
  iptables: ['iptables', '-w', '-S'],
} as const;

export class ObserveError extends RackstrapError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RS_OBSERVE', message, options);
  }
}

/** Reads the kernel's state through the runner (which may target a namespace). */
export async function observe(runner: Runner): Promise<ObservedState> {
  return parseObservation(await observeRaw(runner));
}

export async function observeRaw(runner: Runner): Promise<RawObservation> {
  const json = async (argv: readonly string[]) => {
    const r = await runner.run(argv);
    if (r.exitCode !== 0) throw new ObserveError(`${argv.join(' ')} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
    try {
      return JSON.parse(r.stdout) as unknown;
    } catch (e) {
      throw new ObserveError(`${argv.join(' ')} printed no JSON`, { cause: e });
    }
  };
  const [link, addr, route, rule, ipt] = await Promise.all([
    json(OBSERVE_COMMANDS.link),
    json(OBSERVE_COMMANDS.addr),
    json(OBSERVE_COMMANDS.route),
    json(OBSERVE_COMMANDS.rule),
    runner.run(OBSERVE_COMMANDS.iptables),
  ]);
  const iptables =
    ipt.exitCode === 0
      ? ({ ok: true, stdout: ipt.stdout } as const)
      : ({ ok: false, reason: firstLine(ipt.stderr) || `iptables exited ${ipt.exitCode}` } as const);
  return { link, addr, route, rule, iptables };
}

/** Pure: raw command outputs -> ObservedState. Throws ObserveError naming the field that did not parse. */
export function parseObservation(raw: RawObservation): ObservedState {
  const parse = <T extends z.ZodType>(what: string, schema: T, value: unknown): Array<z.infer<T>> => {
    const r = z.array(schema).safeParse(value);
    if (!r.success) throw new ObserveError(`unexpected output of ${what}: ${z.prettifyError(r.error)}`);
    return r.data as Array<z.infer<T>>;
  };
  const links = parse('ip link', RawLink, raw.link).map(toLink);
  const addresses = parse('ip addr', RawAddrLink, raw.addr).flatMap((l) =>
    l.addr_info
      .filter((a) => a.family === 'inet' && a.local !== undefined && a.prefixlen !== undefined)
      .map((a) => {
        const out: ObservedAddress = {
          dev: l.ifname,
          local: a.local!,
          prefixlen: a.prefixlen!,
          noprefixroute: a.noprefixroute === true,
          owned: a.metric === RS_ADDR_METRIC,
        };
        if (a.broadcast !== undefined) out.broadcast = a.broadcast;
        if (a.metric !== undefined) out.metric = a.metric;
        return out;
      }),
  );
  const routes = parse('ip route', RawRoute, raw.route)
    .filter((r) => !r.dst.includes(':')) // IPv6, should `-4` ever be ignored
    .map((r) => {
      const protocol = r.protocol ?? 0;
      const out: ObservedRoute = {
        table: r.table ?? RT_TABLE_MAIN, // iproute2 omits "table" for main
        dst: r.dst === 'default' || r.dst.includes('/') ? r.dst : `${r.dst}/32`,
        type: r.type ?? 1,
        protocol,
        metric: r.metric ?? 0,
        owned: protocol === RS_ROUTE_PROTO,
      };
      if (r.gateway !== undefined) out.gateway = r.gateway;
      if (r.dev !== undefined) out.dev = r.dev;
      if (r.prefsrc !== undefined) out.prefsrc = r.prefsrc;
      if (r.flow?.to !== undefined) out.realm = r.flow.to;
      return out;
    });
  const rules = parse('ip rule', RawRule, raw.rule).map((r) => {
    const protocol = r.protocol ?? 0;
    const out: ObservedRule = { priority: r.priority, protocol, owned: protocol === RS_ROUTE_PROTO };
    if (r.src !== undefined && r.src !== 'all') {
      out.src = r.src;
      out.srclen = r.srclen ?? 32;
    }
    if (r.dst !== undefined && r.dst !== 'all') {
      out.dst = r.dst;
      out.dstlen = r.dstlen ?? 32;
    }
    if (r.iif !== undefined) out.iif = r.iif;
    if (r.oif !== undefined) out.oif = r.oif;
    if (r.table !== undefined) out.table = r.table;
    if (r.flow_from !== undefined) out.realmFrom = r.flow_from;
    if (r.flow_to !== undefined) out.realmTo = r.flow_to;
    return out;
  });
  const iptables: ObservedIptables = raw.iptables.ok
    ? { available: true, ...parseIptablesSave(raw.iptables.stdout) }
    : { available: false, reason: raw.iptables.reason };
  return { links, addresses, routes, rules, iptables };
}

function toLink(l: z.infer<typeof RawLink>): ObservedLink {
  const info = l.linkinfo;
  const data = info?.info_data ?? {};
  const out: ObservedLink = {
    ifname: l.ifname,
    ifindex: l.ifindex,
    up: l.flags.includes('UP'),
    carrier: l.flags.includes('LOWER_UP'),
    mtu: l.mtu,
    owned: isOwnedLinkAlias(l.ifalias),
  };
  if (info?.info_kind !== undefined) out.kind = info.info_kind;
  if (l.master !== undefined) out.master = l.master;
  if (l.address !== undefined) out.mac = l.address.toLowerCase();
  if (l.ifalias !== undefined) out.ifalias = l.ifalias;
  // "link" is the lower device for stacked kinds, but the peer's name for a veth: only trust it here.
  if ((out.kind === 'vlan' || out.kind === 'macvlan') && typeof l.link === 'string') out.parent = l.link;
  if (out.kind === 'bond') {
    const bond: z.infer<typeof ObservedBond> = { mode: str(data.mode) ?? 'unknown' };
    const miimon = data.miimon;
    if (typeof miimon === 'number') bond.miimon = miimon;
    const lacp = str(data.ad_lacp_rate) ?? str(data.lacp_rate);
    if (lacp !== undefined) bond.lacpRate = lacp;
    const hash = str(data.xmit_hash_policy);
    if (hash !== undefined) bond.hashPolicy = hash;
    const primary = str(data.primary);
    if (primary !== undefined) bond.primary = primary;
    out.bond = bond;
  }
  if (out.kind === 'vlan' && typeof data.id === 'number') out.vlanId = data.id;
  if (out.kind === 'macvlan') {
    const mode = str(data.mode);
    if (mode !== undefined) out.macvlanMode = mode;
  }
  if (info?.info_slave_kind === 'bond') {
    const s = info.info_slave_data ?? {};
    const slave: NonNullable<ObservedLink['slave']> = {};
    const state = str(s.state);
    if (state !== undefined) slave.state = state;
    const mii = str(s.mii_status);
    if (mii !== undefined) slave.miiStatus = mii;
    if (Array.isArray(s.ad_actor_oper_port_state_str)) slave.adPortState = s.ad_actor_oper_port_state_str.map(String);
    out.slave = slave;
  }
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function firstLine(s: string): string {
  return (
    s
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0 && !l.startsWith('# Warning')) ?? ''
  );
}

/** `iptables -S` (filter table) -> user chains and rules, specs tokenized as the shell would. */
export function parseIptablesSave(text: string): { chains: string[]; rules: IptablesRule[] } {
  const chains: string[] = [];
  const rules: IptablesRule[] = [];
  for (const line of text.split('\n')) {
    const words = shellWords(line.trim());
    if (words[0] === '-N' && words[1] !== undefined) chains.push(words[1]);
    else if (words[0] === '-A' && words[1] !== undefined) rules.push({ chain: words[1], spec: words.slice(2) });
  }
  return { chains, rules };
}

/** iptables prints comments in double quotes with \" and \\ escaped (xt_comment's save()). */
function shellWords(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ') i++;
    if (i >= line.length) break;
    let word = '';
    if (line[i] === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) i++;
        word += line[i++];
      }
      i++;
    } else {
      while (i < line.length && line[i] !== ' ') word += line[i++];
    }
    out.push(word);
  }
  return out;
}

/** Rules of ours in INPUT/OUTPUT that jump to our counting chains. */
export function isOwnedJump(rule: IptablesRule): boolean {
  const j = rule.spec.indexOf('-j');
  const target = j >= 0 ? rule.spec[j + 1] : undefined;
  return (
    (rule.chain === 'INPUT' && target === RS_CHAIN_IN) ||
    (rule.chain === 'OUTPUT' && target === RS_CHAIN_OUT)
  ) && rule.spec.join(' ').includes(`--comment ${RS_JUMP_COMMENT}`);
}
