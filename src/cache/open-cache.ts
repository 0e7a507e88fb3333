// The agent's local configuration cache (seed 003 §5.2.6.1, §5.8): the last good configuration,
// kept in two copies in one directory so that a crash at any moment, or one copy going bad on
// disk, still leaves one to boot from when no DHCP server answers.
//
//   read()  both copies checked; the valid one with the highest generation wins (tie: the one
//           written last); a bad copy is a warning; none at all is `empty`; only bad ones is
//           CacheCorruptError — never an exception from inside JSON or zod.
//   write() refuses to go back to a lower generation unless forced; writes the losing (or bad)
//           copy first and the copy it would have read last, so the best copy on disk is only
//           replaced once a newer one is durable beside it.
import path from 'node:path';
import { z } from 'zod';
import { CacheCorruptError, CacheRollbackError, RackstrapError, type RejectedCacheCopy } from '../errors.js';
import { Mac } from '../options/schema.js';
import { CacheEntry, CacheUpdate } from './cache-entry.js';
import { decodeCacheFile, encodeCacheFile } from './cache-file.js';
import { checkDir, ensureDir, readCopy, type CacheWarning } from './check-permissions.js';
import { removeStaleTemps, writeFileAtomic } from './write-file-atomic.js';

export type { CacheWarning } from './check-permissions.js';

/** The two copies, written in this order when neither is better than the other. */
export const CACHE_FILES = ['cache.a.json', 'cache.b.json'] as const;

export interface OpenCacheOptions {
  /** This filer's cluster ID (MAC form); a copy of another cluster is rejected. */
  clusterId: string;
  /** Clock for writtenAt; injected by tests. */
  now?: () => Date;
  /**
   * For commands that change nothing (plan, status, show): read() tightens no mode and removes
   * no leftover temporary file (its warnings say what the agent would do), and write() refuses.
   */
  readOnly?: boolean;
}

export type CacheReadResult =
  /** No copy exists (first boot): not an error. */
  | { kind: 'empty'; warnings: CacheWarning[] }
  /** `file` is the copy the entry came from. */
  | { kind: 'ok'; entry: CacheEntry; file: string; warnings: CacheWarning[] };

export interface CacheWriteResult {
  warnings: CacheWarning[];
}

export interface Cache {
  readonly dir: string;
  /** Full paths of the two copies. */
  readonly files: readonly [string, string];
  read(): Promise<CacheReadResult>;
  /** `force` allows a lower generation than the stored one (an admin's rollback). */
  write(update: CacheUpdate, options?: { force?: boolean }): Promise<CacheWriteResult>;
}

type Copy = { file: string } & ({ state: 'ok'; entry: CacheEntry } | { state: 'missing' } | { state: 'rejected'; reason: string });

/** Higher generation first, then the one written last. */
const isBetter = (a: CacheEntry, b: CacheEntry) =>
  a.generation !== b.generation ? a.generation > b.generation : Date.parse(a.writtenAt) > Date.parse(b.writtenAt);

