// A whole DHCP message: the BOOTP header and its options. decodeMessage turns any datagram into a
// message or a DecodeError (nothing else escapes); encodeMessage writes one that fits the size
// the receiver accepts, overloading sname/file when it must.

import { EncodeError } from '../errors.js';
import { colonHex, decodeFail, type Codec } from './codec.js';
import {
  BOOTP_MIN_LENGTH, BROADCAST_FLAG, FILE_LENGTH, IP_UDP_OVERHEAD, MIN_MAX_MESSAGE_SIZE, OFFSET, OPTIONS_OFFSET,
  OVERLOAD, SNAME_LENGTH, type MessageType, type Op,
} from './constants.js';
import { headerCodec, type BootpHeader } from './header.js';
import { joinFragments, LayoutTooBig, layoutOptions, scanOptionArea, writeInstances, type EncodedOption, type Fragment, type Layout } from './option-area.js';
import { OPTION, optionCodec, optionName, type AnyOptionValue } from './option-table.js';
import { checkSettableCode, DhcpOptions } from './options.js';

export interface DhcpMessage extends BootpHeader {
  options: DhcpOptions;
}

export interface EncodeOptions {
  /**
   * Largest datagram the receiver accepts, counted like option 57: the whole IP datagram
   * (RFC 2132 §9.10). Values below 576 are raised to 576, which every agent must accept
   * (RFC 2131 §2). Default 576. A server passes `maxMessageSize(request)`.
   */
  maxSize?: number;
}

/** Largest UDP payload in an IPv4 datagram (65535 − 20 − 8). */
const MAX_UDP_PAYLOAD = 65535 - IP_UDP_OVERHEAD;

// ---- decode ----

/**
 * Decodes one DHCP datagram (`buf[off, end)`). Throws only DecodeError (code RS_DECODE, with
 * `reason` and `offset`); reads nothing outside the range and allocates at most about its size.
 */
export function decodeMessage(input: Uint8Array, off = 0, end = input.length): DhcpMessage {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (!Number.isInteger(off) || !Number.isInteger(end) || off < 0 || end > buf.length || off > end) {
    decodeFail('truncated-header', `range ${off}..${end} is outside the ${buf.length}-byte buffer`, 0);
  }
  const header = headerCodec.decode(buf, off, end).value;

  const frags: Fragment[] = [];
  scanOptionArea(buf, off + OPTIONS_OFFSET, end, 'options', frags);
  const overload = readOverload(buf, frags);
  if (overload !== 0) {
    const firstOverflow = frags.length;
    // Order matters: RFC 3396 joins the options field, then file, then sname.
    if (overload & OVERLOAD.FILE) scanOptionArea(buf, off + OFFSET.file, off + OFFSET.file + FILE_LENGTH, 'file', frags);
    if (overload & OVERLOAD.SNAME) scanOptionArea(buf, off + OFFSET.sname, off + OFFSET.sname + SNAME_LENGTH, 'sname', frags);
    for (let i = firstOverflow; i < frags.length; i++) {
      const f = frags[i] as Fragment;
      if (f.code === OPTION.OVERLOAD) decodeFail('bad-overload', 'option 52 (overload) inside an overloaded sname/file field', f.at);
    }
    if (overload & OVERLOAD.FILE) header.file = '';
    if (overload & OVERLOAD.SNAME) header.sname = '';
  }

  // Group instances by code, in order of first appearance (RFC 3396: all instances are one option).
  const byCode = new Map<number, Fragment[]>();
  for (const f of frags) {
    if (f.code === OPTION.OVERLOAD) continue;
    const list = byCode.get(f.code);
    if (list) list.push(f);
    else byCode.set(f.code, [f]);
  }
  const entries: Array<[number, AnyOptionValue]> = [];
  for (const [code, list] of byCode) {
    const { data, off: s, end: e } = joinFragments(buf, list);
    const at = (list[0] as Fragment).at;
    const value = optionCodec(code).decode(data, s, e, { what: `option ${code} (${optionName(code)})`, at }).value;
    entries.push([code, value as AnyOptionValue]);
  }
  if (!byCode.has(OPTION.MESSAGE_TYPE)) {
    // Without 53 this is BOOTP, not DHCP (RFC 2131 §3): nothing rackstrap answers or expects.
    decodeFail('missing-message-type', 'no option 53 (message type): not a DHCP message', off + OPTIONS_OFFSET);
  }
  return { ...header, options: DhcpOptions.fromDecoded(entries) };
}

