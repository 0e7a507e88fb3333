// The framing layer: option 43's payload as 1-byte code, 1-byte length sub-options (RFC 2132 §8.4).
// Object text is carried as bytes one-to-one (latin1), so a stray byte survives into the text
// layer and is reported there by value instead of being mangled by a UTF-8 decoder.
import { END, HEADER_CODE, LAST_OBJECT_CODE, MAX_OBJECT_BYTES, PAD } from './constants.js';
import { ObjectTooLongError, WireDecodeError, WireEncodeError } from './errors.js';

/** One sub-option of our space: its code and its object text (one byte per character). */
export interface SubOption {
  code: number;
  text: string;
}

/** Lowest and highest sub-option code (0 is pad, 255 is end: RFC 2132 §3.1, §3.2). */
const MIN_CODE = HEADER_CODE;
const MAX_CODE = LAST_OBJECT_CODE;

/** Bytes one sub-option takes in option 43: code, length, value. */
export function subOptionSize(text: string): number {
  return 2 + text.length;
}

/** Writes sub-options in the given order, without pads or an end byte. */
export function subOptionsToBytes(objs: readonly SubOption[]): Buffer {
  const seen = new Set<number>();
  let size = 0;
  for (const o of objs) {
    if (!Number.isInteger(o.code) || o.code < MIN_CODE || o.code > MAX_CODE) {
      throw new WireEncodeError('RS_WIRE_UNREPRESENTABLE', `sub-option code ${o.code} is outside ${MIN_CODE}-${MAX_CODE}`);
    }
    if (seen.has(o.code)) throw new WireEncodeError('RS_WIRE_UNREPRESENTABLE', `sub-option code ${o.code} given twice`);
    seen.add(o.code);
    if (o.text.length > MAX_OBJECT_BYTES) throw new ObjectTooLongError(o.text.split(' ', 1)[0] ?? '', o.text.length, MAX_OBJECT_BYTES);
    for (let i = 0; i < o.text.length; i++) {
      if (o.text.charCodeAt(i) > 0xff) {
        throw new WireEncodeError('RS_WIRE_UNREPRESENTABLE', `sub-option ${o.code}: character at ${i} is not a single byte`);
      }
    }
    size += subOptionSize(o.text);
  }
  const buf = Buffer.alloc(size);
  let off = 0;
  for (const o of objs) {
    buf[off++] = o.code;
    buf[off++] = o.text.length;
    off += buf.write(o.text, off, 'latin1');
  }
  return buf;
}

/**
 * Joins option 43 instances in message order (options field, then file, then sname: RFC 3396 §5
 * with option overload). dhcpd splits at arbitrary bytes, so a sub-option may straddle instances.
 */
export function joinOption43(instances: readonly Buffer[]): Buffer {
  return Buffer.concat(instances);
}

/**
 * Reads option 43's payload into sub-options, in wire order. Skips pads, stops at an end byte
 * (RFC 2132 §8.4: it ends the encapsulated options; dnsmasq appends one). Every length is checked
 * against the end of the payload before it is used.
 */
export function parseSubOptions(payload: Buffer | readonly Buffer[]): SubOption[] {
  const buf = Buffer.isBuffer(payload) ? payload : joinOption43(payload as readonly Buffer[]);
  const out: SubOption[] = [];
  const seenAt = new Map<number, number>();
  let off = 0;
  while (off < buf.length) {
    const code = buf[off]!;
    if (code === PAD) {
      off++;
      continue;
    }
    if (code === END) break;
    if (off + 1 >= buf.length) {
      throw new WireDecodeError('RS_WIRE_TRUNCATED', `sub-option ${code}: option 43 ends before its length byte`, off);
    }
    const len = buf[off + 1]!;
    if (len > MAX_OBJECT_BYTES) {
      throw new WireDecodeError('RS_WIRE_OVERLONG', `sub-option ${code}: length ${len} is over the ${MAX_OBJECT_BYTES}-byte object limit`, off);
    }
    const start = off + 2;
    if (start + len > buf.length) {
      throw new WireDecodeError(
        'RS_WIRE_LENGTH',
        `sub-option ${code}: length ${len} runs ${start + len - buf.length} bytes past the end of option 43`,
        off,
      );
    }
    const first = seenAt.get(code);
    if (first !== undefined) {
      throw new WireDecodeError('RS_WIRE_DUPLICATE_CODE', `sub-option ${code} appears twice (first at byte ${first})`, off);
    }
    seenAt.set(code, off);
    out.push({ code, text: buf.toString('latin1', start, start + len) });
    off = start + len;
  }
  return out;
}
