// The lease store: the in-memory table respond() reads, kept in step with the lease log. A
// decision's operations change the table at once (so the next request already sees the address
// taken) and its durable ones go to the log; the caller sends a reply that depends on them only
// when commit()'s promise resolves, i.e. once they are on disk.

import { toText } from './address.js';
import { LEASE_LOG_FORMAT, opOf, recordOf, type LeaseRecord } from './lease-line.js';
import { LeaseLog, lockLeaseLog, readLeaseLog, type AppendCallback, type LeaseLogOptions, type ReplayResult } from './lease-log.js';
import { isDurable, LeaseTable, type LeaseOp } from './lease-table.js';

const noop = (): void => undefined;

export interface OpenedStore {
  store: LeaseStore;
  replay: ReplayResult & { live: { leases: number; quarantined: number } };
}

export interface StoreOptions {
  compactAfter?: LeaseLogOptions['compactAfter'];
  compactFactor?: LeaseLogOptions['compactFactor'];
  /** The wall clock (ms): what has expired at replay and at each compaction. Default Date.now. */
  clock?: () => number;
}

export class LeaseStore {
  readonly table: LeaseTable;
  readonly log: LeaseLog;
  readonly #unlock: () => void;

  private constructor(table: LeaseTable, log: LeaseLog, unlock: () => void) {
    this.table = table;
    this.log = log;
    this.#unlock = unlock;
  }

  /** Locks `file`, replays it into a new table (expired leases drop out) and reopens it (compacted when due). */
  static async open(file: string, opts: StoreOptions = {}): Promise<OpenedStore> {
    const clock = opts.clock ?? Date.now;
    const now = clock();
    const unlock = lockLeaseLog(file);
    try {
      const replay = await readLeaseLog(file);
      const table = new LeaseTable();
      for (const record of replay.records) {
        const op = opOf(record);
        if (op) table.apply(op);
      }
      table.sweep(now);
      const snapshot = (): LeaseRecord[] => snapshotOf(table, clock());
      const logOpts: LeaseLogOptions = { snapshot };
      if (opts.compactAfter !== undefined) logOpts.compactAfter = opts.compactAfter;
      if (opts.compactFactor !== undefined) logOpts.compactFactor = opts.compactFactor;
      const log = await LeaseLog.open(file, logOpts, replay);
      const size = table.size;
      return { store: new LeaseStore(table, log, unlock), replay: { ...replay, live: { leases: size.leases, quarantined: size.quarantined } } };
    } catch (err) {
      unlock();
      throw err;
    }
  }

  /**
   * Applies `ops` to the table now and queues the durable ones for the lease log. Returns false
   * when there are none (`done` is not called); else true, and `done` runs once they are on disk,
   * or with a LeaseLogError when they cannot be written.
   */
  commit(ops: readonly LeaseOp[], now: number, done: AppendCallback = noop): boolean {
    let records: LeaseRecord[] | undefined;
    for (const op of ops) {
      this.table.apply(op);
      if (isDurable(op)) (records ??= []).push(recordOf(op, now, toText));
    }
    if (records === undefined) return false;
    this.log.append(records, done);
    return true;
  }

  /** commit() as a promise (resolves at once when nothing is durable). */
  commitAsync(ops: readonly LeaseOp[], now: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.commit(ops, now, (err) => (err ? reject(err) : resolve()))) resolve();
    });
  }

  /** Flushes everything queued, closes the log and releases the lock. */
  async close(): Promise<void> {
    try {
      await this.log.close();
    } finally {
      this.#unlock();
    }
  }
}

/** The live state as records: what a compacted log holds. */
export function snapshotOf(table: LeaseTable, now: number): LeaseRecord[] {
  const records: LeaseRecord[] = [{ op: 'header', format: LEASE_LOG_FORMAT, at: now }];
  for (const l of table.bound(now)) {
    const bind: LeaseRecord = { op: 'bind', address: toText(l.address), client: l.client, label: l.label, hw: l.hw, expires: l.expires, at: now };
    if (l.relay !== undefined) bind.relay = l.relay;
    records.push(bind);
  }
  for (const [address, until] of table.quarantines(now)) records.push({ op: 'decline', address: toText(address), client: '', until, at: now });
  return records;
}
