// Decoding of the rtnetlink notifications the kernel multicasts when links, addresses, routes and
// rules change (include/uapi/linux/rtnetlink.h, if_link.h, if_addr.h, fib_rules.h). Pure: bytes
// in, typed events out. Only the fields a watcher needs are read; everything is bounds-checked,
// and a message that does not decode is reported as such instead of throwing, so a surprise from
// a newer kernel never stops the watch.

/** Multicast groups (enum rtnetlink_groups). */
export const RTNLGRP = {
  LINK: 1,
  IPV4_IFADDR: 5,
  IPV4_ROUTE: 7,
  IPV4_RULE: 8,
  IPV6_IFADDR: 9,
  IPV6_ROUTE: 11,
  IPV6_RULE: 19,
} as const;

/** Message types (netlink.h NLMSG_*, rtnetlink.h RTM_*). */
const NLMSG_NOOP = 1;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLMSG_OVERRUN = 4;
const RTM_NEWLINK = 16;
const RTM_DELLINK = 17;
const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTM_NEWRULE = 32;
const RTM_DELRULE = 33;

const NLMSG_HDRLEN = 16;
const AF_INET = 2;
const AF_INET6 = 10;

/** net/if.h IFF_* flags carried in ifinfomsg.ifi_flags. */
const IFF_UP = 0x1;
const IFF_LOWER_UP = 0x10000;

/** if_link.h IFLA_*. */
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_MASTER = 10;
const IFLA_OPERSTATE = 16;
const IFLA_LINKINFO = 18;
const IFLA_IFALIAS = 20;
const IFLA_INFO_KIND = 1;
/** RFC 2863 operational states (IF_OPER_*), as `ip` prints them. */
const OPERSTATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'] as const;

/** if_addr.h IFA_*. */
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_RT_PRIORITY = 9;

/** rtnetlink.h RTA_*. */
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_TABLE = 15;

/** fib_rules.h FRA_*. */
const FRA_DST = 1;
const FRA_SRC = 2;
const FRA_IIFNAME = 3;
const FRA_PRIORITY = 6;
const FRA_TABLE = 15;
const FRA_OIFNAME = 17;
const FRA_PROTOCOL = 21;

export type KernelAction = 'new' | 'del';
export type IpFamily = 4 | 6;

export interface LinkEvent {
  kind: 'link';
  action: KernelAction;
  index: number;
  name?: string;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** Carrier (IFF_LOWER_UP). */
  lowerUp: boolean;
  operState?: string;
  mtu?: number;
  /** ifindex of the bond/bridge it is enslaved to. */
  master?: number;
  /** rtnl_link_ops kind: bond, vlan, veth, bridge… */
  linkKind?: string;
  alias?: string;
}

export interface AddressEvent {
  kind: 'address';
  action: KernelAction;
  family: IpFamily;
  index: number;
  address: string;
  prefixLength: number;
  label?: string;
  /** IFA_RT_PRIORITY: rackstrap marks its addresses with a metric. */
  metric?: number;
}

export interface RouteEvent {
  kind: 'route';
  action: KernelAction;
  family: IpFamily;
  table: number;
  /** `default` or `a.b.c.d/len`, as `ip -j route` prints it. */
  destination: string;
  protocol: number;
  /** RTN_* (1 unicast, 2 local, 3 broadcast…). */
  type: number;
  scope: number;
  oif?: number;
  gateway?: string;
  preferredSource?: string;
  metric?: number;
}

export interface RuleEvent {
  kind: 'rule';
  action: KernelAction;
  family: IpFamily;
  table: number;
  priority?: number;
  protocol?: number;
  from?: string;
  to?: string;
  iif?: string;
  oif?: string;
}

export type KernelEvent = LinkEvent | AddressEvent | RouteEvent | RuleEvent;

/** What one datagram held: events, plus the count of messages that were not understood. */
export interface DecodedDatagram {
  events: KernelEvent[];
  /** Messages of a type we do not watch, or truncated/malformed ones. */
  skipped: number;
  /** NLMSG_OVERRUN seen (the kernel says data was lost). */
  overrun: boolean;
}

interface Attr {
  type: number;
  value: Buffer;
}

/** rtattr list in buf[off, end): 2-byte length (header included), 2-byte type, 4-byte aligned. */
function attributes(buf: Buffer, off: number, end: number): Attr[] | undefined {
  const attrs: Attr[] = [];
  while (off + 4 <= end) {
    const len = buf.readUInt16LE(off);
    // NLA_F_NESTED / NLA_F_NET_BYTEORDER live in the top bits of the type.
    const type = buf.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4 || off + len > end) return undefined;
    attrs.push({ type, value: buf.subarray(off + 4, off + len) });
    off += (len + 3) & ~3;
  }
  return attrs;
}

