// Seeded mutation fuzzer for the packet codec, shared by test/dhcp-packet/fuzz.test.ts (tens of
// thousands of packets per run) and bench/fuzz-codec.ts (a million). It starts from real and
// representative packets, mutates them the ways broken or hostile senders do, and checks that
// the codec's contract holds for every result:
//  - decodeMessage returns a message or throws a DecodeError with a known reason; nothing else;
//  - a decoded message re-encodes without throwing (at the largest size) and decodes back equal,
//    and re-encoding that gives the same bytes;
//  - at 576 bytes it either fits (≤ 548 bytes, decodes back equal) or throws EncodeError too-big.
// Anything else is an "escape", recorded with the packet's hex so it can be replayed.

import { decodeMessage, encodeMessage, encodingLength, messageToJSON, type DhcpMessage } from '../../../src/dhcp-packet/index.js';
import { DecodeError, EncodeError } from '../../../src/errors.js';
import { FIXTURE_NAMES, loadHex, rawPacket, sampleMessages, sortedJSON } from './support.js';

const DECODE_REASONS = new Set([
  'truncated-header', 'bad-op', 'bad-hlen', 'bad-cookie', 'truncated-option', 'option-past-end', 'bad-overload', 'bad-option',
  'missing-message-type', 'bad-message-type',
]);

/** xorshift32: small, fast, and the same sequence for the same seed on every machine. */
export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.#s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x >>> 0;
    return this.#s;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return this.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
}

/** Packets to start from: the captured client packets, our own encodings (plain and overloaded), hand-made RFC 3396 shapes. */
export function seedCorpus(): Buffer[] {
  const corpus = FIXTURE_NAMES.map(loadHex);
  for (const { msg } of sampleMessages()) {
    corpus.push(encodeMessage(msg, { maxSize: 1500 }));
    try {
      corpus.push(encodeMessage(msg));
    } catch {
      // too big for 576: the 1500 encoding is enough
    }
  }
  const big = sampleMessages()[2]!.msg;
  big.options.set(43, Buffer.alloc(380, 0x7b));
  corpus.push(encodeMessage(big)); // overloaded into file and sname
  corpus.push(rawPacket([53, 1, 1, 52, 1, 3, 43, 2, 0x41, 0x41, 255], { file: [43, 2, 0x42, 0x42, 255], sname: [43, 2, 0x43, 0x43, 12, 3, 0x66, 0x6f, 0x6f, 255] }));
  corpus.push(rawPacket([53, 1, 5, 43, 3, 1, 2, 3, 12, 1, 0x61, 43, 2, 4, 5, 3, 4, 10, 0, 0, 1, 255]));
  return corpus;
}

const INTERESTING = [0, 1, 2, 3, 4, 6, 16, 17, 50, 51, 52, 53, 54, 55, 61, 82, 127, 128, 254, 255];
const CODES = [1, 3, 6, 12, 15, 28, 42, 43, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 82, 0, 255, 121, 200];

/** Option instances found by a forgiving walk from `from` (stops at END or at a length that does not fit). */
function optionSpans(p: Buffer, from: number, to: number): Array<{ at: number; len: number }> {
  const spans: Array<{ at: number; len: number }> = [];
  let i = from;
  while (i + 1 < to) {
    const code = p[i] as number;
    if (code === 0) { i++; continue; }
    if (code === 255) break;
    const len = p[i + 1] as number;
    if (i + 2 + len > to) break;
    spans.push({ at: i, len });
    i += 2 + len;
  }
  return spans;
}

function randomOption(r: Rng): Buffer {
  const code = r.int(4) === 0 ? r.int(256) : r.pick(CODES);
  const len = r.pick([0, 1, 2, 3, 4, 5, 8, r.int(64), r.int(256), 255]);
  const data = r.int(3) === 0 ? Buffer.alloc(len, r.pick(INTERESTING)) : r.bytes(len);
  return Buffer.concat([Buffer.of(code, len), data]);
}

function insertAt(p: Buffer, at: number, bytes: Buffer): Buffer {
  return Buffer.concat([p.subarray(0, at), bytes, p.subarray(at)]);
}

type Mutator = (p: Buffer, r: Rng, corpus: Buffer[]) => Buffer;

