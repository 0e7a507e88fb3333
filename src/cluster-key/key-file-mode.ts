// Next to the one key-file reader: a key file anyone but its owner can read is a leaked key. The
// commands that use a key (validate, gen, the agent) say so as a warning; they still work, since
// refusing would stop a cluster's boot over a permission bit.
import { statSync } from 'node:fs';

/** A warning when `file` is readable (or writable) by its group or others; undefined otherwise. */
export function keyFileModeWarning(file: string): string | undefined {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    return undefined; // the reader reports a missing or unreadable file itself
  }
  if ((mode & 0o077) === 0) return undefined;
  return `warning: ${file}: the cluster key is readable by ${mode & 0o007 ? 'every user' : 'its group'} (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); make it chmod 600`;
}
