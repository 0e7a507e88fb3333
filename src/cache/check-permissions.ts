// Who may read and write the cache. It holds every address of the filer and the cluster key's
// fingerprint, and the agent builds the network from it with no one watching, so:
//
// - Anything someone else could have WRITTEN (a directory or copy owned by another user, or
//   writable by group/others) is untrustworthy: a checksum does not help, anyone can compute
//   SHA-256. The directory is refused outright (CacheInsecureError: an admin must look). A copy
//   is rejected like a corrupt one (the other copy is used, the next write replaces it with a
//   fresh 0600 file), because the directory being ours means only root or we could have put it.
// - Something others could only READ (a directory made 0755 by packaging or `mkdir -p` with the
//   usual umask, a copy made 0644 by `cp`) cannot have been tampered with, so refusing it would
//   only stop a filer booting for nothing. We tighten it to 0700/0600 and warn: whatever leaked,
//   leaked already, and the agent's log says so.
//
// Read-only callers (`plan`, `status`, `show`) pass `repair: false`: nothing is tightened, the
// warning says what the agent will do, and the command changes nothing on disk.
import { constants, promises as fs } from 'node:fs';
import { CacheInsecureError } from '../errors.js';
import { formatBytes } from '../input/read-limited.js';

/**
 * Largest cache copy read. A copy holds one topology (at most 252 objects of 253 bytes on the
 * wire, a few times that as JSON) and its leases: tens of KB. A larger file is refused from its
 * size, unread, like a corrupt copy.
 */
export const MAX_CACHE_COPY_BYTES = 4 * 2 ** 20;

export interface RepairOptions {
  /** Tighten over-readable modes (the agent); false reports instead (read-only commands). */
  repair: boolean;
}

/** Something the agent should log; the cache carried on. */
export interface CacheWarning {
  file: string;
  message: string;
}

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

const OTHERS_WRITE = 0o022;
const OTHERS_ANY = 0o077;

const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

/** Our uid, or undefined on platforms without uids (ownership is then not checked). */
const ourUid = (): number | undefined => process.getuid?.();

/**
 * Check (and if only over-readable, tighten) the cache directory. `missing` when it does not
 * exist; throws CacheInsecureError when it cannot be trusted.
 */
export async function checkDir(dir: string, warn: (w: CacheWarning) => void, opts: RepairOptions = { repair: true }): Promise<'ok' | 'missing'> {
  let st;
  try {
    st = await fs.stat(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw e;
  }
  if (!st.isDirectory()) throw new CacheInsecureError(`cache directory ${dir} is not a directory`);
  const uid = ourUid();
  if (uid !== undefined && st.uid !== uid) {
    throw new CacheInsecureError(`cache directory ${dir} is owned by uid ${st.uid}, not by us (uid ${uid}); refusing to trust it`);
  }
  if (st.mode & OTHERS_WRITE) {
    throw new CacheInsecureError(
      `cache directory ${dir} has mode ${octal(st.mode)}: others can write it, so its content cannot be trusted; check it, then chmod 0700 ${dir}`,
    );
  }
  if (st.mode & OTHERS_ANY) {
    if (!opts.repair) {
      warn({ file: dir, message: `cache directory ${dir} has mode ${octal(st.mode)} (readable by others); the agent will change it to 0700 (left as it is here: this command changes nothing)` });
      return 'ok';
    }
    await fs.chmod(dir, DIR_MODE);
    warn({ file: dir, message: `cache directory ${dir} had mode ${octal(st.mode)} (readable by others); changed to 0700` });
  }
  return 'ok';
}

/** Create the directory 0700 if missing (with its parents), then check it. */
export async function ensureDir(dir: string, warn: (w: CacheWarning) => void): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
  await checkDir(dir, warn);
}

export type CopyBytes = { state: 'ok'; bytes: Buffer } | { state: 'missing' } | { state: 'rejected'; reason: string };

/**
 * Read one copy if it can be trusted. Opened with O_NOFOLLOW and checked on the open handle, so
 * what is checked is what is read.
 */
export async function readCopy(file: string, warn: (w: CacheWarning) => void, opts: RepairOptions = { repair: true }): Promise<CopyBytes> {
  let fh;
  try {
    fh = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { state: 'missing' };
    if (code === 'ELOOP') return { state: 'rejected', reason: 'is a symbolic link, not a file rackstrap wrote' };
    return { state: 'rejected', reason: `cannot be opened (${code ?? (e as Error).message})` };
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { state: 'rejected', reason: 'not a regular file' };
    const uid = ourUid();
    if (uid !== undefined && st.uid !== uid) return { state: 'rejected', reason: `insecure: owned by uid ${st.uid}, not by us (uid ${uid})` };
    if (st.mode & OTHERS_WRITE) return { state: 'rejected', reason: `insecure: mode ${octal(st.mode)} lets others write it` };
    if (st.size > MAX_CACHE_COPY_BYTES) return { state: 'rejected', reason: `the file is ${formatBytes(st.size)}; a cache copy is at most ${formatBytes(MAX_CACHE_COPY_BYTES)} (not read)` };
    if (st.mode & OTHERS_ANY) {
      if (opts.repair) {
        await fh.chmod(FILE_MODE);
        warn({ file, message: `${file} had mode ${octal(st.mode)} (readable by others); changed to 0600` });
      } else {
        warn({ file, message: `${file} has mode ${octal(st.mode)} (readable by others); the agent will change it to 0600 (left as it is here: this command changes nothing)` });
      }
    }
    // Sized by the fstat above; one byte more tells a file that grew since (it never should:
    // copies are only ever replaced by rename).
    const buf = Buffer.alloc(st.size + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead > st.size) return { state: 'rejected', reason: 'changed while being read' };
    return { state: 'ok', bytes: buf.subarray(0, bytesRead) };
  } catch (e) {
    return { state: 'rejected', reason: `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  } finally {
    await fh.close();
  }
}
