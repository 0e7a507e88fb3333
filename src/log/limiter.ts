// How many lines one source of trouble may write: at most one per interval for each key (a kind
// of line and where it comes from). Past `maxKeys` keys, new sources share one key, so neither
// lines nor memory grow with made-up sources. One mechanism (KeyedIntervals: the keys, their
// interval and their bound), two ways to treat a line that comes too soon:
//
// - LineLimiter (the agent) holds it: when the interval is over the latest held line is written
//   with the number of lines it stands for, so the journal shows that the trouble went on and
//   how much, at a bounded rate. The agent's lines are few and each says something of its own.
// - LogLimiter (the server) leaves it out and counts it: the count rides on the next line of that
//   key, or on the server's periodic summary (takeSuppressed). The server's lines are about
//   requests, a flood's are alike, and holding one per key would keep a timer per source.
//
// The server's interface warnings (dhcp-server/links.ts) use LogLimiter and, for a warning left
// out, look at the interface again when the interval is over rather than replay the held line:
// a flapping link's condition may have ended by then, and a replayed line would announce it.
// The server's counters of malformed and shed packets (RateLimitedCounter, dhcp-server/logger.ts)
// are not a limiter of lines of many sources: one event, one summary line per interval summing
// its reasons.

interface Interval {
  /** When the key's last line was written (clock ms). */
  last: number;
}

/** Entries per key, at most `maxKeys` of them; an idle entry (`isIdle`) is forgotten when room is needed. */
class KeyedIntervals<E extends Interval> {
  readonly intervalMs: number;
  readonly #maxKeys: number;
  readonly #make: () => E;
  readonly #isIdle: (e: E) => boolean;
  readonly entries = new Map<string, E>();

  constructor(opts: { intervalMs: number; maxKeys: number; make: () => E; isIdle: (e: E) => boolean }) {
    this.intervalMs = opts.intervalMs;
    this.#maxKeys = opts.maxKeys;
    this.#make = opts.make;
    this.#isIdle = opts.isIdle;
  }

  /** True when the entry's interval is over at `now`. */
  due(e: E, now: number): boolean {
    return now - e.last >= this.intervalMs;
  }

  /** The entry of `key`; when the keys are full (and none can be forgotten), the shared `overflow` one. */
  get(key: string, overflow: string, now: number): E {
    let e = this.entries.get(key);
    if (e !== undefined) return e;
    if (this.entries.size >= this.#maxKeys) {
      for (const [k, x] of this.entries) if (this.#isIdle(x) && this.due(x, now)) this.entries.delete(k);
      if (this.entries.size >= this.#maxKeys) {
        key = overflow;
        e = this.entries.get(key);
        if (e !== undefined) return e;
      }
    }
    e = this.#make();
    this.entries.set(key, e);
    return e;
  }
}

export interface HeldLine {
  /** Lines of this key left out before this one (since the last one written). */
  suppressed: number;
}

interface HeldEntry<T> extends Interval {
  held: T | undefined;
  count: number;
  timer: NodeJS.Timeout | undefined;
}

export interface LineLimiterOptions<T> {
  intervalMs?: number;
  maxKeys?: number;
  clock?: () => number;
  /** Writes a line; `suppressed` is how many of its key were left out before it. */
  emit: (line: T, suppressed: number) => void;
}

/** A line too soon is held; the latest held line is written when its key's interval is over. */
export class LineLimiter<T> {
  readonly #keys: KeyedIntervals<HeldEntry<T>>;
  readonly #clock: () => number;
  readonly #emit: (line: T, suppressed: number) => void;

  constructor(opts: LineLimiterOptions<T>) {
    this.#keys = new KeyedIntervals<HeldEntry<T>>({
      intervalMs: opts.intervalMs ?? 1000,
      maxKeys: opts.maxKeys ?? 256,
      make: () => ({ last: -Infinity, held: undefined, count: 0, timer: undefined }),
      isIdle: (e) => e.held === undefined,
    });
    this.#clock = opts.clock ?? Date.now;
    this.#emit = opts.emit;
  }

  /** Writes `line` now, or holds it until its key's interval is over. */
  add(key: string, line: T): void {
    const now = this.#clock();
    const e = this.#keys.get(key, '(other sources)', now);
    if (this.#keys.due(e, now) && e.timer === undefined) {
      const n = e.count;
      e.last = now;
      e.count = 0;
      this.#emit(line, n);
      return;
    }
    if (e.held !== undefined) e.count++;
    e.held = line;
    e.timer ??= setTimeout(() => this.#release(e), Math.max(0, e.last + this.#keys.intervalMs - now)).unref();
  }

  /** Writes every held line now (at exit). */
  flush(): void {
    for (const e of this.#keys.entries.values()) this.#release(e);
  }

  #release(e: HeldEntry<T>): void {
    if (e.timer !== undefined) clearTimeout(e.timer);
    e.timer = undefined;
    if (e.held === undefined) return;
    const line = e.held;
    const n = e.count;
    e.held = undefined;
    e.count = 0;
    e.last = this.#clock();
    this.#emit(line, n);
  }
}

interface CountedEntry extends Interval {
  suppressed: number;
}

/**
 * A line too soon is left out and counted: at most one line per `intervalMs` for each kind and
 * source, the first at once; the count rides on the next line of that key (`admit`'s result) or
 * on the summary (takeSuppressed). Sources are what a client cannot vary at will (a cluster
 * identifier, an interface, a relay); past `maxKeys` keys, new sources of a kind share one key.
 */
export class LogLimiter {
  readonly #keys: KeyedIntervals<CountedEntry>;
  readonly #clock: () => number;

  constructor(opts: { intervalMs?: number; maxKeys?: number; clock?: () => number } = {}) {
    this.#keys = new KeyedIntervals<CountedEntry>({
      intervalMs: opts.intervalMs ?? 1000,
      maxKeys: opts.maxKeys ?? 1024,
      make: () => ({ last: -Infinity, suppressed: 0 }),
      isIdle: (e) => e.suppressed === 0,
    });
    this.#clock = opts.clock ?? Date.now;
  }

  /** undefined: leave the line out. Else write it, with the number of lines of its key left out since the last one. */
  admit(kind: string, source: string): number | undefined {
    const now = this.#clock();
    const entry = this.#keys.get(`${kind}\t${source}`, `${kind}\t(other sources)`, now);
    if (!this.#keys.due(entry, now)) {
      entry.suppressed++;
      return undefined;
    }
    const n = entry.suppressed;
    entry.last = now;
    entry.suppressed = 0;
    return n;
  }

  /** Counts left out and not yet reported, by `kind source` (at most `max` keys, the rest summed), reset to zero. */
  takeSuppressed(max = 20): { counts: Record<string, number>; total: number } | undefined {
    const counts: Record<string, number> = {};
    let total = 0;
    let listed = 0;
    let rest = 0;
    for (const [key, e] of this.#keys.entries) {
      if (e.suppressed === 0) continue;
      total += e.suppressed;
      if (listed < max) {
        counts[key.replace('\t', ' from ')] = e.suppressed;
        listed++;
      } else rest += e.suppressed;
      e.suppressed = 0;
    }
    if (rest > 0) counts['(other kinds and sources)'] = rest;
    return total === 0 ? undefined : { counts, total };
  }
}
