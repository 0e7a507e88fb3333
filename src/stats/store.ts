// Counters that only go up, across agent restarts and reboots, with a reset epoch.
//
// The kernel's counters restart from zero when their rule or device is re-created (a repair, a
// reboot). The store keeps, per counter, the last kernel value seen and a base: what is shown is
// base + kernel value, and when the kernel value falls below the last one seen, the last one is
// added to the base first. `zero-stats` starts a new epoch: the base becomes minus the current
// kernel value, so everything shows 0 and counts from there. The file sits next to the cache,
// written atomically.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../cache/write-file-atomic.js';
import type { Counter } from './counters.js';

export const STATS_FILE = 'stats.json';

const Pair = z.object({ packets: z.number(), bytes: z.number() });
const StoreFile = z.object({
  version: z.literal(1),
  epoch: z.int().min(1),
  since: z.string(),
  counters: z.record(z.string(), z.object({ base: Pair, last: Pair })),
});
type StoreFile = z.infer<typeof StoreFile>;

export class CounterStore {
  readonly file: string;
  #data: StoreFile;
  #saving: Promise<void> = Promise.resolve();

  private constructor(file: string, data: StoreFile) {
    this.file = file;
    this.#data = data;
  }

  /** Opens the store in `dir` (a new epoch 1 when there is none or it is unreadable). */
  static async open(dir: string, now = new Date()): Promise<CounterStore> {
    const file = path.join(dir, STATS_FILE);
    let data: StoreFile = { version: 1, epoch: 1, since: now.toISOString(), counters: {} };
    try {
      const r = StoreFile.safeParse(JSON.parse(await readFile(file, 'utf8')));
      if (r.success) data = r.data;
    } catch {
      // none yet
    }
    return new CounterStore(file, data);
  }

  get epoch(): number {
    return this.#data.epoch;
  }

  get since(): string {
    return this.#data.since;
  }

  /** The monotonic value of counter `key` given the kernel's `current`. */
  observe(key: string, current: Counter): Counter {
    const c = (this.#data.counters[key] ??= { base: { packets: 0, bytes: 0 }, last: { packets: 0, bytes: 0 } });
    if (current.packets < c.last.packets || current.bytes < c.last.bytes) {
      c.base = { packets: c.base.packets + c.last.packets, bytes: c.base.bytes + c.last.bytes };
    }
    c.last = { packets: current.packets, bytes: current.bytes };
    return { packets: Math.max(0, c.base.packets + current.packets), bytes: Math.max(0, c.base.bytes + current.bytes) };
  }

  /** New epoch: every counter seen so far reads 0 from its current kernel value on. */
  zero(now = new Date()): void {
    this.#data.epoch++;
    this.#data.since = now.toISOString();
    for (const c of Object.values(this.#data.counters)) c.base = { packets: -c.last.packets, bytes: -c.last.bytes };
  }

  /**
   * Writes the figures as they are now. Saves run one after the other, in call order, so the file
   * always ends with the latest figures; a caller that answers first and saves after (the `stats`
   * reply) waits for nothing but may call `settled()` before it stops.
   */
  save(): Promise<void> {
    const text = `${JSON.stringify(this.#data)}\n`;
    const next = this.#saving.catch(() => undefined).then(() => writeFileAtomic(this.file, text));
    this.#saving = next;
    return next;
  }

  /** Resolves once every save asked for so far is done (failed ones included). */
  async settled(): Promise<void> {
    await this.#saving.catch(() => undefined);
  }
}
