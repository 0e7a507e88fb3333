// The server's decisions, pure: one decoded request, the interface it came in on, the lease
// table, the configuration and the time in; the reply (already encoded, with where to send it),
// the lease changes and one log record out. No sockets, files or clocks (house style), so every
// message type and edge is tested with a fake clock.
//
// Who is answered: a client identifier (option 61, text with or without a 0 type byte)
// of the cluster gets its reserved address; a filer's topology request (`<cluster-id>:<base MAC>`
// with the cluster's vendor class in option 60) gets an address from the subnet's bootstrap range
// and the topology in option 43; any other client only where the subnet has a pool. Everything
// else is ignored, so the server never hands addresses to the rest of the site's LAN.

import {
  BROADCAST_FLAG,
  CLIENT_PORT,
  MESSAGE_TYPE,
  OP,
  OPTION,
  SERVER_PORT,
  createMessage,
  encodeMessage,
  encodingLength,
  isBroadcast,
  maxMessageSize,
  messageType,
  messageTypeName,
  type AnyOptionValue,
  type DhcpMessage,
  type MessageType,
} from '../dhcp-packet/index.js';
import { EncodeError } from '../errors.js';
import { signForExchange } from '../options/wire/exchange.js';
import { explainForeignCluster, explainUnknownIdentifier } from '../options/identifier-hint.js';
import { LIMITED_BROADCAST, ZERO, colonHexFast, inRange, toText, tryNumber, type AddressRange } from './address.js';
import type { AddressReservation, ServerConfig, SubnetConfig, TopologyEntry } from './config.js';
import type { Priority } from './intake.js';
import type { Lease, LeaseOp, LeaseTable } from './lease-table.js';

// ---- inputs ---------------------------------------------------------------------------------

export interface InterfaceAddress {
  readonly address: number;
  readonly text: string;
  readonly prefixLength: number;
}

/** The interface a request came in on: the reply leaves through it. */
export interface Ingress {
  readonly ifname: string;
  /** Its IPv4 addresses (read at start and on SIGHUP). */
  readonly addresses: readonly InterfaceAddress[];
  /** Its MTU: no reply is larger, whatever option 57 allows. */
  readonly mtu: number;
}

export { DEFAULT_POLICY, type Policy } from './policy.js';
import type { Policy } from './policy.js';

export interface RespondContext {
  readonly config: ServerConfig;
  readonly leases: LeaseTable;
  /** ms since the epoch. */
  readonly now: number;
  readonly policy: Policy;
  /** Every address of every served interface: option 54 naming one of them means "this server". */
  readonly ownAddresses: ReadonlySet<string>;
  /**
   * Server pairs (src/sync): may `address` of a pool or bootstrap range go to `client` now? While
   * a server does not hear its partner it gives out only its own half of each range.
   */
  readonly mayAllocate?: (address: number, client: string) => boolean;
  /** Server pairs: the service address, option 54 wherever it is one of the ingress addresses. */
  readonly serviceAddress?: string;
  /** Source address of the datagram: a relayed client's RELEASE comes straight from its leased address. */
  readonly from?: string;
}

/** RFC 1542 §4.1.1: a BOOTREQUEST that went through more than 16 relays is discarded. */
export const MAX_HOPS = 16;

// ---- outputs --------------------------------------------------------------------------------

export interface Destination {
  readonly address: string;
  readonly port: number;
  /** Unicast to a client that has no address yet: tell the kernel where yiaddr is first (RFC 2131 §4.1). */
  readonly arp?: { readonly ip: string; readonly mac: string };
}

export interface Reply {
  readonly message: DhcpMessage;
  readonly bytes: Buffer;
  readonly to: Destination;
}

export type ClientKind = 'filer' | 'vserver' | 'mysql' | 'topology' | 'pool';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One line of the exchange log. Never carries the key or option 43 (its signature derives from the key). */
export interface ExchangeRecord {
  level: LogLevel;
  event: 'exchange';
  /** Request type: DISCOVER, REQUEST, ... */
  type: string;
  /** REQUEST only: selecting, init-reboot or renewing (RFC 2131 §4.3.2; rebinding is answered alike). */
  state?: string;
  reply: 'OFFER' | 'ACK' | 'NAK' | null;
  /** offered, acked, naked, released, declined, informed, or why it was ignored. */
  result: string;
  /** The cluster identifier, or the client id / hardware address of anyone else. */
  identifier: string | undefined;
  kind?: ClientKind;
  /** How option 61 spelled a text identifier: bare text, or behind a 0 type byte (RFC 2132 §9.14). */
  idForm?: 'text' | 'type0+text';
  filer?: string;
  address?: string;
  interface: string;
  xid: string;
  chaddr: string;
  relay?: string;
  detail?: string;
}

export interface Decision {
  reply: Reply | undefined;
  ops: LeaseOp[];
  log: ExchangeRecord;
}

