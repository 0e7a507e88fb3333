// A clock tests move by hand: timers fire in time order as advance() passes them, each seeing
// now() equal to its own time.

import type { Clock, Timer } from '../../../src/dhcp-client/clock.js';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Pending[] = [];

  constructor(start = 1_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(at: number, fn: () => void): Timer {
    const t: Pending = { at, seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }

  /** Clock times of the timers still armed, soonest first. */
  pending(): number[] {
    return this.#live().map((t) => t.at);
  }

  /** Moves time forward by `ms`, firing every timer due on the way (including ones they arm). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const next = this.#live()[0];
      if (next === undefined || next.at > target) break;
      next.cancelled = true;
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = target;
  }

  /** Advances to the next armed timer and fires it (and any due at the same time). Returns its time. */
  next(): number | undefined {
    const t = this.#live()[0];
    if (t === undefined) return undefined;
    this.advance(Math.max(0, t.at - this.#now));
    return t.at;
  }

  #live(): Pending[] {
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    return [...this.#timers].sort((a, b) => a.at - b.at || a.seq - b.seq);
  }
}

/** Deterministic draws in [0, 1): cycles through `values`. */
export function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length] as number;
}
