// Runs the rackstrap binary as an admin would, with its peak memory measured (GNU time's %M, the
// child's max RSS) and its address space capped (prlimit), so a check of a memory bound is a
// number to compare, and a regression fails with a refused allocation instead of taking the
// machine's memory.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = join(process.cwd(), 'bin', 'rackstrap.js');

export interface BoundedRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The child's peak resident set, in MiB. */
  maxRssMb: number;
}

/** Address space allowed to the child: room for Node's reservations, far less than a runaway read. */
export const ADDRESS_SPACE_BYTES = 3 * 2 ** 30;

export function runBounded(args: readonly string[], opts: { cwd?: string; env?: Record<string, string>; prefix?: readonly string[] } = {}): Promise<BoundedRun> {
  const dir = mkdtempSync(join(tmpdir(), 'rackstrap-time-'));
  const timeFile = join(dir, 'time');
  const argv = [...(opts.prefix ?? []), '/usr/bin/prlimit', `--as=${ADDRESS_SPACE_BYTES}`, '/usr/bin/time', '-o', timeFile, '-f', '%M', process.execPath, BIN, ...args];
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { cwd: opts.cwd ?? process.cwd(), env: { ...process.env, NO_COLOR: '1', ...opts.env }, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      let kb = NaN;
      try {
        // GNU time prints "Command exited with non-zero status N" before the figure.
        kb = Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop());
      } catch {
        // no figure: NaN fails any bound
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, stderr, maxRssMb: kb / 1024 });
    });
  });
}
