// The append-only lease log on disk. Durability rule: a record is on disk (written with
// O_DSYNC, i.e. synced) before the reply that depends on it leaves, so an acknowledged address survives
// kill -9 and power loss. Group commit keeps throughput: records that arrive while a write+sync
// runs are written together by the next one, so a burst of ACKs costs one sync, not one each.
//
// Replay skips lines that fail their checksum (a torn last line after kill -9, damage on disk).
// Start-up then cuts a torn last line off (later appends never follow a torn fragment) and
// rewrites the file only when that is worth it or needed (startAction()). Compaction writes
// the live state to a new file, syncs it, renames it over the log and syncs the folder (the
// rename itself is then durable), all inside the writer, so no append can slip between.

import { closeSync, constants as fsConstants, fdatasync, ftruncate, openSync, readFileSync, unlinkSync, write, writeSync } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { RackstrapError } from '../errors.js';
import { formatLine, LEASE_LOG_FORMAT, parseLine, type LeaseRecord } from './lease-line.js';

/** A write or sync of the lease log failed: the replies waiting on it are not sent. */
export class LeaseLogError extends RackstrapError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RS_LEASE_LOG', message, options);
  }
}

export interface ReplayResult {
  records: LeaseRecord[];
  /** Lines skipped, with their 1-based line number and why. */
  skipped: Array<{ line: number; reason: string }>;
  /** The file ended without a newline (a write cut short): its last piece was skipped. */
  tornTail: boolean;
  /** Bytes of the file up to its last newline: what stays when a torn tail is cut off. */
  wholeBytes: number;
  /** False when there was no file. */
  exists: boolean;
}

/** Reads a lease log's records; a missing file is an empty log. */
export async function readLeaseLog(file: string): Promise<ReplayResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], skipped: [], tornTail: false, wholeBytes: 0, exists: false };
    throw new LeaseLogError(`cannot read lease log ${file}: ${(err as Error).message}`, { cause: err });
  }
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  const records: LeaseRecord[] = [];
  const skipped: ReplayResult['skipped'] = [];
  lines.forEach((line, i) => {
    if (line === '') return;
    const parsed = parseLine(line);
    if (parsed.ok) records.push(parsed.record);
    else skipped.push({ line: i + 1, reason: parsed.reason });
  });
  const tornTail = last !== '';
  if (tornTail) skipped.push({ line: lines.length + 1, reason: 'torn last line (no newline): the write was cut short' });
  const wholeBytes = Buffer.byteLength(text, 'utf8') - Buffer.byteLength(last, 'utf8');
  return { records, skipped, tornTail, wholeBytes, exists: true };
}

/** What start-up does with the log it replayed. */
export type StartAction = 'keep' | 'cut-torn-tail' | 'compact';

/**
 * Start-up keeps an intact log as it is and appends to it: rewriting it would cost time and, on a
 * nearly full disk, the room for a second copy. It compacts only when that is worth it (more
 * dead records than live ones) or needed (a damaged line inside the file, which every later
 * replay would skip again; no file or no header yet). A torn last line alone is cut off in place.
 */
export function startAction(replay: Pick<ReplayResult, 'records' | 'skipped' | 'tornTail' | 'exists'>, live: number): StartAction {
  const first = replay.records[0];
  if (!replay.exists || first?.op !== 'header' || first.format !== LEASE_LOG_FORMAT) return 'compact';
  const damaged = replay.skipped.length - (replay.tornTail ? 1 : 0);
  if (damaged > 0) return 'compact';
  if (replay.records.length - live > live) return 'compact';
  return replay.tornTail ? 'cut-torn-tail' : 'keep';
}

export interface LeaseLogOptions {
  /** The records a compacted log starts from: the live state (called synchronously, at the cut). */
  snapshot: () => LeaseRecord[];
  /** Compact once this many records were appended since the last compaction… */
  compactAfter?: number;
  /** …and at least this many times the records the last compaction wrote. */
  compactFactor?: number;
  /**
   * Least time between the starts of two commits, ms. Under load each commit then carries more
   * records (fewer syncs, less CPU per ACK); a lone ACK is never delayed, since the wait only
   * counts from the previous commit.
   */
  minCommitIntervalMs?: number;
}

/** Called once the records are on disk (no argument) or could not be written (LeaseLogError). */
export type AppendCallback = (err?: LeaseLogError) => void;