// ---- who is asking --------------------------------------------------------------------------

type Client =
  | { kind: 'reserved'; key: string; label: string; reservation: AddressReservation }
  | { kind: 'topology'; key: string; label: string; topology: TopologyEntry }
  | { kind: 'other'; key: string; label: string; clusterLike: boolean; why?: string };

/**
 * Option 61 as text when it is printable, with or without a leading 0 type byte (RFC 2132 §9.14);
 * the codec's clientIdText, minus the work it does for identifiers that are not text.
 */
export function textOf(raw: Buffer): string | undefined {
  const from = raw[0] === 0 ? 1 : 0;
  if (raw.length <= from) return undefined;
  for (let i = from; i < raw.length; i++) {
    const c = raw[i] as number;
    if (c < 0x20 || c > 0x7e) return undefined;
  }
  return raw.toString('latin1', from);
}

/**
 * Cluster clients are keyed by their identifier. A topology key is sent by every NIC of a filer,
 * so its lease is keyed by identifier and NIC (chaddr): two NICs on one segment must not be
 * bound to one address. Anyone else is keyed by option 61 bytes, else by hardware address (RFC 2131 §4.2).
 */
function classify(req: DhcpMessage, config: ServerConfig, hw: string): Client {
  const raw = req.options.get(OPTION.CLIENT_ID);
  const text = raw === undefined ? undefined : textOf(raw);
  if (text !== undefined) {
    const reservation = config.reservations.get(text);
    if (reservation) return { kind: 'reserved', key: `id:${text}`, label: text, reservation };
    const topology = config.topologies.get(text);
    if (topology) {
      if (req.options.get(OPTION.VENDOR_CLASS) === config.vendorClass) return { kind: 'topology', key: `topo:${text}@${hw}`, label: text, topology };
      return { kind: 'other', key: `id:${text}`, label: text, clusterLike: true, why: `topology request without vendor class ${JSON.stringify(config.vendorClass)} in option 60` };
    }
    if (text.startsWith(`${config.clusterId}:`)) {
      const hint = explainUnknownIdentifier(text, config.hints);
      return { kind: 'other', key: `id:${text}`, label: clip(text), clusterLike: true, why: `identifier of this cluster that the description does not declare: ${hint}` };
    }
    const foreign = explainForeignCluster(text, config.hints);
    if (foreign !== undefined) return { kind: 'other', key: `id:${text}`, label: text, clusterLike: true, why: foreign };
  }
  if (raw !== undefined) {
    const hex = colonHexFast(raw);
    return { kind: 'other', key: `cid:${hex}`, label: clip(text ?? hex), clusterLike: false };
  }
  return { kind: 'other', key: `hw:${req.htype}:${hw}`, label: hw, clusterLike: false };
}

/** Most characters of client text (an identifier) a log line quotes. */
export const QUOTE_MAX = 64;

/** Client text as logs quote it: at most `max` characters, the length of the rest stated. */
export function clip(text: string, max = QUOTE_MAX): string {
  return text.length <= max ? text : `${text.slice(0, max)}...(${text.length} characters)`;
}

/**
 * Which queue a request waits in when the server is busy (intake.ts): the cluster's clients
 * first, then clients with a live lease or offer here, then strangers.
 */
export function priorityOf(req: DhcpMessage, config: ServerConfig, leases: LeaseTable, now: number): Priority {
  const c = classify(req, config, colonHexFast(req.chaddr));
  if (c.kind !== 'other') return 0;
  const l = leases.ofClient(c.key);
  return l !== undefined && l.expires > now ? 1 : 2;
}

// ---- the exchange being decided -------------------------------------------------------------

class Exchange {
  readonly req: DhcpMessage;
  readonly ingress: Ingress;
  readonly ctx: RespondContext;
  readonly client: Client;
  readonly relayed: boolean;
  /** Subnets this request can be served from: giaddr's when relayed, else the ingress interface's. */
  readonly subnets: readonly SubnetConfig[];
  readonly log: ExchangeRecord;

  constructor(req: DhcpMessage, ingress: Ingress, ctx: RespondContext, type: string) {
    this.req = req;
    this.ingress = ingress;
    this.ctx = ctx;
    const hw = colonHexFast(req.chaddr);
    this.client = classify(req, ctx.config, hw);
    this.relayed = req.giaddr !== ZERO;
    this.subnets = ingressSubnets(req, ingress, ctx.config, this.relayed);
    this.log = {
      level: 'info',
      event: 'exchange',
      type,
      reply: null,
      result: '',
      identifier: this.client.label,
      interface: ingress.ifname,
      xid: `0x${req.xid.toString(16).padStart(8, '0')}`,
      chaddr: hw,
    };
    const kind = kindOf(this.client);
    if (kind) {
      this.log.kind = kind;
      this.log.idForm = req.options.get(OPTION.CLIENT_ID)?.[0] === 0 ? 'type0+text' : 'text';
    }
    if (this.client.kind === 'topology') this.log.filer = this.client.topology.filer;
    if (this.relayed) this.log.relay = req.giaddr;
  }

