// IPv4 addresses as unsigned 32-bit numbers: the server's tables are keyed by them (a number key
// is cheaper than a string in a Map of 65k leases) and ranges become comparisons. Dotted text is
// only for messages, logs and the lease log.

import { parseIPv4 } from '../dhcp-packet/index.js';

/** `a.b.c.d` → number. Throws RangeError for text that is not a dotted quad: callers pass validated input. */
export function toNumber(text: string): number {
  const n = parseIPv4(text);
  if (n === undefined) throw new RangeError(`${JSON.stringify(text)} is not an IPv4 address`);
  return n;
}

/** `a.b.c.d`, or undefined when the text is not one (wire or user input). */
export function tryNumber(text: string): number | undefined {
  return parseIPv4(text);
}

export function toText(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Netmask of a prefix length, as a number (0 → 0.0.0.0). */
export function maskOf(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** The unspecified address (RFC 2131 §2: "0.0.0.0" in an address field means "not set"). */
export const ZERO = '0.0.0.0';
/** Limited broadcast (RFC 2131 §4.1): the reply reaches a client that has no address yet. */
export const LIMITED_BROADCAST = '255.255.255.255';

/** An inclusive range of addresses, as numbers. */
export interface AddressRange {
  readonly start: number;
  readonly end: number;
}

export function inRange(range: AddressRange | undefined, address: number): boolean {
  return range !== undefined && address >= range.start && address <= range.end;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Bytes as lower-case colon hex (`52:54:00:12:34:56`): the codec's colonHex, without a regex, for the per-request path. */
export function colonHexFast(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += i === 0 ? HEX[bytes[i] as number] : `:${HEX[bytes[i] as number]}`;
  return out;
}