// A compaction rewrites every live lease (and builds the snapshot on the main thread), so it must
// be rare: only once the log holds many times more records than leases, and never below 100k
// records (~20 MB), which a busy server writes in tens of seconds and a cluster in months.
const DEFAULT_COMPACT_AFTER = 100_000;
const DEFAULT_COMPACT_FACTOR = 4;

// O_DSYNC: each write returns only once its data (and the file size) is on disk, like write +
// fdatasync, but in one call: one trip to libuv's thread pool per batch instead of two, which
// halves the CPU a commit costs (measured here: ~80-120 µs per batch against ~200 µs).
const DEFAULT_MIN_COMMIT_INTERVAL_MS = 5;
/** Most appends (≈ ACKs) one commit carries. */
const MAX_BATCH = 256;

const APPEND_FLAGS = fsConstants.O_APPEND | fsConstants.O_CREAT | fsConstants.O_WRONLY | fsConstants.O_DSYNC;

export class LeaseLog {
  readonly file: string;
  readonly #opts: Required<LeaseLogOptions>;
  #fd: number;
  /** Bytes of the file known to be whole lines: a failed write is cut back to here. */
  #size: number;
  #queue: string[] = [];
  #waiters: AppendCallback[] = [];
  /** Lines each waiter added, in order: a commit cut after N waiters takes exactly their lines. */
  #lineCounts: number[] = [];
  #busy = false;
  #lastStart = -Infinity;
  #idle: Array<() => void> = [];
  #sinceCompaction = 0;
  #lastSnapshot = 0;
  /** A write failed and may have left part of a line: cut back to #size before the next one. */
  #torn = false;
  #closed = false;
  /** Counters for logs and tests: `writes` is the number of durable writes (commits). */
  readonly stats = { writes: 0, records: 0, compactions: 0, failures: 0 };

  private constructor(file: string, fd: number, size: number, opts: Required<LeaseLogOptions>) {
    this.file = file;
    this.#fd = fd;
    this.#size = size;
    this.#opts = opts;
  }

  /**
   * Opens `file` for appending after its replay. Without `replayed` (or when startAction() says
   * so) it starts afresh from `opts.snapshot()`: the new file holds exactly the live state.
   * Otherwise the file is kept, with a torn last line cut off, so the next append starts on a
   * clean line either way. `action` tells which was done.
   */
  static async open(file: string, opts: LeaseLogOptions, replayed?: ReplayResult): Promise<LeaseLog> {
    const full: Required<LeaseLogOptions> = {
      snapshot: opts.snapshot,
      compactAfter: opts.compactAfter ?? DEFAULT_COMPACT_AFTER,
      compactFactor: opts.compactFactor ?? DEFAULT_COMPACT_FACTOR,
      minCommitIntervalMs: opts.minCommitIntervalMs ?? DEFAULT_MIN_COMMIT_INTERVAL_MS,
    };
    const records = full.snapshot();
    const action = replayed === undefined ? 'compact' : startAction(replayed, records.length);
    if (action === 'compact' || replayed === undefined) {
      const size = await writeAtomically(file, records.map(formatLine).join(''));
      const log = new LeaseLog(file, openAppend(file), size, full);
      log.#lastSnapshot = records.length;
      log.startAction = action;
      return log;
    }
    const fd = openAppend(file);
    try {
      if (action === 'cut-torn-tail') await cutTo(fd, replayed.wholeBytes);
    } catch (err) {
      closeSync(fd);
      throw new LeaseLogError(`cannot cut the torn last line off lease log ${file}: ${(err as Error).message}`, { cause: err });
    }
    const log = new LeaseLog(file, fd, replayed.wholeBytes, full);
    log.#lastSnapshot = records.length;
    log.#sinceCompaction = replayed.records.length - records.length;
    log.startAction = action;
    return log;
  }

  /** What open() did with the file it found. */
  startAction: StartAction = 'compact';

  /**
   * Queues records; `done` runs once they are written and synced, together with whatever else
   * arrived meanwhile (group commit). The first batch starts on the next turn of the event
   * loop, so every request read in the same turn shares it.
   */
  append(records: readonly LeaseRecord[], done: AppendCallback): void {
    if (this.#closed) {
      queueMicrotask(() => done(new LeaseLogError(`lease log ${this.file} is closed`)));
      return;
    }
    for (const r of records) this.#queue.push(formatLine(r));
    this.#waiters.push(done);
    this.#lineCounts.push(records.length);
    if (!this.#busy) {
      this.#busy = true;
      this.#schedule();
    }
  }