  get now(): number {
    return this.ctx.now;
  }

  ignore(level: LogLevel, result: string, detail?: string, ops: LeaseOp[] = []): Decision {
    this.log.level = level;
    this.log.result = result;
    if (detail !== undefined) this.log.detail = detail;
    return { reply: undefined, ops, log: this.log };
  }

  /** Where the network of this request is, for messages. */
  where(): string {
    if (this.relayed) return `relay ${this.req.giaddr}`;
    const addrs = this.ingress.addresses.map((a) => `${a.text}/${a.prefixLength}`).join(', ');
    return `${this.ingress.ifname}${addrs ? ` (${addrs})` : ' (no IPv4 address)'}`;
  }

  /** Our address as the client should see it (option 54) on `subnet`. */
  serverId(subnet: SubnetConfig | undefined): string | undefined {
    const service = this.ctx.serviceAddress;
    if (service !== undefined && this.ingress.addresses.some((a) => a.text === service)) return service;
    const on = subnet && this.ingress.addresses.find((a) => ((a.address & subnet.mask) >>> 0) === subnet.network);
    return on?.text ?? this.ingress.addresses[0]?.text;
  }
}

function kindOf(c: Client): ClientKind | undefined {
  if (c.kind === 'reserved') return c.reservation.kind;
  if (c.kind === 'topology') return 'topology';
  return undefined;
}

function ingressSubnets(req: DhcpMessage, ingress: Ingress, config: ServerConfig, relayed: boolean): SubnetConfig[] {
  // RFC 2131 §4.3.1: the network is giaddr's when relayed, else the one the request arrived on.
  const marks = relayed ? [tryNumber(req.giaddr) ?? 0] : ingress.addresses.map((a) => a.address);
  return config.subnets.filter((s) => marks.some((m) => ((m & s.mask) >>> 0) === s.network));
}

// ---- building replies -----------------------------------------------------------------------

interface ReplySpec {
  type: MessageType;
  yiaddr: string;
  ciaddr: string;
  serverId: string;
  subnet?: SubnetConfig;
  /** Seconds: options 51, 58, 59 (not in INFORM's ACK or a NAK). */
  lease?: number;
  hostname?: string;
  topology?: TopologyEntry;
  message?: string;
}

function buildReply(req: DhcpMessage, spec: ReplySpec): DhcpMessage {
  const prl = req.options.get(OPTION.PARAMETER_REQUEST_LIST);
  // Without option 55 the client gets everything configured; with it, what it asked for plus
  // the mask (RFC 2131 §4.3.1 lists it among what the server returns).
  const wants = (code: number): boolean => prl === undefined || prl.includes(code);
  const options: Array<[number, AnyOptionValue]> = [[OPTION.SERVER_ID, spec.serverId]];
  if (spec.lease !== undefined) {
    // T1 = 0.5 and T2 = 0.875 of the lease (RFC 2131 §4.4.5).
    options.push([OPTION.LEASE_TIME, spec.lease], [OPTION.RENEWAL_TIME, Math.floor(spec.lease / 2)], [OPTION.REBINDING_TIME, Math.floor((spec.lease * 7) / 8)]);
  }
  const s = spec.subnet;
  if (s && spec.type !== MESSAGE_TYPE.NAK) {
    options.push([OPTION.SUBNET_MASK, s.netmaskText]);
    if (wants(OPTION.BROADCAST_ADDRESS)) options.push([OPTION.BROADCAST_ADDRESS, s.broadcastText]);
    if (s.routers.length && wants(OPTION.ROUTERS)) options.push([OPTION.ROUTERS, [...s.routers]]);
    if (s.dns.length && wants(OPTION.DNS_SERVERS)) options.push([OPTION.DNS_SERVERS, [...s.dns]]);
    if (s.domain !== undefined && wants(OPTION.DOMAIN_NAME)) options.push([OPTION.DOMAIN_NAME, s.domain]);
    if (s.ntp.length && wants(OPTION.NTP_SERVERS)) options.push([OPTION.NTP_SERVERS, [...s.ntp]]);
    if (spec.hostname !== undefined && wants(OPTION.HOSTNAME)) options.push([OPTION.HOSTNAME, spec.hostname]);
  }
  if (spec.topology && spec.type !== MESSAGE_TYPE.NAK) {
    // Echo the vendor class: the reply is for that vendor's client (what dhcpd, Kea and dnsmasq do
    // with a class-matched option 43). Option 43 only when asked for, like those three servers.
    const vc = req.options.get(OPTION.VENDOR_CLASS);
    if (vc !== undefined) options.push([OPTION.VENDOR_CLASS, vc]);
    // Signed per exchange when the cluster has a key: a recorded answer is no good in another one.
    if (prl?.includes(OPTION.VENDOR_SPECIFIC)) options.push([OPTION.VENDOR_SPECIFIC, spec.topology.exchange ? signForExchange(spec.topology.exchange, req.xid) : spec.topology.option43]);
  }
  if (spec.message !== undefined) options.push([OPTION.MESSAGE, spec.message]);
  const cid = req.options.get(OPTION.CLIENT_ID);
  if (cid !== undefined) options.push([OPTION.CLIENT_ID, cid]); // RFC 6842: echo the client identifier
  const relayInfo = req.options.get(OPTION.RELAY_AGENT_INFO);
  if (relayInfo !== undefined && req.giaddr !== ZERO) options.push([OPTION.RELAY_AGENT_INFO, relayInfo]); // RFC 3046 §2.2: echoed, last
  return createMessage({
    op: OP.BOOTREPLY,
    xid: req.xid,
    type: spec.type,
    htype: req.htype,
    // RFC 2131 §4.3.2: a NAK through a relay has the broadcast bit set, so the relay broadcasts it.
    flags: spec.type === MESSAGE_TYPE.NAK && req.giaddr !== ZERO ? req.flags | BROADCAST_FLAG : req.flags,
    ciaddr: spec.ciaddr,
    yiaddr: spec.yiaddr,
    giaddr: req.giaddr,
    chaddr: req.chaddr,
    options,
  });
}

