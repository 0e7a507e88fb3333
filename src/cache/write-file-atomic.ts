// Replace a file so that, whenever the process or the machine stops, the path holds either the
// whole old content or the whole new one: temp file in the same directory (rename is only atomic
// within one filesystem), write, fsync the data, rename over the target, fsync the directory so
// the rename itself is on disk. Without the first fsync a power cut after the rename can leave a
// zero-length file on ext4/xfs; without the second the rename may be lost.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FILE_MODE } from './check-permissions.js';

/** `.<name>.<pid>.<random>.tmp`: hidden, and the pid tells a crashed writer's leftovers from a live one's. */
const TEMP = /^\.(.+)\.(\d+)\.[0-9a-f]+\.tmp$/;

export function tempName(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Temp files this process is writing right now: the only ones with our pid that are not stale. */
const inFlight = new Set<string>();

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempName(target);
  inFlight.add(tmp);
  // wx: never follow or reuse something already at that name. The mode is final from creation,
  // so the content is never readable by others, not even for a moment.
  const fh = await fs.open(tmp, 'wx', FILE_MODE);
  let renamed = false;
  try {
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    await fs.rename(tmp, target);
    renamed = true;
    await syncDir(path.dirname(target));
  } finally {
    if (!renamed) {
      await fh.close().catch(() => undefined);
      await fs.rm(tmp, { force: true });
    }
    inFlight.delete(tmp);
  }
}

async function syncDir(dir: string): Promise<void> {
  const dh = await fs.open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but is not ours to signal, so it may well be writing.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove temp files of `names` left by writers that no longer run (a crash between open and
 * rename). A live writer's temp file is left alone. Our own pid counts as dead unless the file is
 * one we are writing now: after a reboot the agent easily gets the pid its crashed predecessor had.
 * Returns the paths removed.
 */
export async function removeStaleTemps(dir: string, names: readonly string[]): Promise<string[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const m = TEMP.exec(entry);
    if (!m || !names.includes(m[1]!)) continue;
    const p = path.join(dir, entry);
    const pid = Number(m[2]);
    if (pid === process.pid ? inFlight.has(p) : isAlive(pid)) continue;
    await fs.rm(p, { force: true });
    removed.push(p);
  }
  return removed;
}
