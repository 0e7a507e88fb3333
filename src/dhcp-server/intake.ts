// Fair overload: requests wait in three queues by who sends them, and the server always takes
// the next one from the highest non-empty queue. The cluster's own clients (a reserved
// identifier, a filer's topology request) come first, then clients the server already has a
// lease or offer for (exchanges under way), then strangers. Each queue is bounded; when one is
// full its oldest request goes (the client retransmits: RFC 2131 §4.1). So a flood of strangers
// costs strangers, never a cluster client: while any stranger is being answered, the cluster
// queue is empty. Pure: no sockets or clocks; the server reads packets into it as fast as the
// kernel hands them over and drains it in slices of bounded time.

/** 0: cluster identifiers and topology requests; 1: clients with a lease or offer here; 2: anyone else. */
export type Priority = 0 | 1 | 2;

export const PRIORITY_NAMES = ['cluster', 'known', 'stranger'] as const;

/**
 * Most requests each queue holds. Strangers: about 0.2-0.4 s of work at this server's cost per
 * request, already more than a client that retransmits after 1-4 s would wait for; the cluster
 * and known queues are larger, since the cluster is finite and what they hold is never useless.
 */
export const QUEUE_LIMITS: readonly [number, number, number] = [8192, 8192, 4096];

/** A FIFO with O(1) push and shift (an array with a moving head, compacted now and then). */
class Fifo<T> {
  #items: Array<T | undefined> = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}

export class Intake<T> {
  readonly #queues = [new Fifo<T>(), new Fifo<T>(), new Fifo<T>()] as const;
  readonly #limits: readonly [number, number, number];
  /** Requests dropped because their queue was full, by priority. */
  readonly dropped: [number, number, number] = [0, 0, 0];

  constructor(limits: readonly [number, number, number] = QUEUE_LIMITS) {
    this.#limits = limits;
  }

  get length(): number {
    return this.#queues[0].length + this.#queues[1].length + this.#queues[2].length;
  }

  /** Queues `item`; returns the request that made room for it (the oldest of a full queue), if any. */
  push(priority: Priority, item: T): T | undefined {
    const q = this.#queues[priority];
    let dropped: T | undefined;
    if (q.length >= this.#limits[priority]) {
      dropped = q.shift();
      this.dropped[priority]++;
    }
    q.push(item);
    return dropped;
  }

  /** The next request to answer: the oldest of the highest priority that has any. */
  next(): { priority: Priority; item: T } | undefined {
    for (let p = 0; p < 3; p++) {
      const item = this.#queues[p]!.shift();
      if (item !== undefined) return { priority: p as Priority, item };
    }
    return undefined;
  }

  /** Drops everything queued; returns how many of each priority went (also counted in `dropped`). */
  clear(): [number, number, number] {
    const n: [number, number, number] = [this.#queues[0].length, this.#queues[1].length, this.#queues[2].length];
    for (const q of this.#queues) q.clear();
    for (let p = 0; p < 3; p++) this.dropped[p as Priority] += n[p]!;
    return n;
  }
}