/** RFC 2131 §4.1 "the server ... sends": relay, else ciaddr, else broadcast, else unicast to yiaddr. */
function destinationOf(req: DhcpMessage, reply: DhcpMessage, hw: string): Destination {
  if (req.giaddr !== ZERO) return { address: req.giaddr, port: SERVER_PORT };
  if (messageType(reply) === MESSAGE_TYPE.NAK) return { address: LIMITED_BROADCAST, port: CLIENT_PORT };
  if (req.ciaddr !== ZERO) return { address: req.ciaddr, port: CLIENT_PORT };
  if (isBroadcast(req) || reply.yiaddr === ZERO) return { address: LIMITED_BROADCAST, port: CLIENT_PORT };
  // The client cannot answer ARP for an address it does not have yet: without an entry the
  // kernel would ARP in vain. Only Ethernet hardware addresses can go in the ARP table.
  if (req.htype === 1 && req.chaddr.length === 6) {
    return { address: reply.yiaddr, port: CLIENT_PORT, arp: { ip: reply.yiaddr, mac: hw } };
  }
  return { address: LIMITED_BROADCAST, port: CLIENT_PORT };
}

/** Encodes a reply to fit the client (option 57) and the link (MTU); undefined + reason when it cannot. */
function encodeFor(x: Exchange, reply: DhcpMessage): { bytes: Buffer } | { tooBig: string } {
  const maxSize = Math.min(maxMessageSize(x.req), x.ingress.mtu);
  try {
    return { bytes: encodeMessage(reply, { maxSize }) };
  } catch (err) {
    if (!(err instanceof EncodeError) || err.reason !== 'too-big') throw err;
    const need = encodingLength(reply, { maxSize: 65535 }) + 28;
    const mms = x.req.options.get(OPTION.MAX_MESSAGE_SIZE);
    const o43 = reply.options.get(OPTION.VENDOR_SPECIFIC);
    const what = o43 !== undefined && x.client.kind === 'topology'
      ? `the topology of ${x.client.topology.filer} (${o43.length} bytes of option 43) needs a ${need}-byte reply`
      : `the reply needs ${need} bytes`;
    const limit = mms === undefined ? 'the client sent no option 57, so 576 bytes is all it accepts (RFC 2131): configure it to send option 57 (e.g. 1500)' : `the client accepts ${maxSize} bytes (option 57 = ${mms}, MTU ${x.ingress.mtu})`;
    return { tooBig: `${what}; ${limit}` };
  }
}

function send(x: Exchange, spec: ReplySpec, ops: LeaseOp[], result: string, detail?: string): Decision {
  const message = buildReply(x.req, spec);
  const encoded = encodeFor(x, message);
  if ('tooBig' in encoded) return x.ignore('warn', 'reply-too-big', encoded.tooBig);
  x.log.reply = spec.type === MESSAGE_TYPE.OFFER ? 'OFFER' : spec.type === MESSAGE_TYPE.ACK ? 'ACK' : 'NAK';
  x.log.result = result;
  if (spec.yiaddr !== ZERO) x.log.address = spec.yiaddr;
  else if (spec.ciaddr !== ZERO) x.log.address = spec.ciaddr;
  if (detail !== undefined) x.log.detail = detail;
  if (spec.type === MESSAGE_TYPE.NAK) x.log.level = 'info';
  return { reply: { message, bytes: encoded.bytes, to: destinationOf(x.req, message, x.log.chaddr) }, ops, log: x.log };
}