const MUTATORS: Record<string, Mutator> = {
  bitFlip(p, r) {
    if (p.length === 0) return p;
    const i = r.int(p.length);
    p[i] = (p[i] as number) ^ (1 << r.int(8));
    return p;
  },
  byteSet(p, r) {
    if (p.length === 0) return p;
    p[r.int(p.length)] = r.int(2) ? r.pick(INTERESTING) : r.int(256);
    return p;
  },
  truncate(p, r) {
    const cuts = [r.int(p.length + 1), 235, 236, 239, 240, 241, 242, p.length - 1, p.length - 2];
    return p.subarray(0, Math.max(0, Math.min(p.length, r.pick(cuts))));
  },
  lengthLie(p, r) {
    const spans = optionSpans(p, 240, p.length);
    if (spans.length === 0) return p;
    const s = r.pick(spans);
    p[s.at + 1] = r.pick([0, 1, s.len + 1, s.len - 1 & 0xff, 255, 254, r.int(256), p.length - s.at - 2 & 0xff, p.length - s.at - 1 & 0xff]);
    return p;
  },
  insertOption(p, r) {
    const spans = optionSpans(p, 240, p.length);
    const at = spans.length > 0 && r.int(4) > 0 ? r.pick(spans).at : Math.min(p.length, 240 + r.int(Math.max(1, p.length - 239)));
    return insertAt(p, at, randomOption(r));
  },
  duplicateOption(p, r) {
    const spans = optionSpans(p, 240, p.length);
    if (spans.length === 0) return p;
    const s = r.pick(spans);
    const copy = Buffer.from(p.subarray(s.at, s.at + 2 + s.len));
    const to = r.int(2) ? s.at : r.pick(spans).at;
    return insertAt(p, to, copy);
  },
  overloadGame(p, r) {
    if (p.length < 240) return p;
    const value = r.pick([0, 1, 2, 3, 3, 3, 4, 255]);
    const mode = r.int(4);
    const q = insertAt(p, 240, mode === 0 ? Buffer.of(52, 1, value) : mode === 1 ? Buffer.of(52, 2, value, value) : mode === 2 ? Buffer.of(52, 0) : Buffer.of(52, 1, value, 52, 1, r.int(4)));
    // Fill file (and sometimes sname) with option-like bytes, text, or noise.
    for (const [off, size] of [[108, 128], [44, 64]] as const) {
      const kind = r.int(5);
      if (kind === 0) continue;
      let fill: Buffer;
      if (kind === 1) fill = r.bytes(size);
      else if (kind === 2) fill = Buffer.from('pxelinux.0\0'.padEnd(size, '\0'), 'latin1');
      else {
        const parts: Buffer[] = [];
        let n = 0;
        while (n < size) {
          const o = r.int(6) === 0 ? Buffer.of(r.pick([0, 255])) : randomOption(r).subarray(0, 2 + r.int(40));
          parts.push(o);
          n += o.length;
        }
        if (kind === 4) parts.push(Buffer.of(255));
        fill = Buffer.concat(parts);
      }
      fill.copy(q, off, 0, Math.min(size, fill.length));
    }
    return q;
  },
  headerGame(p, r) {
    if (p.length < 4) return p;
    const which = r.int(4);
    if (which === 0) p[2] = r.pick([0, 6, 16, 17, 255, r.int(256)]);
    else if (which === 1) p[0] = r.pick([0, 1, 2, 3]);
    else if (which === 2 && p.length >= 240) p[236 + r.int(4)] = r.int(256);
    else {
      const from = Math.min(p.length, 44 + r.int(64));
      p.fill(r.pick([0, 0x41, 0xff]), from, Math.min(p.length, from + r.int(192)));
    }
    return p;
  },
  extend(p, r) {
    return Buffer.concat([p, r.int(2) ? r.bytes(r.int(600)) : Buffer.alloc(r.int(600), r.pick([0, 255]))]);
  },
  splice(p, r, corpus) {
    const other = r.pick(corpus);
    if (other.length <= 240 || p.length <= 240) return p;
    const from = 240 + r.int(other.length - 240);
    const chunk = other.subarray(from, from + r.int(200));
    const at = 240 + r.int(p.length - 240);
    return r.int(2) ? insertAt(p, at, chunk) : Buffer.concat([p.subarray(0, at), chunk]);
  },
};
const MUTATOR_NAMES = Object.keys(MUTATORS);

