// The three places options can live (RFC 3396 "aggregate option buffer": the options field,
// then `file`, then `sname` when option 52 says so), read into fragments on decode and laid out
// on encode. Splitting and joining long options (RFC 3396) and option overload (RFC 2132 §9.3)
// happen here and nowhere else.

import { decodeFail } from './codec.js';
import { END, FILE_LENGTH, MAX_INSTANCE_DATA, OVERLOAD, PAD, SNAME_LENGTH } from './constants.js';

export type AreaName = 'options' | 'file' | 'sname';

/** One option instance found in the packet: data is `buf[start, end)`, its code byte at `at`. */
export interface Fragment {
  code: number;
  at: number;
  start: number;
  end: number;
}

/**
 * Reads option instances from `buf[off, end)` into `out`. Pads are skipped, END stops the scan;
 * an area that runs out without END is accepted (nothing is lost by it). Every length byte is
 * checked against `end`, so a lying length is a DecodeError, never a read past the area.
 */
export function scanOptionArea(buf: Buffer, off: number, end: number, area: AreaName, out: Fragment[]): void {
  while (off < end) {
    const code = buf[off] as number;
    if (code === PAD) {
      off++;
      continue;
    }
    if (code === END) return;
    if (off + 1 >= end) decodeFail('truncated-option', `option ${code} in ${area}: no length byte before the end of the ${area} area`, off);
    const len = buf[off + 1] as number;
    const start = off + 2;
    if (start + len > end) {
      decodeFail('option-past-end', `option ${code} in ${area}: length ${len} runs ${start + len - end} bytes past the end of the ${area} area`, off);
    }
    out.push({ code, at: off, start, end: start + len });
    off = start + len;
  }
}

/** The option's data: the instance itself, or every instance joined in order (RFC 3396). */
export function joinFragments(buf: Buffer, frags: Fragment[]): { data: Buffer; off: number; end: number } {
  if (frags.length === 1) {
    const f = frags[0] as Fragment;
    return { data: buf, off: f.start, end: f.end };
  }
  const data = Buffer.concat(frags.map((f) => buf.subarray(f.start, f.end)));
  return { data, off: 0, end: data.length };
}

// ---- Encode-side layout ----

/** One option's encoded data, `values[start, end)`, in message order. */
export interface EncodedOption {
  code: number;
  start: number;
  end: number;
}

/** One instance to write: code, then `values[start, end)` (at most 255 bytes). */
export interface Instance {
  code: number;
  start: number;
  end: number;
}

export interface Layout {
  /** Instances for the options field, `file`, `sname`. */
  areas: [Instance[], Instance[], Instance[]];
  /** Value of option 52, 0 when no overload. */
  overload: number;
  /** Bytes the options field takes, option 52 and END included (pads after END excluded). */
  mainLength: number;
}

const FILE_ROOM = FILE_LENGTH - 1; // END must close an overloaded field (RFC 2131 §4.1)
const SNAME_ROOM = SNAME_LENGTH - 1;
const OVERLOAD_OPTION_LENGTH = 3; // 52, 1, value

/** Splits one option's data into instances of at most 255 bytes (RFC 3396); empty data is one empty instance. */
function splitOption(o: EncodedOption, out: Instance[]): number {
  let used = 0;
  let s = o.start;
  do {
    const e = Math.min(o.end, s + MAX_INSTANCE_DATA);
    out.push({ code: o.code, start: s, end: e });
    used += 2 + (e - s);
    s = e;
  } while (s < o.end);
  return used;
}

export class LayoutTooBig {
  constructor(readonly needed: number, readonly room: number) {}
}

/**
 * Places the options so the options field holds at most `mainRoom` bytes (END included).
 *
 * When everything fits, options go in message order, long ones split into consecutive 255-byte
 * instances. Otherwise `file` and then `sname` (each only if the caller left it empty) take the
 * overflow with option 52 set (RFC 2131 §4.1, RFC 2132 §9.3):
 *  - options of at most 255 bytes are never split, so clients without RFC 3396 still read them:
 *    each goes first-fit into the options field, `file`, `sname`, in message order;
 *  - longer options (already split by RFC 3396, so every reader must join them) then fill the
 *    room left, in area order, cut where an area ends.
 * Decoding this layout and encoding again gives the same bytes: options that stayed in the
 * options field come back first and still fit there; the rest fit nowhere earlier either.
 * Returns LayoutTooBig when it cannot fit even so.
 */
export function layoutOptions(options: EncodedOption[], mainRoom: number, fileFree: boolean, snameFree: boolean): Layout | LayoutTooBig {
  const main: Instance[] = [];
  let mainUsed = 0;
  for (const o of options) mainUsed += splitOption(o, main);
  if (mainUsed + 1 <= mainRoom) return { areas: [main, [], []], overload: 0, mainLength: mainUsed + 1 };

  const room = [mainRoom - OVERLOAD_OPTION_LENGTH - 1, fileFree ? FILE_ROOM : 0, snameFree ? SNAME_ROOM : 0];
  const areas: [Instance[], Instance[], Instance[]] = [[], [], []];
  const total = mainUsed;
  const totalRoom = Math.max(0, room[0] as number) + (room[1] as number) + (room[2] as number);

  for (const o of options) {
    const len = o.end - o.start;
    if (len > MAX_INSTANCE_DATA) continue;
    const a = room.findIndex((r) => r >= 2 + len);
    if (a === -1) return new LayoutTooBig(total, totalRoom);
    (areas[a] as Instance[]).push({ code: o.code, start: o.start, end: o.end });
    room[a] = (room[a] as number) - (2 + len);
  }
  for (const o of options) {
    if (o.end - o.start <= MAX_INSTANCE_DATA) continue;
    let s = o.start;
    let a = 0;
    while (s < o.end) {
      while (a < 3 && (room[a] as number) < 3) a++;
      if (a === 3) return new LayoutTooBig(total, totalRoom);
      const e = Math.min(o.end, s + MAX_INSTANCE_DATA, s + (room[a] as number) - 2);
      (areas[a] as Instance[]).push({ code: o.code, start: s, end: e });
      room[a] = (room[a] as number) - (2 + e - s);
      s = e;
    }
  }
  const overload = (areas[1].length > 0 ? OVERLOAD.FILE : 0) | (areas[2].length > 0 ? OVERLOAD.SNAME : 0);
  const used0 = areas[0].reduce((n, i) => n + 2 + i.end - i.start, 0);
  return { areas, overload, mainLength: OVERLOAD_OPTION_LENGTH + used0 + 1 };
}

/** Writes instances at `off` followed by END; returns the offset after END. */
export function writeInstances(instances: Instance[], values: Buffer, buf: Buffer, off: number): number {
  for (const i of instances) {
    buf[off] = i.code;
    buf[off + 1] = i.end - i.start;
    values.copy(buf, off + 2, i.start, i.end);
    off += 2 + i.end - i.start;
  }
  buf[off] = END;
  return off + 1;
}
