// Reading a file someone else chose, without trusting its size. Every file rackstrap reads whole
// (the cluster description, the agent's configuration, a topology file, a cache copy, the status
// file, the cluster key) comes through here with a cap on what it may hold:
//
// - opened with O_NONBLOCK, so a FIFO without a writer does not hang the open;
// - only regular files: a character device (`/dev/zero`), FIFO or socket is refused from its
//   fstat, before a single byte is read;
// - a file whose fstat size is over the cap is refused from that size, unread;
// - at most cap + 1 bytes are ever read, so a file that grows meanwhile, or a /proc file that
//   reports size 0, is refused once it passes the cap: memory is bounded by the cap, not the file.
import { constants, promises as fs, type Stats } from 'node:fs';
import { RackstrapError, type ErrorCode } from '../errors.js';

export interface ReadLimitedOptions {
  /** Largest size accepted, in bytes. */
  maxBytes: number;
  /** What the file is, for messages: "cluster description", "cache copy". */
  what: string;
  /** Error code of the RackstrapError thrown (default RS_FILE). */
  code?: ErrorCode;
}

/** Why a file was refused; `kind` is stable (tests and callers that report rather than throw). */
export class LimitedReadError extends RackstrapError {
  constructor(
    code: ErrorCode,
    readonly file: string,
    readonly kind: 'missing' | 'denied' | 'directory' | 'not-regular' | 'too-large' | 'io',
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** Bytes read by readLimited in this process, all files together: the work done, for tests of the bounds. */
export const readStats = { bytes: 0 };

function fileKind(st: Stats): string {
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

const sizeText = (n: number): string =>
  n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : n >= 2 ** 10 ? `${(n / 2 ** 10).toFixed(1)} KiB` : `${n} bytes`;

/** A byte count as people read it: `64 MiB`, `4 KiB`, `64 bytes`. */
export function formatBytes(n: number): string {
  return sizeText(n).replace(/\.0 /, ' ');
}

/**
 * The whole file, if it is a regular file of at most `maxBytes`. Throws LimitedReadError
 * (`<file>: cannot read <what>: <reason>`) otherwise, having read at most maxBytes + 1 bytes.
 */
export async function readLimited(file: string, opts: ReadLimitedOptions): Promise<Buffer> {
  const code = opts.code ?? 'RS_FILE';
  const fail = (kind: LimitedReadError['kind'], reason: string, cause?: unknown): LimitedReadError =>
    new LimitedReadError(code, file, kind, reason, `${file}: cannot read ${opts.what}: ${reason}`, cause === undefined ? undefined : { cause });
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT') throw fail('missing', 'no such file', e);
    if (errno === 'EACCES' || errno === 'EPERM') throw fail('denied', 'permission denied', e);
    if (errno === 'ENXIO') throw fail('not-regular', 'a socket, not a regular file', e);
    throw fail('io', errno ?? (e as Error).message, e);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw fail('directory', `is a directory, not ${article(opts.what)}`);
    if (!st.isFile()) throw fail('not-regular', `is ${fileKind(st)}, not a regular file; refused without reading it`);
    const limit = `${opts.what} is at most ${formatBytes(opts.maxBytes)}`;
    if (st.size > opts.maxBytes) throw fail('too-large', `the file is ${formatBytes(st.size)}; ${article(limit)}`);
    // One byte past the cap tells "exactly the cap" from "more" (a file that grew, or a /proc
    // file whose fstat size is 0).
    const want = opts.maxBytes + 1;
    let buf = Buffer.allocUnsafe(Math.min(want, Math.max(st.size + 1, 4096)));
    let got = 0;
    for (;;) {
      if (got === buf.length) {
        if (buf.length === want) break;
        const bigger = Buffer.allocUnsafe(Math.min(want, buf.length * 2));
        buf.copy(bigger, 0, 0, got);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      readStats.bytes += bytesRead;
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got > opts.maxBytes) throw fail('too-large', `the file holds more than ${formatBytes(opts.maxBytes)} (it grew while being read?); ${article(limit)}`);
    return buf.subarray(0, got);
  } catch (e) {
    if (e instanceof LimitedReadError) throw e;
    throw fail('io', (e as NodeJS.ErrnoException).code ?? (e as Error).message, e);
  } finally {
    await fh.close();
  }
}

/** "cluster description" -> "a cluster description"; a phrase that starts like a sentence stays. */
function article(what: string): string {
  if (/^(a|an|the) /.test(what)) return what;
  return /^[aeiou]/i.test(what) ? `an ${what}` : `a ${what}`;
}

/** Where `-` reads from (standard input by default; tests pass a stream). */
export interface InputOptions extends ReadLimitedOptions {
  stdin?: AsyncIterable<Buffer | string> | Iterable<Buffer | string>;
}

/**
 * A file argument as commands take it: `-` is standard input, read within the same cap (at most
 * cap + 1 bytes are held, then the read stops with a `too-large` LimitedReadError); anything else
 * is a file, read by readLimited.
 */
export async function readInputLimited(file: string, opts: InputOptions): Promise<Buffer> {
  if (file !== '-') return readLimited(file, opts);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of opts.stdin ?? (process.stdin as AsyncIterable<Buffer>) as AsyncIterable<Buffer | string>) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += b.length;
    readStats.bytes += b.length;
    if (size > opts.maxBytes) {
      const reason = `more than ${formatBytes(opts.maxBytes)} on standard input; ${article(`${opts.what} is at most ${formatBytes(opts.maxBytes)}`)}`;
      throw new LimitedReadError(opts.code ?? 'RS_FILE', '-', 'too-large', reason, `-: cannot read ${opts.what}: ${reason}`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