export interface Escape {
  iteration: number;
  stage: string;
  error: string;
  hex: string;
}

export interface FuzzResult {
  packets: number;
  /** Outcome counts: `decoded`, `decode:<reason>`, `encode576:too-big`, `encode576:fits`. */
  histogram: Map<string, number>;
  escapes: Escape[];
  escapeCount: number;
  ms: number;
}

function bump(h: Map<string, number>, k: string): void {
  h.set(k, (h.get(k) ?? 0) + 1);
}

function sameJSON(a: DhcpMessage, b: DhcpMessage, sorted: boolean): boolean {
  return JSON.stringify(sorted ? sortedJSON(a) : messageToJSON(a)) === JSON.stringify(sorted ? sortedJSON(b) : messageToJSON(b));
}

const MAX = { maxSize: 65535 };

/** Checks one packet against the contract; returns the escape stage and error, or undefined. */
export function checkPacket(p: Buffer, h: Map<string, number>): { stage: string; error: string } | undefined {
  let m: DhcpMessage;
  try {
    m = decodeMessage(p);
  } catch (err) {
    if (err instanceof DecodeError && err.code === 'RS_DECODE' && err.reason !== undefined && DECODE_REASONS.has(err.reason)
      && err.offset !== undefined && err.offset >= 0 && err.offset <= p.length) {
      bump(h, `decode:${err.reason}`);
      return undefined;
    }
    return { stage: 'decode', error: String((err as Error)?.stack ?? err) };
  }
  bump(h, 'decoded');
  try {
    const b1 = encodeMessage(m, MAX);
    if (b1.length !== encodingLength(m, MAX)) return { stage: 're-encode', error: 'length differs from encodingLength' };
    const m2 = decodeMessage(b1);
    if (!sameJSON(m, m2, false)) return { stage: 're-decode', error: 'decoded message differs after re-encode' };
    if (!encodeMessage(m2, MAX).equals(b1)) return { stage: 're-encode', error: 're-encode not stable' };
  } catch (err) {
    return { stage: 're-encode', error: String((err as Error)?.stack ?? err) };
  }
  let small: Buffer;
  try {
    small = encodeMessage(m);
  } catch (err) {
    if (err instanceof EncodeError && err.reason === 'too-big') {
      bump(h, 'encode576:too-big');
      return undefined;
    }
    return { stage: 'encode576', error: String((err as Error)?.stack ?? err) };
  }
  bump(h, 'encode576:fits');
  try {
    if (small.length > 548) return { stage: 'encode576', error: `${small.length} bytes exceed 548` };
    const m3 = decodeMessage(small);
    if (!sameJSON(m, m3, true)) return { stage: 'encode576', error: 'decoded 576-byte encoding differs' };
    if (!encodeMessage(m3).equals(small)) return { stage: 'encode576', error: '576-byte re-encode not stable' };
  } catch (err) {
    return { stage: 'encode576', error: String((err as Error)?.stack ?? err) };
  }
  return undefined;
}

/** Runs `packets` mutated packets from `seed`; keeps the first `keep` escapes. */
export function runFuzz(seed: number, packets: number, keep = 10): FuzzResult {
  const r = new Rng(seed);
  const corpus = seedCorpus();
  const histogram = new Map<string, number>();
  const escapes: Escape[] = [];
  let escapeCount = 0;
  const t0 = performance.now();
  for (let i = 0; i < packets; i++) {
    let p: Buffer = Buffer.from(r.pick(corpus));
    const rounds = 1 + r.int(4);
    for (let k = 0; k < rounds; k++) p = (MUTATORS[r.pick(MUTATOR_NAMES)] as Mutator)(p, r, corpus);
    const bad = checkPacket(p, histogram);
    if (bad) {
      escapeCount++;
      if (escapes.length < keep) escapes.push({ iteration: i, ...bad, hex: p.toString('hex') });
    }
  }
  return { packets, histogram, escapes, escapeCount, ms: performance.now() - t0 };
}