/** Validates option 52 (RFC 2132 §9.3: one byte, 1–3) if present; returns its value or 0. */
function readOverload(buf: Buffer, frags: Fragment[]): number {
  const own = frags.filter((f) => f.code === OPTION.OVERLOAD);
  if (own.length === 0) return 0;
  const at = (own[0] as Fragment).at;
  if (own.length > 1) decodeFail('bad-overload', `option 52 (overload) appears ${own.length} times`, (own[1] as Fragment).at);
  const f = own[0] as Fragment;
  if (f.end - f.start !== 1) decodeFail('bad-overload', `option 52 (overload): length ${f.end - f.start}, expected 1`, at);
  const v = buf[f.start] as number;
  if (v < OVERLOAD.FILE || v > OVERLOAD.BOTH) decodeFail('bad-overload', `option 52 (overload): value ${v}, expected 1, 2 or 3`, at);
  return v;
}

// ---- encode ----

interface Plan {
  length: number;
  values: Buffer;
  layout: Layout;
}

function planMessage(msg: DhcpMessage, opts: EncodeOptions | undefined): Plan {
  headerCodec.encodingLength(msg);
  if (!(msg.options instanceof DhcpOptions)) throw new EncodeError('bad-value', 'options: expected a DhcpOptions');
  if (!msg.options.has(OPTION.MESSAGE_TYPE)) {
    throw new EncodeError('missing-message-type', 'option 53 (message type) is required in every DHCP message');
  }
  const maxSize = effectiveMaxSize(opts?.maxSize);

  // Every option's data goes into one scratch buffer first: one allocation, then the layout
  // only moves ranges of it around.
  let total = 0;
  for (const [code, value] of msg.options) {
    checkSettableCode(code);
    try {
      total += optionCodec(code).encodingLength(value);
    } catch (err) {
      if (err instanceof EncodeError) throw new EncodeError(err.reason, `option ${code} (${optionName(code)}): ${err.message}`);
      throw err;
    }
  }
  const values = Buffer.allocUnsafe(total);
  const encoded: EncodedOption[] = [];
  let at = 0;
  for (const [code, value] of msg.options) {
    const end = optionCodec(code).encode(value, values, at);
    encoded.push({ code, start: at, end });
    at = end;
  }

  const payload = maxSize - IP_UDP_OVERHEAD;
  const layout = layoutOptions(encoded, payload - OPTIONS_OFFSET, msg.file === '', msg.sname === '');
  if (layout instanceof LayoutTooBig) {
    throw new EncodeError(
      'too-big',
      `options need ${layout.needed} bytes but only ${layout.room} fit in a ${maxSize}-byte datagram, even with sname/file overloaded`,
    );
  }
  return { length: Math.max(BOOTP_MIN_LENGTH, OPTIONS_OFFSET + layout.mainLength), values, layout };
}

function effectiveMaxSize(maxSize: number | undefined): number {
  if (maxSize === undefined) return MIN_MAX_MESSAGE_SIZE;
  if (typeof maxSize !== 'number' || Number.isNaN(maxSize)) throw new EncodeError('bad-value', `maxSize: ${String(maxSize)} is not a number`);
  return Math.min(MAX_UDP_PAYLOAD + IP_UDP_OVERHEAD, Math.max(MIN_MAX_MESSAGE_SIZE, Math.floor(maxSize)));
}

/** Bytes encodeMessage(msg, opts) will return. Throws what encodeMessage throws. */
export function encodingLength(msg: DhcpMessage, opts?: EncodeOptions): number {
  return planMessage(msg, opts).length;
}

/**
 * Encodes `msg` into a new Buffer no larger than `opts.maxSize` − 28. Throws EncodeError:
 * `bad-value`/`bad-code` for a field or option that cannot be encoded, `missing-message-type`,
 * `too-big` when the options do not fit even with sname/file overloaded.
 */
