// How many lines one source of trouble may write: at most one per interval for each key (a kind
// of line and where it comes from). A line that comes too soon is held, not lost: when the
// interval is over the latest held line is written with the number of lines it stands for, so
// the journal shows that the trouble went on and how much, at a bounded rate. Past `maxKeys`
// keys, new sources share one key, so neither lines nor memory grow with made-up sources.

export interface HeldLine {
  /** Lines of this key left out before this one (since the last one written). */
  suppressed: number;
}

interface Entry<T> {
  last: number;
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

export class LineLimiter<T> {
  readonly #intervalMs: number;
  readonly #maxKeys: number;
  readonly #clock: () => number;
  readonly #emit: (line: T, suppressed: number) => void;
  readonly #entries = new Map<string, Entry<T>>();

  constructor(opts: LineLimiterOptions<T>) {
    this.#intervalMs = opts.intervalMs ?? 1000;
    this.#maxKeys = opts.maxKeys ?? 256;
    this.#clock = opts.clock ?? Date.now;
    this.#emit = opts.emit;
  }

  /** Writes `line` now, or holds it until its key's interval is over. */
  add(key: string, line: T): void {
    const now = this.#clock();
    const e = this.#entry(key, now);
    if (now - e.last >= this.#intervalMs && e.timer === undefined) {
      const n = e.count;
      e.last = now;
      e.count = 0;
      this.#emit(line, n);
      return;
    }
    if (e.held !== undefined) e.count++;
    e.held = line;
    e.timer ??= setTimeout(() => this.#release(e), Math.max(0, e.last + this.#intervalMs - now)).unref();
  }

  /** Writes every held line now (at exit). */
  flush(): void {
    for (const e of this.#entries.values()) this.#release(e);
  }

  #release(e: Entry<T>): void {
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

  #entry(key: string, now: number): Entry<T> {
    let e = this.#entries.get(key);
    if (e !== undefined) return e;
    if (this.#entries.size >= this.#maxKeys) {
      for (const [k, x] of this.#entries) if (x.held === undefined && now - x.last >= this.#intervalMs) this.#entries.delete(k);
      if (this.#entries.size >= this.#maxKeys) {
        key = '(other sources)';
        e = this.#entries.get(key);
        if (e !== undefined) return e;
      }
    }
    e = { last: -Infinity, held: undefined, count: 0, timer: undefined };
    this.#entries.set(key, e);
    return e;
  }
}