function nak(x: Exchange, serverId: string, result: string, why: string): Decision {
  return send(x, { type: MESSAGE_TYPE.NAK, yiaddr: ZERO, ciaddr: ZERO, serverId, message: why }, [], result, why);
}

// ---- allocation -----------------------------------------------------------------------------

function rangeFor(client: Client, s: SubnetConfig): AddressRange | undefined {
  return client.kind === 'topology' ? s.bootstrap : s.pool;
}

/** An address of `range` for the client: the one it has, the one it asks for, a free one, or the oldest offer. */
function allocate(x: Exchange, range: AddressRange): number | undefined {
  const { leases, config, now } = x.ctx;
  const key = x.client.key;
  const guard = x.ctx.mayAllocate;
  const usable = (a: number): boolean => inRange(range, a) && !config.reservedBy.has(a) && leases.isAvailable(a, key, now) && (guard === undefined || guard(a, key));
  const mine = leases.ofClient(key);
  if (mine !== undefined && usable(mine.address)) return mine.address;
  const want = x.req.options.get(OPTION.REQUESTED_ADDRESS);
  const wanted = want === undefined ? undefined : tryNumber(want);
  if (wanted !== undefined && usable(wanted)) return wanted;
  const free = leases.findFree(range, now, config.reservedBy, guard === undefined ? undefined : (a) => guard(a, key));
  if (free !== undefined) return free;
  // Full: an unanswered offer is only a promise, and the offer op below takes it over.
  const oldest = leases.oldestOffer(range, now)?.address;
  return oldest !== undefined && (guard === undefined || guard(oldest, key)) ? oldest : undefined;
}

// ---- the message types ----------------------------------------------------------------------

function onDiscover(x: Exchange): Decision {
  const { leases, now, policy } = x.ctx;
  const c = x.client;
  const offer = (address: number, subnet: SubnetConfig, lease: number, hostname: string | undefined, topology?: TopologyEntry): Decision => {
    const serverId = x.serverId(subnet);
    if (serverId === undefined) return x.ignore('warn', 'no-server-address', `${x.ingress.ifname} has no IPv4 address to answer from (option 54)`);
    const ops: LeaseOp[] = [withRelay(x, { op: 'offer', address, client: c.key, until: now + policy.offerHoldS * 1000, label: c.label, hw: x.log.chaddr })];
    // An offer of another address replaces the client's bound lease in the table (one lease per
    // client): say so durably, so that the lease log (and a server pair's partner) do not go on
    // holding the old one that memory has let go.
    const held = leases.ofClient(c.key);
    if (held !== undefined && held.state === 'bound' && held.expires > now && held.address !== address) ops.unshift({ op: 'release', address: held.address, client: c.key });
    const spec: ReplySpec = { type: MESSAGE_TYPE.OFFER, yiaddr: toText(address), ciaddr: ZERO, serverId, subnet, lease };
    if (hostname !== undefined) spec.hostname = hostname;
    if (topology !== undefined) spec.topology = topology;
    return send(x, spec, ops, 'offered');
  };

  if (c.kind === 'reserved') {
    const r = c.reservation;
    if (!x.subnets.includes(r.subnet)) return x.ignore('info', 'wrong-subnet', `reserved address ${r.addressText} is in ${r.subnet.prefix}, not on the network of ${x.where()}`);
    // No quarantine check: a reserved address is never quarantined (onDecline says why).
    const other = leases.heldByOther(r.address, c.key, now);
    if (other) return x.ignore('warn', 'address-in-use', `reserved address ${r.addressText} is leased to ${other.label} until ${new Date(other.expires).toISOString()}`);
    return offer(r.address, r.subnet, r.subnet.leaseTime, r.hostname);
  }
  if (c.kind === 'topology') {
    const subnet = x.subnets.find((s) => s.bootstrap);
    if (!subnet) return x.ignore('info', 'no-bootstrap-range', `topology request of ${c.topology.filer} on ${x.where()}: no subnet there has a bootstrap range`);
    const address = allocate(x, subnet.bootstrap!);
    if (address === undefined) return x.ignore('warn', 'bootstrap-range-full', `bootstrap range of ${subnet.prefix} has no free address`);
    return offer(address, subnet, x.ctx.policy.bootstrapLeaseS, c.topology.filer, c.topology);
  }
  // A member of the cluster that cannot be served: a mistake in its setup or the description. A
  // warning (the server's limiter bounds how often one asker is logged), with what to fix.
  if (c.clusterLike) return x.ignore('warn', 'unknown-identifier', c.why);
  const subnet = x.subnets.find((s) => s.pool);
  if (!subnet) return x.ignore('debug', 'not-ours', x.subnets.length ? 'not a cluster client and no pool on this network' : `no configured subnet on ${x.where()}`);
  const address = allocate(x, subnet.pool!);
  if (address === undefined) return x.ignore('warn', 'pool-exhausted', `pool of ${subnet.prefix} has no free address`);
  return offer(address, subnet, subnet.leaseTime, undefined);
}

