// The options of one message: an ordered map code → value, one entry per code (RFC 3396 makes
// repeated instances one option, so they are joined on decode and split again on encode).
// Order is kept because relays and some clients care, and so a decoded packet re-encodes to the
// same bytes.

import { EncodeError } from '../errors.js';
import { END, PAD } from './constants.js';
import { OPTION, optionCodec, optionName, type AnyOptionValue, type OptionValue } from './option-table.js';

export type OptionEntry = [code: number, value: AnyOptionValue];

/** Codes a caller may set: 1–254 except 52, which the encoder writes when it overloads sname/file. */
export function checkSettableCode(code: number): void {
  if (!Number.isInteger(code) || code <= PAD || code >= END) {
    throw new EncodeError('bad-code', `option code ${String(code)} is not in 1..254 (0 and 255 are pad and end)`);
  }
  if (code === OPTION.OVERLOAD) {
    throw new EncodeError('bad-code', 'option 52 (overload) is written by the encoder when it needs sname/file; do not set it');
  }
}

export class DhcpOptions implements Iterable<OptionEntry> {
  readonly #map = new Map<number, AnyOptionValue>();

  constructor(entries?: Iterable<readonly [number, AnyOptionValue]>) {
    if (entries) for (const [code, value] of entries) this.set(code, value as OptionValue<typeof code>);
  }

  get size(): number {
    return this.#map.size;
  }

  has(code: number): boolean {
    return this.#map.has(code);
  }

  /** The typed value of option `code` (see OptionValue), or undefined when absent. */
  get<C extends number>(code: C): OptionValue<C> | undefined {
    return this.#map.get(code) as OptionValue<C> | undefined;
  }

  /**
   * Sets option `code`, keeping its place if it was already there, else appending. The value is
   * checked now (EncodeError `bad-value` / `bad-code`), so a mistake shows where it was made.
   */
  set<C extends number>(code: C, value: OptionValue<C>): this {
    checkSettableCode(code);
    try {
      optionCodec(code).encodingLength(value);
    } catch (err) {
      if (err instanceof EncodeError) throw new EncodeError(err.reason, `option ${code} (${optionName(code)}): ${err.message}`);
      throw err;
    }
    this.#map.set(code, value);
    return this;
  }

  delete(code: number): boolean {
    return this.#map.delete(code);
  }

  /** Option codes in wire order. */
  codes(): number[] {
    return [...this.#map.keys()];
  }

  entries(): IterableIterator<OptionEntry> {
    return this.#map.entries();
  }

  [Symbol.iterator](): IterableIterator<OptionEntry> {
    return this.#map.entries();
  }

  /** The option's data bytes as they go on the wire (before any RFC 3396 split), or undefined. */
  getRaw(code: number): Buffer | undefined {
    if (!this.#map.has(code)) return undefined;
    const codec = optionCodec(code);
    const value = this.#map.get(code);
    const out = Buffer.alloc(codec.encodingLength(value));
    codec.encode(value, out, 0);
    return out;
  }

  /** A copy whose changes do not reach this one (Buffers are copied too). */
  clone(): DhcpOptions {
    const copy = new DhcpOptions();
    for (const [code, value] of this.#map) copy.#map.set(code, cloneValue(value));
    return copy;
  }

  /** Appends without the checks `set` makes: for the decoder, whose values came from its own codecs. */
  static fromDecoded(entries: Array<[number, AnyOptionValue]>): DhcpOptions {
    const opts = new DhcpOptions();
    for (const [code, value] of entries) opts.#map.set(code, value);
    return opts;
  }
}

function cloneValue(v: AnyOptionValue): AnyOptionValue {
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (Array.isArray(v)) return [...v] as AnyOptionValue;
  return v;
}