function attr(attrs: Attr[], type: number): Buffer | undefined {
  return attrs.find((a) => a.type === type)?.value;
}

function u32(attrs: Attr[], type: number): number | undefined {
  const v = attr(attrs, type);
  return v && v.length >= 4 ? v.readUInt32LE(0) : undefined;
}

function cString(attrs: Attr[], type: number): string | undefined {
  const v = attr(attrs, type);
  if (v === undefined) return undefined;
  const nul = v.indexOf(0);
  return v.subarray(0, nul < 0 ? v.length : nul).toString('utf8');
}

/** An address attribute as text (`10.0.0.1`, `fe80::1`). */
function formatAddress(v: Buffer | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (v.length === 4) return `${v[0]}.${v[1]}.${v[2]}.${v[3]}`;
  if (v.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(v.readUInt16BE(i).toString(16));
    // Longest run of zero groups becomes "::" (RFC 5952 §4.2).
    let best = -1;
    let bestLen = 0;
    for (let i = 0; i < 8; ) {
      if (groups[i] !== '0') {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && groups[j] === '0') j++;
      if (j - i > bestLen && j - i > 1) {
        best = i;
        bestLen = j - i;
      }
      i = j;
    }
    if (best < 0) return groups.join(':');
    return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
  }
  return undefined;
}

function familyOf(f: number): IpFamily | undefined {
  return f === AF_INET ? 4 : f === AF_INET6 ? 6 : undefined;
}

function decodeLink(action: KernelAction, buf: Buffer, off: number, end: number): LinkEvent | undefined {
  // struct ifinfomsg: family u8, pad u8, type u16, index s32, flags u32, change u32.
  if (off + 16 > end) return undefined;
  const index = buf.readInt32LE(off + 4);
  const flags = buf.readUInt32LE(off + 8);
  const attrs = attributes(buf, off + 16, end);
  if (attrs === undefined) return undefined;
  const ev: LinkEvent = { kind: 'link', action, index, up: (flags & IFF_UP) !== 0, lowerUp: (flags & IFF_LOWER_UP) !== 0 };
  const name = cString(attrs, IFLA_IFNAME);
  if (name !== undefined) ev.name = name;
  const mtu = u32(attrs, IFLA_MTU);
  if (mtu !== undefined) ev.mtu = mtu;
  const master = u32(attrs, IFLA_MASTER);
  if (master !== undefined && master !== 0) ev.master = master;
  const oper = attr(attrs, IFLA_OPERSTATE);
  if (oper !== undefined && oper.length >= 1) ev.operState = OPERSTATES[oper[0]!] ?? String(oper[0]);
  const alias = cString(attrs, IFLA_IFALIAS);
  if (alias !== undefined && alias !== '') ev.alias = alias;
  const info = attr(attrs, IFLA_LINKINFO);
  if (info !== undefined) {
    const nested = attributes(info, 0, info.length);
    const kind = nested && cString(nested, IFLA_INFO_KIND);
    if (kind !== undefined) ev.linkKind = kind;
  }
  return ev;
}

function decodeAddress(action: KernelAction, buf: Buffer, off: number, end: number): AddressEvent | undefined {
  // struct ifaddrmsg: family u8, prefixlen u8, flags u8, scope u8, index u32.
  if (off + 8 > end) return undefined;
  const family = familyOf(buf[off]!);
  if (family === undefined) return undefined;
  const attrs = attributes(buf, off + 8, end);
  if (attrs === undefined) return undefined;
  // IFA_LOCAL is the interface's own address on point-to-point links; IFA_ADDRESS otherwise.
  const address = formatAddress(attr(attrs, IFA_LOCAL) ?? attr(attrs, IFA_ADDRESS));
  if (address === undefined) return undefined;
  const ev: AddressEvent = { kind: 'address', action, family, index: buf.readUInt32LE(off + 4), address, prefixLength: buf[off + 1]! };
  const label = cString(attrs, IFA_LABEL);
  if (label !== undefined) ev.label = label;
  const metric = u32(attrs, IFA_RT_PRIORITY);
  if (metric !== undefined) ev.metric = metric;
  return ev;
}