type RequestState = 'selecting' | 'init-reboot' | 'renewing';

function onRequest(x: Exchange): Decision {
  const { leases, now, config } = x.ctx;
  const req = x.req;
  const c = x.client;
  const serverIdOpt = req.options.get(OPTION.SERVER_ID);
  const requestedOpt = req.options.get(OPTION.REQUESTED_ADDRESS);
  // RFC 2131 §4.3.2: the state shows in which of option 54, option 50 and ciaddr are set.
  let state: RequestState;
  if (serverIdOpt !== undefined) state = 'selecting';
  else if (requestedOpt !== undefined && req.ciaddr === ZERO) state = 'init-reboot';
  else if (req.ciaddr !== ZERO) state = 'renewing';
  else return x.ignore('debug', 'malformed-request', 'REQUEST without server id, requested address or ciaddr');
  x.log.state = state;

  if (state === 'selecting' && !x.ctx.ownAddresses.has(serverIdOpt!)) {
    // The client took another server's offer: ours is free again (RFC 2131 §4.3.2).
    const mine = leases.ofClient(c.key);
    const ops: LeaseOp[] = mine?.state === 'offered' ? [{ op: 'drop-offer', client: c.key }] : [];
    return x.ignore('debug', 'chose-other-server', `server id ${serverIdOpt}`, ops);
  }
  if (c.kind === 'other' && c.clusterLike) return x.ignore('warn', 'unknown-identifier', c.why);

  const addrText = state === 'renewing' ? req.ciaddr : requestedOpt ?? req.ciaddr;
  const address = tryNumber(addrText);
  if (address === undefined || addrText === ZERO) return x.ignore('debug', 'malformed-request', 'no address requested');
  x.log.address = addrText;

  if (c.kind === 'reserved') {
    const r = c.reservation;
    const serverId = x.serverId(r.subnet);
    if (serverId === undefined) return x.ignore('warn', 'no-server-address', `${x.ingress.ifname} has no IPv4 address to answer from (option 54)`);
    if (!x.subnets.includes(r.subnet)) return nak(x, serverId, 'wrong-subnet', `${r.identifier} is served in ${r.subnet.prefix}, not on this network`);
    if (address !== r.address) return nak(x, serverId, 'wrong-address', `${r.identifier} is reserved ${r.addressText}, not ${addrText}`);
    const other = leases.heldByOther(address, c.key, now);
    if (other) return nak(x, serverId, 'address-in-use', `${addrText} is leased to ${other.label}`);
    return ack(x, state, address, r.subnet, r.subnet.leaseTime, serverId, r.hostname);
  }

  // Dynamic: the bootstrap range for a topology request, the pool for anyone else.
  const subnet = x.subnets.find((s) => inRange(rangeFor(c, s), address));
  const served = x.subnets.find((s) => rangeFor(c, s) !== undefined);
  if (!served) return x.ignore('debug', 'not-ours', 'not a cluster client and no pool on this network');
  const serverId = x.serverId(subnet ?? served);
  if (serverId === undefined) return x.ignore('warn', 'no-server-address', `${x.ingress.ifname} has no IPv4 address to answer from (option 54)`);
  const mine = leases.ofClient(c.key);
  // RFC 2131 §4.3.2: INIT-REBOOT (and by extension a renewal) from a client the server has no
  // record of gets silence: another server may own it, and a NAK would cut it off.
  if (state !== 'selecting' && mine === undefined) return x.ignore('debug', 'no-record', `no lease of ${c.label} here`);
  const range = c.kind === 'topology' ? 'bootstrap range' : 'pool';
  if (!subnet) return nak(x, serverId, 'outside-range', `${addrText} is not in the ${range} of this network`);
  if (state !== 'selecting' && mine !== undefined && mine.address !== address) {
    return nak(x, serverId, 'wrong-address', `the lease of ${c.label} is ${toText(mine.address)}, not ${addrText}`);
  }
  if (config.reservedBy.has(address)) return nak(x, serverId, 'address-reserved', `${addrText} is reserved for ${config.reservedBy.get(address)}`);
  const until = leases.quarantinedUntil(address, now);
  if (until !== undefined) return nak(x, serverId, 'declined', `${addrText} was declined and is quarantined until ${new Date(until).toISOString()}`);
  const other = leases.heldByOther(address, c.key, now);
  if (other) return nak(x, serverId, 'address-in-use', `${addrText} is ${other.state === 'bound' ? 'leased' : 'offered'} to ${other.label}`);
  if (x.ctx.mayAllocate !== undefined && !x.ctx.mayAllocate(address, c.key)) {
    return nak(x, serverId, 'partner-down-range', `${addrText} is not this server's to give while it does not hear its partner`);
  }
  const lease = c.kind === 'topology' ? x.ctx.policy.bootstrapLeaseS : subnet.leaseTime;
  return ack(x, state, address, subnet, lease, serverId, c.kind === 'topology' ? c.topology.filer : undefined);
}

