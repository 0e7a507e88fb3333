// Wire constants of DHCPv4. Each carries the RFC section that fixes it.

/** UDP ports (RFC 2131 §4.1): servers and relays listen on 67, clients on 68. */
export const SERVER_PORT = 67;
export const CLIENT_PORT = 68;

/** `op` field (RFC 2131 §2, from RFC 951). */
export const OP = { BOOTREQUEST: 1, BOOTREPLY: 2 } as const;
export type Op = (typeof OP)[keyof typeof OP];

/** `htype` for Ethernet (RFC 1700 "Hardware Type"; RFC 2131 §2). */
export const HTYPE_ETHERNET = 1;

/** Leftmost bit of `flags` (RFC 2131 §2, figure 2): the client cannot receive unicast before it has an address. */
export const BROADCAST_FLAG = 0x8000;

/** Fixed BOOTP header, before the options field (RFC 2131 §2, figure 1): 236 bytes. */
export const HEADER_LENGTH = 236;
/** Field offsets in that header (RFC 2131 §2, figure 1). */
export const OFFSET = {
  op: 0, htype: 1, hlen: 2, hops: 3, xid: 4, secs: 8, flags: 10,
  ciaddr: 12, yiaddr: 16, siaddr: 20, giaddr: 24, chaddr: 28, sname: 44, file: 108,
} as const;
export const CHADDR_LENGTH = 16;
export const SNAME_LENGTH = 64;
export const FILE_LENGTH = 128;

/** The options field starts with 99.130.83.99 (RFC 2131 §3, RFC 2132 §2). */
export const MAGIC_COOKIE = 0x63825363;
/** Header plus cookie: where the first option starts. */
export const OPTIONS_OFFSET = HEADER_LENGTH + 4;

/**
 * 576 is the IP datagram every DHCP agent must accept (RFC 2131 §2: an options field of at least
 * 312 octets "implies ... a message of up to 576 octets"). Option 57 counts the same way: the
 * whole IP datagram (RFC 2132 §9.10; ISC dhcpd and systemd read it so), so the DHCP payload
 * allowed is the value minus the IPv4 (20) and UDP (8) headers.
 */
export const MIN_MAX_MESSAGE_SIZE = 576;
export const IP_UDP_OVERHEAD = 28;

/**
 * Replies are padded to 300 bytes: BOOTP's 64-byte vendor area (RFC 951; RFC 1542 §2.1 allows
 * relays to drop shorter packets), which some old clients and relays still expect.
 */
export const BOOTP_MIN_LENGTH = 300;

/** Option code values that frame the options area rather than carry data (RFC 2132 §3.1, §3.2). */
export const PAD = 0;
export const END = 255;
/** One option instance carries at most 255 data bytes (RFC 2132 §2; RFC 3396 splits longer ones). */
export const MAX_INSTANCE_DATA = 255;

/** Option 52 values (RFC 2132 §9.3): which of `file` (1), `sname` (2) or both (3) carry options. */
export const OVERLOAD = { FILE: 1, SNAME: 2, BOTH: 3 } as const;

/**
 * DHCP message types, option 53 (RFC 2132 §9.6 for 1–8; RFC 3203 FORCERENEW 9; RFC 4388
 * leasequery 10–13; RFC 6926 bulk leasequery 14–17; RFC 7724 active leasequery 18).
 */
export const MESSAGE_TYPE = {
  DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7, INFORM: 8,
  FORCERENEW: 9, LEASEQUERY: 10, LEASEUNASSIGNED: 11, LEASEUNKNOWN: 12, LEASEACTIVE: 13,
  BULKLEASEQUERY: 14, LEASEQUERYDONE: 15, ACTIVELEASEQUERY: 16, LEASEQUERYSTATUS: 17, TLS: 18,
} as const;
export type MessageTypeName = keyof typeof MESSAGE_TYPE;
export type MessageType = (typeof MESSAGE_TYPE)[MessageTypeName];

const TYPE_NAMES = new Map<number, MessageTypeName>(
  Object.entries(MESSAGE_TYPE).map(([name, value]) => [value, name as MessageTypeName]),
);

export function isMessageType(n: number): n is MessageType {
  return TYPE_NAMES.has(n);
}

/** `DISCOVER`, `ACK`, ... or `type-N` for a value outside the registry. */
export function messageTypeName(n: number): string {
  return TYPE_NAMES.get(n) ?? `type-${n}`;
}