export function openCache(dir: string, options: OpenCacheOptions): Cache {
  const id = Mac.safeParse(options.clusterId);
  if (!id.success) throw new RackstrapError('RS_CACHE_INVALID', `cache: cluster ID "${options.clusterId}" is not in MAC form`);
  const clusterId = id.data;
  const now = options.now ?? (() => new Date());
  const repair = { repair: options.readOnly !== true };
  const files = [path.join(dir, CACHE_FILES[0]), path.join(dir, CACHE_FILES[1])] as const;

  async function sweep(warnings: CacheWarning[]): Promise<void> {
    for (const p of await removeStaleTemps(dir, CACHE_FILES)) {
      warnings.push({ file: p, message: `removed ${p}, left by an interrupted cache write` });
    }
  }

  async function inspect(warnings: CacheWarning[]): Promise<Copy[]> {
    const warn = (w: CacheWarning) => warnings.push(w);
    const copies: Copy[] = [];
    for (const file of files) {
      const got = await readCopy(file, warn, repair);
      if (got.state !== 'ok') {
        copies.push({ file, ...got });
        continue;
      }
      const decoded = decodeCacheFile(got.bytes, { clusterId });
      if (decoded.ok && decoded.skipped.length > 0) {
        const list = decoded.skipped.length > 8 ? `${decoded.skipped.slice(0, 8).join(', ')}, ...` : decoded.skipped.join(', ');
        warn({ file, message: `${file} was written by a newer rackstrap; read without what this version does not know (${list})` });
      }
      copies.push(decoded.ok ? { file, state: 'ok', entry: decoded.entry } : { file, state: 'rejected', reason: decoded.reason });
    }
    return copies;
  }

  function best(copies: Copy[]): (Copy & { state: 'ok' }) | undefined {
    let top: (Copy & { state: 'ok' }) | undefined;
    for (const c of copies) if (c.state === 'ok' && (!top || isBetter(c.entry, top.entry))) top = c;
    return top;
  }

  async function read(): Promise<CacheReadResult> {
    const warnings: CacheWarning[] = [];
    if ((await checkDir(dir, (w) => warnings.push(w), repair)) === 'missing') return { kind: 'empty', warnings };
    if (repair.repair) await sweep(warnings);
    const copies = await inspect(warnings);
    const top = best(copies);
    if (!top) {
      if (copies.every((c) => c.state === 'missing')) return { kind: 'empty', warnings };
      throw new CacheCorruptError(dir, copies.map(rejection));
    }
    for (const c of copies) {
      if (c === top) continue;
      if (c.state === 'ok') {
        if (c.entry.generation !== top.entry.generation || c.entry.writtenAt !== top.entry.writtenAt) {
          warnings.push({
            file: c.file,
            message: `${c.file} holds generation ${c.entry.generation} written ${c.entry.writtenAt}, older than ${top.file} (interrupted write?); using ${top.file}`,
          });
        }
      } else {
        warnings.push({ file: c.file, message: `${c.file} ${c.state === 'missing' ? 'is missing' : `rejected: ${c.reason}`}; using ${top.file}` });
      }
    }
    return { kind: 'ok', entry: top.entry, file: top.file, warnings };
  }

  async function write(update: CacheUpdate, opts: { force?: boolean } = {}): Promise<CacheWriteResult> {
    if (!repair.repair) throw new RackstrapError('RS_CACHE_INVALID', `cache ${dir} was opened read-only: a command that changes nothing does not write it`);
    const parsed = CacheUpdate.safeParse(update);
    if (!parsed.success) {
      throw new RackstrapError('RS_CACHE_INVALID', `refusing to cache an invalid configuration:\n${z.prettifyError(parsed.error)}`);
    }
    const warnings: CacheWarning[] = [];
    await ensureDir(dir, (w) => warnings.push(w));
    await sweep(warnings);
    const copies = await inspect(warnings);
    const top = best(copies);
    if (top && parsed.data.generation < top.entry.generation && !opts.force) {
      throw new CacheRollbackError(top.entry.generation, parsed.data.generation);
    }
    const entry = CacheEntry.parse({ clusterId, ...parsed.data, writtenAt: now().toISOString() });
    const text = encodeCacheFile(entry);
    const order = top ? [...copies.filter((c) => c !== top), top] : copies;
    for (const c of order) {
      await writeFileAtomic(c.file, text);
      if (c.state === 'rejected') warnings.push({ file: c.file, message: `${c.file} was unusable (${c.reason}); rewritten` });
    }
    return { warnings };
  }

  // One write at a time per Cache: interleaved writes could each pass the generation check and
  // then leave the two copies holding different entries.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    dir,
    files,
    read,
    write(update, opts) {
      const run = queue.then(() => write(update, opts));
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

function rejection(c: Copy): RejectedCacheCopy {
  return { file: c.file, reason: c.state === 'rejected' ? c.reason : 'missing' };
}