export function encodeMessage(msg: DhcpMessage, opts?: EncodeOptions): Buffer {
  const plan = planMessage(msg, opts);
  const buf = Buffer.alloc(plan.length);
  writePlanned(msg, plan, buf, 0);
  return buf;
}

function writePlanned(msg: DhcpMessage, plan: Plan, buf: Buffer, off: number): number {
  headerCodec.encode(msg, buf, off);
  buf.fill(0, off + OPTIONS_OFFSET, off + plan.length);
  const { areas, overload } = plan.layout;
  let p = off + OPTIONS_OFFSET;
  if (overload !== 0) {
    buf[p] = OPTION.OVERLOAD;
    buf[p + 1] = 1;
    buf[p + 2] = overload;
    p += 3;
  }
  writeInstances(areas[0], plan.values, buf, p);
  if (overload & OVERLOAD.FILE) writeInstances(areas[1], plan.values, buf, off + OFFSET.file);
  if (overload & OVERLOAD.SNAME) writeInstances(areas[2], plan.values, buf, off + OFFSET.sname);
  return off + plan.length;
}

/** The message codec in the house Codec shape (encode at an offset, decode a range), for a given size limit. */
export function messageCodec(opts?: EncodeOptions): Codec<DhcpMessage> {
  return {
    encodingLength: (msg) => encodingLength(msg, opts),
    encode: (msg, buf, off) => {
      const plan = planMessage(msg, opts);
      if (off < 0 || off + plan.length > buf.length) throw new EncodeError('too-big', `${plan.length} bytes do not fit at offset ${off} of a ${buf.length}-byte buffer`);
      return writePlanned(msg, plan, buf, off);
    },
    decode: (buf, off, end) => {
      const value = decodeMessage(buf, off, end);
      return { value, off: end };
    },
  };
}

// ---- building and reading ----

export interface MessageInit extends Partial<Omit<BootpHeader, 'op' | 'xid'>> {
  op: Op;
  xid: number;
  /** Option 53, written first (the order ISC dhcpd, Kea and most clients use). */
  type: MessageType;
  /** More options, in order (option 53 excluded: it comes from `type`). */
  options?: Iterable<readonly [number, AnyOptionValue]>;
}

/** A message with every unset header field zero/empty (RFC 2131 §2 "set to zero" defaults). */
export function createMessage(init: MessageInit): DhcpMessage {
  const options = new DhcpOptions().set(OPTION.MESSAGE_TYPE, init.type);
  for (const [code, value] of init.options ?? []) {
    if (code === OPTION.MESSAGE_TYPE) throw new EncodeError('bad-code', 'give the message type as `type`, not as option 53');
    options.set(code, value);
  }
  return {
    op: init.op,
    htype: init.htype ?? 1,
    hops: init.hops ?? 0,
    xid: init.xid,
    secs: init.secs ?? 0,
    flags: init.flags ?? 0,
    ciaddr: init.ciaddr ?? '0.0.0.0',
    yiaddr: init.yiaddr ?? '0.0.0.0',
    siaddr: init.siaddr ?? '0.0.0.0',
    giaddr: init.giaddr ?? '0.0.0.0',
    chaddr: init.chaddr ? Buffer.from(init.chaddr) : Buffer.alloc(0),
    sname: init.sname ?? '',
    file: init.file ?? '',
    options,
  };
}

/** Option 53 of a decoded (or created) message. */
export function messageType(msg: DhcpMessage): MessageType | undefined {
  return msg.options.get(OPTION.MESSAGE_TYPE);
}

/** The size a reply to `request` may take, for EncodeOptions.maxSize: its option 57, at least 576. */
export function maxMessageSize(request: DhcpMessage): number {
  return Math.max(MIN_MAX_MESSAGE_SIZE, request.options.get(OPTION.MAX_MESSAGE_SIZE) ?? MIN_MAX_MESSAGE_SIZE);
}

/** The client asked for broadcast replies (RFC 2131 §4.1: it cannot take unicast before it has an address). */
export function isBroadcast(msg: DhcpMessage): boolean {
  return (msg.flags & BROADCAST_FLAG) !== 0;
}

/** The client hardware address (chaddr, hlen bytes) as colon hex, e.g. `52:54:00:12:34:56`. */
export function hardwareAddress(msg: DhcpMessage): string {
  return colonHex(msg.chaddr);
}