function ack(x: Exchange, state: RequestState, address: number, subnet: SubnetConfig, lease: number, serverId: string, hostname: string | undefined): Decision {
  const c = x.client;
  const ops: LeaseOp[] = [withRelay(x, { op: 'bind', address, client: c.key, expires: x.now + lease * 1000, label: c.label, hw: x.log.chaddr })];
  const spec: ReplySpec = { type: MESSAGE_TYPE.ACK, yiaddr: toText(address), ciaddr: x.req.ciaddr, serverId, subnet, lease };
  if (hostname !== undefined) spec.hostname = hostname;
  if (c.kind === 'topology') spec.topology = c.topology;
  return send(x, spec, ops, state === 'renewing' ? 'renewed' : 'acked');
}

/** Option 54 present and not ours: the message is for another server. */
function forOtherServer(x: Exchange): boolean {
  const sid = x.req.options.get(OPTION.SERVER_ID);
  return sid !== undefined && !x.ctx.ownAddresses.has(sid);
}

/** The relay a request came through, on the lease op it causes (absent for a client on a served link). */
function withRelay<T extends Extract<LeaseOp, { op: 'offer' | 'bind' }>>(x: Exchange, op: T): T {
  return x.relayed ? { ...op, relay: x.req.giaddr } : op;
}

/**
 * The live bound lease on `address` when this request comes from the client holding it: the
 * same client key (identifier or hardware address), the same chaddr, and the same relay. A
 * relayed client's RELEASE is unicast straight to the server (RFC 2131 §4.4.6), so it may also
 * come without a relay, from the leased address itself. Anything else is someone else's packet:
 * a client only gives up what it holds.
 */
function heldLease(x: Exchange, address: number, opts: { fromAddress?: boolean } = {}): Lease | undefined {
  const l = x.ctx.leases.at(address);
  if (l === undefined || l.state !== 'bound' || l.expires <= x.now) return undefined;
  if (l.client !== x.client.key || l.hw !== x.log.chaddr) return undefined;
  const giaddr = x.relayed ? x.req.giaddr : undefined;
  if (l.relay === giaddr) return l;
  return opts.fromAddress && l.relay !== undefined && !x.relayed && x.ctx.from === toText(address) ? l : undefined;
}

/** Why a DECLINE or RELEASE is not taken, for the log. */
function notHeldWhy(x: Exchange, address: number, text: string): string {
  const l = x.ctx.leases.at(address);
  const live = l !== undefined && l.state === 'bound' && l.expires > x.now;
  if (!live) {
    return x.client.kind === 'reserved' && x.client.reservation.address === address
      ? `${text} is reserved for ${x.client.label} but not leased here: nothing to give up`
      : `${text} is not leased here`;
  }
  if (l.client !== x.client.key) return `${text} is leased to another client`;
  if (l.hw !== x.log.chaddr) return `${text} is leased to this identifier on another hardware address`;
  return `${text} is leased to this client through ${l.relay === undefined ? 'no relay' : `relay ${l.relay}`}, not ${x.relayed ? `relay ${x.req.giaddr}` : 'directly'}`;
}

function onDecline(x: Exchange): Decision {
  if (forOtherServer(x)) return x.ignore('debug', 'for-other-server');
  const text = x.req.options.get(OPTION.REQUESTED_ADDRESS);
  const address = text === undefined ? undefined : tryNumber(text);
  if (address === undefined) return x.ignore('debug', 'malformed-decline', 'DECLINE without option 50');
  x.log.address = text;
  const held = heldLease(x, address);
  if (held === undefined) return x.ignore('info', 'decline-not-held', notHeldWhy(x, address, text!));
  if (x.client.kind === 'reserved') {
    // A reserved address belongs to one client only: quarantine protects other clients from a
    // conflicting address, and here there are none, so it would only lock the filer out of its
    // own address. The lease is given up, the conflict is logged at error level, and the filer
    // asks again (RFC 2131 §3.1.5: no sooner than 10 s) and declines again for as long as the
    // other host is there: each time logged, never a lockout on one packet.
    return x.ignore('error', 'reserved-address-conflict', `${x.client.label} found its reserved address ${text} in use by another host on the LAN (duplicate address): find that host and remove the address from it`, [
      { op: 'release', address, client: x.client.key },
    ]);
  }
  const q = x.ctx.policy.declineQuarantineS;
  const ops: LeaseOp[] = [{ op: 'decline', address, client: x.client.key, until: x.now + q * 1000 }];
  // Loud: a DECLINE means another host on the LAN answers ARP for this address (RFC 2131 §4.4.1).
  return x.ignore('warn', 'declined', `${x.client.label} found ${text} already in use on the LAN (duplicate address): not handed out for ${q} s`, ops);
}