  /** Runs the next commit on a later turn of the event loop, no sooner than the interval allows. */
  #schedule(): void {
    const wait = this.#lastStart + this.#opts.minCommitIntervalMs - performance.now();
    if (wait > 0) setTimeout(() => this.#next(), wait);
    else setImmediate(() => this.#next());
  }

  /** append() as a promise. */
  appendAsync(records: readonly LeaseRecord[]): Promise<void> {
    return new Promise((resolve, reject) => this.append(records, (err) => (err ? reject(err) : resolve())));
  }

  #next(): void {
    if (this.#waiters.length === 0) {
      this.#busy = false;
      for (const f of this.#idle.splice(0)) f();
      return;
    }
    // At most MAX_BATCH waiters per commit: the replies of one commit leave back to back, and a
    // receiver with a small socket buffer (perfdhcp's is 212 KB) would drop the end of a huge burst.
    let waiters = this.#waiters;
    let lines = this.#queue;
    if (waiters.length > MAX_BATCH && !this.#compactionDue()) {
      const cut = this.#lineCounts.slice(0, MAX_BATCH).reduce((a, b) => a + b, 0);
      waiters = this.#waiters.splice(0, MAX_BATCH);
      lines = this.#queue.splice(0, cut);
      this.#lineCounts.splice(0, MAX_BATCH);
    } else {
      this.#waiters = [];
      this.#queue = [];
      this.#lineCounts = [];
    }
    this.#lastStart = performance.now();
    const finish = (err: unknown): void => {
      const e = err === undefined ? undefined : err instanceof LeaseLogError ? err : new LeaseLogError(`lease log ${this.file}: ${(err as Error).message}`, { cause: err });
      if (e) this.stats.failures++;
      for (const w of waiters) w(e);
      this.#schedule();
    };
    if (this.#compactionDue()) {
      // The snapshot is taken now, in the same synchronous step that takes the queue: it holds
      // every decision whose record was queued, so those records are covered by it.
      const records = this.#opts.snapshot();
      this.#compact(records).then(() => finish(undefined), finish);
      return;
    }
    const data = Buffer.from(lines.join(''), 'utf8');
    this.#repair((repairErr) => {
      if (repairErr) {
        finish(repairErr);
        return;
      }
      writeAll(this.#fd, data, (err) => {
        if (!err) {
          this.#size += data.length;
          this.#sinceCompaction += lines.length;
          this.stats.writes++;
          this.stats.records += lines.length;
          finish(undefined);
          return;
        }
        // Part of the batch may be on disk: cut it back before anything else is written.
        this.#torn = true;
        this.#repair(() => finish(err));
      });
    });
  }

  /** After a failed write, cuts the file back to its last whole line (else the next line would run on from a torn one). */
  #repair(done: (err?: LeaseLogError) => void): void {
    if (!this.#torn) {
      done();
      return;
    }
    ftruncate(this.#fd, this.#size, (err) => {
      if (err) {
        done(new LeaseLogError(`lease log ${this.file} has a partly written line that cannot be cut off (${err.message}); no lease is acknowledged until it can`, { cause: err }));
        return;
      }
      this.#torn = false;
      done();
    });
  }

  #compactionDue(): boolean {
    return this.#sinceCompaction >= this.#opts.compactAfter && this.#sinceCompaction >= this.#opts.compactFactor * this.#lastSnapshot;
  }

  async #compact(records: LeaseRecord[]): Promise<void> {
    const size = await writeAtomically(this.file, records.map(formatLine).join(''));
    const old = this.#fd;
    this.#fd = openAppend(this.file);
    closeSync(old);
    this.#size = size;
    this.#sinceCompaction = 0;
    this.#lastSnapshot = records.length;
    this.stats.compactions++;
  }

  /** Compacts now (after whatever is queued). */
  compact(): Promise<void> {
    this.#sinceCompaction = Math.max(this.#sinceCompaction, this.#opts.compactAfter, this.#opts.compactFactor * this.#lastSnapshot);
    return this.appendAsync([]);
  }

  /** Waits for every queued record, then closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#busy) await new Promise<void>((resolve) => this.#idle.push(resolve));
    this.#closed = true;
    closeSync(this.#fd);
  }
}

/** Cuts the file to `size` bytes and syncs it (the cut is on disk before anything is appended). */
async function cutTo(fd: number, size: number): Promise<void> {
  await new Promise<void>((resolve, reject) => ftruncate(fd, size, (err) => (err ? reject(err) : resolve())));
  await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

function openAppend(file: string): number {
  try {
    return openSync(file, APPEND_FLAGS, 0o600);
  } catch (err) {
    throw new LeaseLogError(`cannot open lease log ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Writes all of `data` at the end of the file (O_APPEND), looping over short writes. */
function writeAll(fd: number, data: Buffer, done: (err: NodeJS.ErrnoException | null) => void, off = 0): void {
  write(fd, data, off, data.length - off, null, (err, n) => {
    if (err) return done(err);
    if (n === 0) return done(Object.assign(new Error('write made no progress'), { code: 'EIO' }));
    if (off + n < data.length) return writeAll(fd, data, done, off + n);
    done(null);
  });
}

/** tmp file → write → fsync → rename over `file` → fsync the folder. Returns the size written. */
async function writeAtomically(file: string, text: string): Promise<number> {
  const tmp = `${file}.compact-${process.pid}`;
  const data = Buffer.from(text, 'utf8');
  try {
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    const dir = await open(path.dirname(path.resolve(file)), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // not created, or already renamed
    }
    throw new LeaseLogError(`cannot write lease log ${file}: ${(err as Error).message}`, { cause: err });
  }
  return data.length;
}

// ---- one server per lease log ----

/** Who holds a lock: a pid alone does not say, since pids are reused (after a reboot, or a wrap). */
interface LockHolder {
  pid: number;
  /** Start time of the process, clock ticks since boot (/proc/PID/stat, field 22). */
  start?: string;
  /** The boot the process ran in (/proc/sys/kernel/random/boot_id). */
  boot?: string;
}

/** This boot's id; undefined where /proc does not have it. */
function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Field 22 (starttime) and field 3 (state) of /proc/PID/stat; undefined when the process is gone. */
function processStat(pid: number): { start: string; state: string } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The name (field 2) is in parentheses and may hold spaces or ')': count from the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3; field 22 is rest[19].
  const start = rest[19];
  const state = rest[0];
  if (start === undefined || state === undefined) return undefined;
  return { start, state };
}

/** The lock's text: `pid starttime bootid`. */
function lockText(): string {
  const me = processStat(process.pid);
  return `${process.pid} ${me?.start ?? '-'} ${bootId() ?? '-'}\n`;
}

/** Reads a lock file's holder; an older lock holds only the pid. Undefined when unreadable or not a lock. */
function parseLock(text: string): LockHolder | undefined {
  const [pidText, start, boot] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const holder: LockHolder = { pid };
  if (start !== undefined && start !== '-') holder.start = start;
  if (boot !== undefined && boot !== '-') holder.boot = boot;
  return holder;
}

/**
 * Whether the process named by a lock still runs: the same pid, the same boot, the same start
 * time. A lock written before a reboot, or whose pid now belongs to another process, is stale.
 * An older lock (pid only) counts as held only while its pid runs a rackstrap server.
 */
export function lockHeld(holder: LockHolder): boolean {
  const stat = processStat(holder.pid);
  // A zombie (dead, not yet reaped) holds no lock.
  if (stat === undefined || stat.state === 'Z') return false;
  if (holder.boot !== undefined) {
    const boot = bootId();
    if (boot !== undefined && boot !== holder.boot) return false;
  }
  if (holder.start !== undefined) return stat.start === holder.start;
  try {
    return /rackstrap/.test(readFileSync(`/proc/${holder.pid}/cmdline`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Takes `<file>.lock` for this process (O_EXCL; inside: pid, its start time and the boot id). A
 * lock whose process no longer runs (kill -9, a reboot, a pid since reused by another program) is
 * taken over. Throws RS_LEASE_LOCKED when a live server holds it: two servers writing one log
 * would each forget the other's leases.
 */
export function lockLeaseLog(file: string): () => void {
  const lock = `${file}.lock`;
  const mine = lockText();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, mine);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(lock, 'utf8') === mine) unlinkSync(lock);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new LeaseLogError(`cannot create lock ${lock}: ${(err as Error).message}`, { cause: err });
      }
      let holder: LockHolder | undefined;
      try {
        holder = parseLock(readFileSync(lock, 'utf8'));
      } catch {
        // vanished meanwhile: retry
      }
      if (holder !== undefined && lockHeld(holder)) {
        throw new RackstrapError('RS_LEASE_LOCKED', `lease log ${file} is in use by process ${holder.pid} (a rackstrap serve still running); each server needs its own --lease-file (lock ${lock})`);
      }
      try {
        unlinkSync(lock);
      } catch {
        // someone else removed it
      }
    }
  }
  throw new RackstrapError('RS_LEASE_LOCKED', `cannot take the lock ${lock}: another process keeps recreating it`);
}
