// How rackstrap marks what it creates, so that a re-plan changes only its own objects and teardown
// removes exactly those and nothing of the admin's. Every marker is something the kernel stores and
// `ip -j` reports back, so ownership survives a restart of the agent without a side file.
//
//   links      ifalias "rackstrap:<role>"      (`ip link add` ignores `alias`, so a second step sets it)
//   addresses  metric RS_ADDR_METRIC           (IFA_RT_PRIORITY; iproute2 6.1 cannot set IFA_PROTO and a
//                                                label such as "mgmt0:rs" would surface as a separate
//                                                interface name in getifaddrs()/os.networkInterfaces())
//   routes     proto RS_ROUTE_PROTO            (rtm_protocol)
//   rules      protocol RS_ROUTE_PROTO, priority RS_RULE_PRIORITY (FRA_PROTOCOL, Linux >= 4.17)
//   iptables   chains RS_CHAIN_IN / RS_CHAIN_OUT and jump rules commented RS_JUMP_COMMENT

/**
 * Route/rule protocol number. 114 is ASCII 'r'; it is not among the numbers Linux reserves or
 * assigns in include/uapi/linux/rtnetlink.h (RTPROT_*) nor in iproute2's rt_protos.
 */
export const RS_ROUTE_PROTO = 114;

/**
 * Address metric. With `noprefixroute` (virtual-server addresses) it has no routing effect; on
 * filer addresses it becomes the metric of the kernel's connected route in the main table.
 */
export const RS_ADDR_METRIC = 114;

/**
 * Priority of every virtual-server rule: after the local table (0), before main (32766). All our
 * rules share it; same-priority rules are distinct by selector, so order among them is irrelevant.
 */
export const RS_RULE_PRIORITY = 31000;

export const RS_LINK_ALIAS_PREFIX = 'rackstrap:';

/** Counting chains (xt_account of seed 000 is not in mainline; plain rule counters replace it). */
export const RS_CHAIN_IN = 'RACKSTRAP-IN';
export const RS_CHAIN_OUT = 'RACKSTRAP-OUT';
export const RS_JUMP_COMMENT = 'rackstrap';

/** Linux's reserved table ids (rtnetlink.h RT_TABLE_*). */
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;
export const RT_TABLE_DEFAULT = 253;

export type LinkRole = 'bond' | 'failover' | 'vlan' | 'alias';

export function linkMark(role: LinkRole): string {
  return `${RS_LINK_ALIAS_PREFIX}${role}`;
}

export function isOwnedLinkAlias(ifalias: string | undefined): boolean {
  return ifalias !== undefined && ifalias.startsWith(RS_LINK_ALIAS_PREFIX);
}
