// --out DIR: every file or none. All contents are generated before this runs; here each file is
// first written in full to a hidden temp file next to its target and synced, and only when all are
// on disk are they renamed over the targets (rename within one folder is atomic), so a reader
// never sees a half-written file and a failure while writing leaves the old files untouched.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RackstrapError } from '../errors.js';

/** Generated configuration is for pasting and sharing, not secret (the key never appears in it). */
const FILE_MODE = 0o644;

function tempFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

function fail(dir: string, e: unknown): RackstrapError {
  const err = e as NodeJS.ErrnoException;
  return new RackstrapError('RS_FILE', `${dir}: cannot write the generated files: ${err.code ?? ''} ${err.message}`.replace(/ {2,}/g, ' '), { cause: e });
}

/** Writes `files` into `dir` (created if missing); returns the paths written, in order. */
export async function writeOutputs(dir: string, files: ReadonlyArray<{ name: string; content: string }>): Promise<string[]> {
  for (const f of files) {
    if (f.name !== path.basename(f.name) || f.name.startsWith('.')) throw new RackstrapError('RS_FILE', `refusing to write ${f.name}: not a plain file name`);
  }
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (e) {
    throw fail(dir, e);
  }
  // What would make a rename fail after others succeeded: refuse it before writing anything.
  for (const f of files) {
    const st = await fs.lstat(path.join(dir, f.name)).catch(() => undefined);
    if (st && !st.isFile()) throw new RackstrapError('RS_FILE', `${path.join(dir, f.name)}: exists and is not a regular file; nothing written`);
  }
  const staged: Array<{ tmp: string; target: string }> = [];
  try {
    for (const f of files) {
      const target = path.join(dir, f.name);
      const tmp = tempFor(target);
      staged.push({ tmp, target });
      const fh = await fs.open(tmp, 'wx', FILE_MODE);
      try {
        await fh.writeFile(f.content);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  } catch (e) {
    await Promise.all(staged.map((s) => fs.rm(s.tmp, { force: true })));
    throw fail(dir, e);
  }
  try {
    for (const s of staged) await fs.rename(s.tmp, s.target);
    const dh = await fs.open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch (e) {
    await Promise.all(staged.map((s) => fs.rm(s.tmp, { force: true })));
    throw fail(dir, e);
  }
  return staged.map((s) => s.target);
}
