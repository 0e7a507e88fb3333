// Failed join attempts per source address: after `max` failures within `windowMs`, the address
// is refused for `blockMs` without its attempts being looked at (a right code included), so an
// online guesser gets a handful of tries per minute. Bounded memory: at most `maxSources` tracked.
export interface RateLimitOptions {
  max?: number;
  windowMs?: number;
  blockMs?: number;
  maxSources?: number;
}

export class FailureLimiter {
  readonly #max: number;
  readonly #window: number;
  readonly #block: number;
  readonly #maxSources: number;
  readonly #failures = new Map<string, number[]>();
  readonly #blocked = new Map<string, number>();

  constructor(o: RateLimitOptions = {}) {
    this.#max = o.max ?? 5;
    this.#window = o.windowMs ?? 60_000;
    this.#block = o.blockMs ?? 60_000;
    this.#maxSources = o.maxSources ?? 10_000;
  }

  /** Seconds the source must still wait, or 0 when it may try. */
  blockedFor(source: string, now = Date.now()): number {
    const until = this.#blocked.get(source);
    if (until === undefined) return 0;
    if (until <= now) {
      this.#blocked.delete(source);
      return 0;
    }
    return Math.ceil((until - now) / 1000);
  }

  fail(source: string, now = Date.now()): void {
    const recent = (this.#failures.get(source) ?? []).filter((t) => now - t < this.#window);
    recent.push(now);
    if (!this.#failures.has(source) && this.#failures.size >= this.#maxSources) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
    this.#failures.set(source, recent);
    if (recent.length >= this.#max) {
      this.#blocked.set(source, now + this.#block);
      this.#failures.delete(source);
    }
  }
}
