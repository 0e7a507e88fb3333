// The codec shape every part of the packet uses (house style, after dns-packet): the length is
// computed first so a message is allocated once and written in place; every read is checked
// against `end`, and a failed check is a DecodeError naming what was being read and where.

import { DecodeError, EncodeError } from '../errors.js';

/** Where a value sits, for error messages: `what` names it, `at` is its offset in the packet. */
export interface DecodeContext {
  what: string;
  at: number;
}

export interface Codec<T> {
  /** Bytes `v` takes on the wire. Throws EncodeError (`bad-value`) for a value that cannot be encoded. */
  encodingLength(v: T): number;
  /** Writes `v` at `off` (room already checked by the caller via encodingLength); returns the new offset. */
  encode(v: T, buf: Buffer, off: number): number;
  /** Reads one value from `buf[off, end)`; never reads at or past `end`. */
  decode(buf: Buffer, off: number, end: number, ctx?: DecodeContext): { value: T; off: number };
}

/** Every DecodeError of the packet codec carries one of these as `reason`. */
export type DecodeReason =
  | 'truncated-header'
  | 'bad-op'
  | 'bad-hlen'
  | 'bad-cookie'
  | 'truncated-option'
  | 'option-past-end'
  | 'bad-overload'
  | 'bad-option'
  | 'missing-message-type'
  | 'bad-message-type';

export function decodeFail(reason: DecodeReason, message: string, offset: number): never {
  throw new DecodeError(message, offset, { reason });
}

export function encodeFail(message: string): never {
  throw new EncodeError('bad-value', message);
}

/** A value codec that must consume exactly its bytes: the data of one option. */
function fixed<T>(size: number, read: (buf: Buffer, off: number) => T, write: (v: T, buf: Buffer, off: number) => void, check: (v: T) => string | undefined): Codec<T> {
  return {
    encodingLength(v) {
      const problem = check(v);
      if (problem !== undefined) encodeFail(problem);
      return size;
    },
    encode(v, buf, off) {
      write(v, buf, off);
      return off + size;
    },
    decode(buf, off, end, ctx) {
      if (end - off !== size) {
        decodeFail('bad-option', `${ctx?.what ?? 'value'}: length ${end - off}, expected ${size}`, ctx?.at ?? off);
      }
      return { value: read(buf, off), off: off + size };
    },
  };
}

function checkUint(v: number, max: number): string | undefined {
  return Number.isInteger(v) && v >= 0 && v <= max ? undefined : `${String(v)} is not an integer in 0..${max}`;
}

export const uint8: Codec<number> = fixed(1, (b, o) => b[o] as number, (v, b, o) => { b[o] = v; }, (v) => checkUint(v, 0xff));
export const uint16: Codec<number> = fixed(2, (b, o) => b.readUInt16BE(o), (v, b, o) => { b.writeUInt16BE(v, o); }, (v) => checkUint(v, 0xffff));
export const uint32: Codec<number> = fixed(4, (b, o) => b.readUInt32BE(o), (v, b, o) => { b.writeUInt32BE(v, o); }, (v) => checkUint(v, 0xffffffff));

// ---- IPv4 addresses, as dotted-quad strings (what configs, logs and iproute2 use) ----

/** Parses `a.b.c.d` (decimal, no leading zeros, each 0–255) to a 32-bit number, or undefined. */
export function parseIPv4(s: string): number | undefined {
  if (typeof s !== 'string' || s.length < 7 || s.length > 15) return undefined;
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46; // a virtual '.' closes the last part
    if (c === 46) {
      if (digits === 0 || parts === 4) return undefined;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return undefined; // leading zero: 010 is ambiguous (octal to inet_aton)
      part = part * 10 + (c - 48);
      digits++;
      if (part > 255) return undefined;
    } else {
      return undefined;
    }
  }
  return parts === 4 ? value : undefined;
}

