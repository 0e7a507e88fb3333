// The messages a client sends (RFC 2131 §4.4.1 table 5) and the checks a reply must pass before
// the state machine looks at it. Pure: builds DhcpMessage values; the driver encodes and sends.

import {
  BROADCAST_FLAG, createMessage, MESSAGE_TYPE, OP, OPTION, messageTypeName,
  type AnyOptionValue, type DhcpMessage, type MessageType,
} from '../dhcp-packet/index.js';

/** RFC 2131 §4.1: requests go to the server port on the limited broadcast address until the client has a server to unicast to. */
export const BROADCAST_ADDRESS = '255.255.255.255';

/** Option 57 (RFC 2132 §9.10): the client accepts an Ethernet-sized reply, so servers need not overload sname/file (dhcp-servers.md). */
export const MAX_MESSAGE_SIZE = 1500;

/**
 * Option 55 (RFC 2132 §9.8): subnet mask, routers, DNS, hostname, domain, broadcast, NTP,
 * vendor-specific (43: servers send it only when asked, dhcp-servers.md), lease time, server id,
 * T1, T2.
 */
export const PARAMETER_REQUEST_LIST: readonly number[] = Object.freeze([
  OPTION.SUBNET_MASK, OPTION.ROUTERS, OPTION.DNS_SERVERS, OPTION.HOSTNAME, OPTION.DOMAIN_NAME,
  OPTION.BROADCAST_ADDRESS, OPTION.NTP_SERVERS, OPTION.VENDOR_SPECIFIC, OPTION.LEASE_TIME,
  OPTION.SERVER_ID, OPTION.RENEWAL_TIME, OPTION.REBINDING_TIME,
]);

/** Who the client is on the wire: the same in every message it sends. */
export interface ClientIdentity {
  /** chaddr: the interface's hardware address (RFC 2131 §2). */
  chaddr: Buffer;
  /** htype (1 = Ethernet). */
  htype: number;
  /** Option 61 bytes (RFC 2132 §9.14). */
  clientId: Buffer;
  /** Option 60 (RFC 2132 §9.13): servers select the vendor options (43) by it. */
  vendorClass: string;
}

export interface RequestFields {
  xid: number;
  /** secs (RFC 2131 §2): seconds since the client began this exchange. */
  secs: number;
}

function base(
  id: ClientIdentity,
  type: MessageType,
  f: RequestFields,
  header: { ciaddr?: string; broadcast: boolean },
  options: Array<[number, AnyOptionValue]>,
): DhcpMessage {
  return createMessage({
    op: OP.BOOTREQUEST,
    type,
    xid: f.xid,
    secs: Math.min(0xffff, Math.max(0, Math.floor(f.secs))),
    htype: id.htype,
    chaddr: id.chaddr,
    ciaddr: header.ciaddr ?? '0.0.0.0',
    // RFC 2131 §4.1: a client that cannot take unicast before it has an address sets BROADCAST.
    flags: header.broadcast ? BROADCAST_FLAG : 0,
    options,
  });
}

/** Options every DISCOVER and REQUEST carries after the message type. */
function askFor(id: ClientIdentity): Array<[number, AnyOptionValue]> {
  return [
    [OPTION.MAX_MESSAGE_SIZE, MAX_MESSAGE_SIZE],
    [OPTION.VENDOR_CLASS, id.vendorClass],
    [OPTION.PARAMETER_REQUEST_LIST, [...PARAMETER_REQUEST_LIST]],
  ];
}

/** DHCPDISCOVER (RFC 2131 §4.4.1): broadcast, no ciaddr. */
export function makeDiscover(id: ClientIdentity, f: RequestFields): DhcpMessage {
  return base(id, MESSAGE_TYPE.DISCOVER, f, { broadcast: true }, [[OPTION.CLIENT_ID, id.clientId], ...askFor(id)]);
}

export type RequestKind =
  /** After an OFFER: option 50 = offered address, option 54 = the chosen server. */
  | { kind: 'selecting'; address: string; serverId: string }
  /** INIT-REBOOT: option 50 = the remembered address, no server id. */
  | { kind: 'init-reboot'; address: string }
  /** RENEWING: ciaddr = the address, unicast to the server. */
  | { kind: 'renewing'; address: string }
  /** REBINDING: ciaddr = the address, broadcast. */
  | { kind: 'rebinding'; address: string };

/** DHCPREQUEST in each of its four uses (RFC 2131 §4.3.2, table 5). */
export function makeRequest(id: ClientIdentity, f: RequestFields, r: RequestKind): DhcpMessage {
  const opts: Array<[number, AnyOptionValue]> = [[OPTION.CLIENT_ID, id.clientId]];
  switch (r.kind) {
    case 'selecting':
      opts.push([OPTION.REQUESTED_ADDRESS, r.address], [OPTION.SERVER_ID, r.serverId]);
      return base(id, MESSAGE_TYPE.REQUEST, f, { broadcast: true }, [...opts, ...askFor(id)]);
    case 'init-reboot':
      opts.push([OPTION.REQUESTED_ADDRESS, r.address]);
      return base(id, MESSAGE_TYPE.REQUEST, f, { broadcast: true }, [...opts, ...askFor(id)]);
    case 'renewing':
    case 'rebinding':
      // The client holds the address now: the server answers to ciaddr (RFC 2131 §4.1).
      return base(id, MESSAGE_TYPE.REQUEST, f, { ciaddr: r.address, broadcast: false }, [...opts, ...askFor(id)]);
  }
}

/** DHCPDECLINE (RFC 2131 §4.4.1 table 5): option 50 = the address in use, option 54 = its server; broadcast. */
export function makeDecline(id: ClientIdentity, f: RequestFields, address: string, serverId: string): DhcpMessage {
  return base(id, MESSAGE_TYPE.DECLINE, { ...f, secs: 0 }, { broadcast: true }, [
    [OPTION.CLIENT_ID, id.clientId],
    [OPTION.REQUESTED_ADDRESS, address],
    [OPTION.SERVER_ID, serverId],
  ]);
}

/** DHCPRELEASE (RFC 2131 §4.4.6): ciaddr = the address, option 54, unicast to the server. */
export function makeRelease(id: ClientIdentity, f: RequestFields, address: string, serverId: string): DhcpMessage {
  return base(id, MESSAGE_TYPE.RELEASE, { ...f, secs: 0 }, { ciaddr: address, broadcast: false }, [
    [OPTION.CLIENT_ID, id.clientId],
    [OPTION.SERVER_ID, serverId],
  ]);
}

/**
 * Why `reply` is not an answer to this client's exchange `xid`, or undefined when it is:
 * a BOOTREPLY with our xid and chaddr and, when the server echoes option 61 (RFC 6842), our
 * identifier. Several clients share one interface and MAC, so the identifier check matters.
 */
export function foreignReason(reply: DhcpMessage, xid: number, id: ClientIdentity): string | undefined {
  const type = messageTypeName(reply.options.get(OPTION.MESSAGE_TYPE) ?? 0);
  if (reply.op !== OP.BOOTREPLY) return `${type}: not a reply (op ${reply.op})`;
  if (reply.xid !== xid) return `${type}: xid 0x${hex32(reply.xid)} is not ours (0x${hex32(xid)})`;
  if (!reply.chaddr.equals(id.chaddr)) return `${type}: chaddr ${reply.chaddr.toString('hex')} is not ours`;
  const echoed = reply.options.get(OPTION.CLIENT_ID);
  if (echoed !== undefined && !echoed.equals(id.clientId)) return `${type}: client identifier ${JSON.stringify(echoed.toString('latin1'))} is not ours`;
  return undefined;
}

export function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