function onRelease(x: Exchange): Decision {
  if (forOtherServer(x)) return x.ignore('debug', 'for-other-server');
  const address = tryNumber(x.req.ciaddr);
  x.log.address = x.req.ciaddr;
  if (address === undefined || x.req.ciaddr === ZERO) return x.ignore('debug', 'malformed-release', 'RELEASE without ciaddr');
  if (heldLease(x, address, { fromAddress: true }) === undefined) return x.ignore('debug', 'release-not-held', notHeldWhy(x, address, x.req.ciaddr));
  return x.ignore('info', 'released', undefined, [{ op: 'release', address, client: x.client.key }]);
}

/**
 * RFC 1542 §4.1.1: more than 16 hops is a loop. A giaddr that cannot be a relay's own address
 * (a broadcast or network address of a served subnet, limited broadcast, loopback, multicast or
 * class E) would make the reply a broadcast to a whole subnet: such requests are dropped.
 */
function badRelay(x: Exchange): string | undefined {
  if (x.req.hops > MAX_HOPS) return `hops ${x.req.hops} > ${MAX_HOPS} (RFC 1542)`;
  if (!x.relayed) return undefined;
  const g = tryNumber(x.req.giaddr);
  if (g === undefined) return `giaddr ${x.req.giaddr} is not an address`;
  const first = g >>> 24;
  if (first === 127 || first >= 224 || first === 0) return `giaddr ${x.req.giaddr} cannot be a relay's address`;
  for (const s of x.ctx.config.subnets) {
    if (s.prefixLength >= 31) continue; // RFC 3021: /31 and /32 have no broadcast or network address
    if (g === s.broadcast) return `giaddr ${x.req.giaddr} is the broadcast address of ${s.prefix}`;
    if (g === s.network) return `giaddr ${x.req.giaddr} is the network address of ${s.prefix}`;
  }
  return undefined;
}

function onInform(x: Exchange): Decision {
  const c = x.client;
  if (c.kind === 'other' && (c.clusterLike || !x.subnets.some((s) => s.pool))) return x.ignore('debug', 'not-ours', c.why);
  // RFC 2131 §4.3.5: options only, no address and no lease time, unicast to ciaddr.
  const ciaddr = tryNumber(x.req.ciaddr);
  if (ciaddr === undefined || x.req.ciaddr === ZERO) return x.ignore('debug', 'malformed-inform', 'INFORM without ciaddr');
  // The reply goes to ciaddr (or the relay): only to an address of a network served here, so a
  // forged INFORM cannot make the server send to arbitrary hosts.
  const subnet = x.subnets.find((s) => ((ciaddr & s.mask) >>> 0) === s.network);
  if (!subnet) return x.ignore('debug', 'not-ours', `ciaddr ${x.req.ciaddr} is not on a network served on ${x.where()}`);
  const serverId = x.serverId(subnet);
  if (serverId === undefined) return x.ignore('warn', 'no-server-address', `${x.ingress.ifname} has no IPv4 address to answer from (option 54)`);
  const spec: ReplySpec = { type: MESSAGE_TYPE.ACK, yiaddr: ZERO, ciaddr: x.req.ciaddr, serverId, subnet };
  if (c.kind === 'reserved') spec.hostname = c.reservation.hostname;
  if (c.kind === 'topology') {
    spec.hostname = c.topology.filer;
    spec.topology = c.topology;
  }
  return send(x, spec, [], 'informed');
}

/** Decides what to do with one decoded datagram. Never throws for any decoded message. */
export function respond(req: DhcpMessage, ingress: Ingress, ctx: RespondContext): Decision {
  const type = messageType(req);
  const x = new Exchange(req, ingress, ctx, type === undefined ? 'none' : messageTypeName(type));
  if (req.op !== OP.BOOTREQUEST) return x.ignore('debug', 'not-a-request', 'BOOTREPLY (another server, or a loop)');
  const bad = badRelay(x);
  if (bad !== undefined) return x.ignore('debug', 'bad-relay', bad);
  switch (type) {
    case MESSAGE_TYPE.DISCOVER:
      return onDiscover(x);
    case MESSAGE_TYPE.REQUEST:
      return onRequest(x);
    case MESSAGE_TYPE.DECLINE:
      return onDecline(x);
    case MESSAGE_TYPE.RELEASE:
      return onRelease(x);
    case MESSAGE_TYPE.INFORM:
      return onInform(x);
    default:
      return x.ignore('debug', 'unsupported-type', 'only DISCOVER, REQUEST, DECLINE, RELEASE and INFORM are for a server');
  }
}