function decodeRoute(action: KernelAction, buf: Buffer, off: number, end: number): RouteEvent | undefined {
  // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type (u8 each), flags u32.
  if (off + 12 > end) return undefined;
  const family = familyOf(buf[off]!);
  if (family === undefined) return undefined;
  const attrs = attributes(buf, off + 12, end);
  if (attrs === undefined) return undefined;
  const dstLen = buf[off + 1]!;
  const dst = formatAddress(attr(attrs, RTA_DST));
  const ev: RouteEvent = {
    kind: 'route',
    action,
    family,
    // RTA_TABLE carries ids above 255; rtm_table holds RT_TABLE_COMPAT (252) then.
    table: u32(attrs, RTA_TABLE) ?? buf[off + 4]!,
    destination: dst === undefined || dstLen === 0 ? 'default' : family === 4 && dstLen === 32 ? dst : `${dst}/${dstLen}`,
    protocol: buf[off + 5]!,
    scope: buf[off + 6]!,
    type: buf[off + 7]!,
  };
  const oif = u32(attrs, RTA_OIF);
  if (oif !== undefined) ev.oif = oif;
  const gw = formatAddress(attr(attrs, RTA_GATEWAY));
  if (gw !== undefined) ev.gateway = gw;
  const src = formatAddress(attr(attrs, RTA_PREFSRC));
  if (src !== undefined) ev.preferredSource = src;
  const metric = u32(attrs, RTA_PRIORITY);
  if (metric !== undefined) ev.metric = metric;
  return ev;
}

function decodeRule(action: KernelAction, buf: Buffer, off: number, end: number): RuleEvent | undefined {
  // struct fib_rule_hdr: family, dst_len, src_len, tos, table, res1, res2, action (u8 each), flags u32.
  if (off + 12 > end) return undefined;
  const family = familyOf(buf[off]!);
  if (family === undefined) return undefined;
  const attrs = attributes(buf, off + 12, end);
  if (attrs === undefined) return undefined;
  const ev: RuleEvent = { kind: 'rule', action, family, table: u32(attrs, FRA_TABLE) ?? buf[off + 4]! };
  const priority = u32(attrs, FRA_PRIORITY);
  if (priority !== undefined) ev.priority = priority;
  const proto = attr(attrs, FRA_PROTOCOL);
  if (proto !== undefined && proto.length >= 1) ev.protocol = proto[0]!;
  const src = formatAddress(attr(attrs, FRA_SRC));
  if (src !== undefined) ev.from = `${src}/${buf[off + 2]!}`;
  const dst = formatAddress(attr(attrs, FRA_DST));
  if (dst !== undefined) ev.to = `${dst}/${buf[off + 1]!}`;
  const iif = cString(attrs, FRA_IIFNAME);
  if (iif !== undefined) ev.iif = iif;
  const oif = cString(attrs, FRA_OIFNAME);
  if (oif !== undefined) ev.oif = oif;
  return ev;
}

/** Decodes every netlink message of one datagram. Never throws. */
export function decodeDatagram(buf: Buffer): DecodedDatagram {
  const out: DecodedDatagram = { events: [], skipped: 0, overrun: false };
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    const type = buf.readUInt16LE(off + 4);
    if (len < NLMSG_HDRLEN || off + len > buf.length) {
      out.skipped++;
      break;
    }
    const body = off + NLMSG_HDRLEN;
    const end = off + len;
    let ev: KernelEvent | undefined;
    switch (type) {
      case RTM_NEWLINK:
      case RTM_DELLINK:
        ev = decodeLink(type === RTM_NEWLINK ? 'new' : 'del', buf, body, end);
        break;
      case RTM_NEWADDR:
      case RTM_DELADDR:
        ev = decodeAddress(type === RTM_NEWADDR ? 'new' : 'del', buf, body, end);
        break;
      case RTM_NEWROUTE:
      case RTM_DELROUTE:
        ev = decodeRoute(type === RTM_NEWROUTE ? 'new' : 'del', buf, body, end);
        break;
      case RTM_NEWRULE:
      case RTM_DELRULE:
        ev = decodeRule(type === RTM_NEWRULE ? 'new' : 'del', buf, body, end);
        break;
      case NLMSG_OVERRUN:
        out.overrun = true;
        break;
      case NLMSG_NOOP:
      case NLMSG_DONE:
      case NLMSG_ERROR:
        break;
      default:
        break;
    }
    if (ev !== undefined) out.events.push(ev);
    else if (type >= RTM_NEWLINK) out.skipped++;
    off += (len + 3) & ~3;
  }
  return out;
}