/** Lower-case colon hex, `01:52:54:00:12:34:56` (the form dhcpd, Kea and dnsmasq print). */
export function colonHex(raw: Uint8Array): string {
  return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex').replace(/(..)(?!$)/g, '$1:');
}

export function formatIPv4(buf: Buffer, off: number): string {
  return `${buf[off] as number}.${buf[off + 1] as number}.${buf[off + 2] as number}.${buf[off + 3] as number}`;
}

function writeIPv4(s: string, buf: Buffer, off: number): void {
  buf.writeUInt32BE(parseIPv4(s) as number, off);
}

function checkIPv4(s: string): string | undefined {
  return parseIPv4(s) === undefined ? `${JSON.stringify(s)} is not an IPv4 address` : undefined;
}

export const ipv4: Codec<string> = fixed(4, formatIPv4, writeIPv4, checkIPv4);

/** A list of IPv4 addresses (routers, DNS, NTP; RFC 2132 §3.5 ff.): the length must be a multiple of 4. */
export const ipv4List: Codec<string[]> = {
  encodingLength(v) {
    if (!Array.isArray(v)) encodeFail('expected an array of IPv4 addresses');
    for (const a of v) {
      const problem = checkIPv4(a);
      if (problem !== undefined) encodeFail(problem);
    }
    return v.length * 4;
  },
  encode(v, buf, off) {
    for (const a of v) {
      writeIPv4(a, buf, off);
      off += 4;
    }
    return off;
  },
  decode(buf, off, end, ctx) {
    if ((end - off) % 4 !== 0) {
      decodeFail('bad-option', `${ctx?.what ?? 'address list'}: length ${end - off} is not a multiple of 4`, ctx?.at ?? off);
    }
    const value: string[] = [];
    for (; off < end; off += 4) value.push(formatIPv4(buf, off));
    return { value, off };
  },
};

// ---- Bytes and text ----

/** Raw bytes, kept as they came (client identifier, relay agent information, vendor data, unknown options). */
export const bytes: Codec<Buffer> = {
  encodingLength(v) {
    if (!(v instanceof Uint8Array)) encodeFail('expected a Buffer');
    return v.length;
  },
  encode(v, buf, off) {
    buf.set(v, off);
    return off + v.length;
  },
  decode(buf, off, end) {
    // A copy, not a view: the message must not change when the caller reuses its receive buffer.
    return { value: Buffer.from(buf.subarray(off, end)), off: end };
  },
};

/**
 * DHCP text is bytes (RFC 2132 NVT ASCII, in practice anything). We map byte n to U+00nn
 * (latin1) so every byte survives decode → encode unchanged; ASCII, all rackstrap writes, is
 * the same either way. Encoding refuses characters above U+00FF rather than mangle them.
 */
export function checkLatin1(s: string): string | undefined {
  if (typeof s !== 'string') return 'expected a string';
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) return `${JSON.stringify(s)}: character ${i} is outside one byte (U+0000–U+00FF)`;
  }
  return undefined;
}

export const text: Codec<string> = {
  encodingLength(v) {
    const problem = checkLatin1(v);
    if (problem !== undefined) encodeFail(problem);
    return v.length;
  },
  encode(v, buf, off) {
    return off + buf.write(v, off, 'latin1');
  },
  decode(buf, off, end) {
    return { value: buf.toString('latin1', off, end), off: end };
  },
};

/** A list of option codes (parameter request list, RFC 2132 §9.8): one byte each. */
export const uint8List: Codec<number[]> = {
  encodingLength(v) {
    if (!Array.isArray(v)) encodeFail('expected an array of option codes');
    for (const n of v) {
      const problem = checkUint(n, 0xff);
      if (problem !== undefined) encodeFail(problem);
    }
    return v.length;
  },
  encode(v, buf, off) {
    for (const n of v) buf[off++] = n;
    return off;
  },
  decode(buf, off, end) {
    return { value: Array.from(buf.subarray(off, end)), off: end };
  },
};
