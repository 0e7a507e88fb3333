// What a DHCPACK grants, in the shape the agent configures from (seed 000: address with
// broadcast, per-server routes) and caches. Built from the ACK by leaseFromAck (pure).

import { z } from 'zod';
import { INFINITE_LEASE, OPTION, parseIPv4, type DhcpMessage } from '../dhcp-packet/index.js';
import { leaseTimers } from './timing.js';

const Dotted = z.string().refine((s) => parseIPv4(s) !== undefined, 'must be a dotted IPv4 address');

export const DhcpLease = z.object({
  /** The client identifier text sent in option 61. */
  identifier: z.string().min(1),
  /** Interface the lease was obtained on. */
  interface: z.string().min(1),
  /** yiaddr of the ACK. */
  address: Dotted,
  /** From option 1 (RFC 2132 §3.3); the address's class when the server sent none. */
  prefixLength: z.int().min(0).max(32),
  /** Option 28 (RFC 2132 §5.3), or the subnet's broadcast computed from address/prefix. */
  broadcast: Dotted,
  /** Option 3 (RFC 2132 §3.5), in the server's order. */
  routers: z.array(Dotted),
  /** Option 6 (RFC 2132 §3.8). */
  dns: z.array(Dotted),
  /** Option 42 (RFC 2132 §8.3). */
  ntp: z.array(Dotted),
  /** Option 15 (RFC 2132 §3.17). */
  domain: z.string().optional(),
  /** Option 12 (RFC 2132 §3.14). */
  hostname: z.string().optional(),
  /** Option 54 (RFC 2132 §9.7): where RENEW and RELEASE go (RFC 2131 §4.4.5, §4.4.6). */
  serverId: Dotted,
  /** Option 51, seconds; 0xffffffff is infinite (RFC 2131 §3.3). */
  leaseTime: z.int().min(0),
  /** T1 and T2 in seconds after obtainedAt (options 58/59 or RFC 2131 §4.4.5 defaults). */
  t1: z.int().min(0),
  t2: z.int().min(0),
  /** Clock time (ms) the REQUEST that got this ACK was first sent: lease times count from it (RFC 2131 §4.4.1). */
  obtainedAt: z.number(),
  /** Clock time (ms) the lease ends; null for an infinite lease. */
  expiresAt: z.number().nullable(),
  /** Option 43 (RFC 2132 §8.4) bytes, RFC 3396 instances joined, when the server sent it. */
  option43: z.instanceof(Buffer).optional(),
});
export type DhcpLease = z.infer<typeof DhcpLease>;

export function formatIPv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** Prefix length of a contiguous netmask, or undefined (255.0.255.0 is not one). */
export function maskToPrefix(mask: string): number | undefined {
  const n = parseIPv4(mask);
  if (n === undefined) return undefined;
  const inverted = ~n >>> 0;
  // A contiguous mask's host part is 2^k − 1: adding one leaves a single bit (or none).
  if ((inverted & (inverted + 1)) !== 0) return undefined;
  return 32 - Math.log2(inverted + 1);
}

/** The pre-CIDR class of an address (RFC 791): what a mask-less lease falls back to. */
export function classfulPrefix(address: string): number {
  const first = (parseIPv4(address) ?? 0) >>> 24;
  if (first < 128) return 8;
  if (first < 192) return 16;
  return 24;
}

export function broadcastOf(address: string, prefixLength: number): string {
  const n = parseIPv4(address) ?? 0;
  const host = prefixLength >= 32 ? 0 : 0xffffffff >>> prefixLength;
  return formatIPv4((n | host) >>> 0);
}

export interface LeaseContext {
  identifier: string;
  interface: string;
  /** When the REQUEST was first sent (ms). */
  requestedAt: number;
  /** Server id to use when the ACK has no option 54 (the one the REQUEST was sent to). */
  fallbackServerId?: string;
}

export type LeaseResult = { ok: true; lease: DhcpLease; warnings: string[] } | { ok: false; reason: string };

/** The lease an ACK grants, or why it grants none usable (no address, no lease time, no server). */
export function leaseFromAck(ack: DhcpMessage, ctx: LeaseContext): LeaseResult {
  const o = ack.options;
  const warnings: string[] = [];
  if (ack.yiaddr === '0.0.0.0') return { ok: false, reason: 'ACK without an address (yiaddr 0.0.0.0)' };
  const leaseTime = o.get(OPTION.LEASE_TIME);
  // RFC 2131 §4.3.1 table 3: option 51 MUST be in an ACK to a REQUEST.
  if (leaseTime === undefined) return { ok: false, reason: 'ACK without a lease time (option 51)' };
  const serverId = o.get(OPTION.SERVER_ID) ?? ctx.fallbackServerId;
  if (serverId === undefined) return { ok: false, reason: 'ACK without a server identifier (option 54)' };

  const mask = o.get(OPTION.SUBNET_MASK);
  let prefixLength = mask === undefined ? undefined : maskToPrefix(mask);
  if (prefixLength === undefined) {
    prefixLength = classfulPrefix(ack.yiaddr);
    warnings.push(mask === undefined ? `no subnet mask (option 1): using /${prefixLength}` : `subnet mask ${mask} is not contiguous: using /${prefixLength}`);
  }
  const { t1, t2 } = leaseTimers(leaseTime, o.get(OPTION.RENEWAL_TIME), o.get(OPTION.REBINDING_TIME));
  const lease: DhcpLease = {
    identifier: ctx.identifier,
    interface: ctx.interface,
    address: ack.yiaddr,
    prefixLength,
    broadcast: o.get(OPTION.BROADCAST_ADDRESS) ?? broadcastOf(ack.yiaddr, prefixLength),
    routers: o.get(OPTION.ROUTERS) ?? [],
    dns: o.get(OPTION.DNS_SERVERS) ?? [],
    ntp: o.get(OPTION.NTP_SERVERS) ?? [],
    serverId,
    leaseTime,
    t1,
    t2,
    obtainedAt: ctx.requestedAt,
    expiresAt: leaseTime >= INFINITE_LEASE ? null : ctx.requestedAt + leaseTime * 1000,
  };
  const domain = o.get(OPTION.DOMAIN_NAME);
  if (domain !== undefined) lease.domain = domain;
  const hostname = o.get(OPTION.HOSTNAME);
  if (hostname !== undefined) lease.hostname = hostname;
  const option43 = o.get(OPTION.VENDOR_SPECIFIC);
  if (option43 !== undefined) lease.option43 = Buffer.from(option43);
  return { ok: true, lease, warnings };
}

/** Clock time (ms) of T1, T2; Infinity for an infinite lease. */
export function renewAt(lease: DhcpLease): number {
  return lease.expiresAt === null ? Infinity : lease.obtainedAt + lease.t1 * 1000;
}
export function rebindAt(lease: DhcpLease): number {
  return lease.expiresAt === null ? Infinity : lease.obtainedAt + lease.t2 * 1000;
}
