// rackstrap lab FILE (definition: ../commands/lab.ts): the description is checked first on the host,
// then the whole lab runs in a user-mode Linux guest (src/lab). Ctrl-C or SIGTERM stops the guest and
// removes its temporary files. Exit 0 when every filer's kernel matched the description, 1 otherwise.
import { durationArg } from '../../options/duration.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../../errors.js';
import { labUnavailable, runLab } from '../../lab/host.js';
import { LabPlanError, planLab } from '../../lab/lab-plan.js';
import { seconds } from '../../lab/report.js';
import type { LabCommandOptions } from '../commands/lab.js';
import { ExitCode, type Io } from '../main.js';
import { loadOrReport } from './validate.js';

export async function run(io: Io, file: string, o: LabCommandOptions): Promise<void> {
  const timeout = durationArg(o.dhcpTimeout ?? '3s', '--dhcp-timeout', { plain: 'ms', min: 100, max: 600_000 });
  // Progress is for people: on stderr when stdout carries the JSON.
  const say = o.json ? io.err : io.out;
  const write = (t: string) => (o.json ? process.stderr.write(t) : process.stdout.write(t));
  const loaded = await loadOrReport(file, io);
  // Checked here too, so a wrong --filer is an error before any guest boots.
  try {
    planLab(loaded, { prefix: 'rs', ...(o.filer ? { filers: o.filer } : {}) });
  } catch (e) {
    if (e instanceof LabPlanError) throw new UsageError(`${file}: ${o.filer ? '--filer: ' : ''}${e.message}`);
    throw e;
  }
  if (process.getuid?.() !== 0) {
    io.err('rackstrap lab: needs root. It builds network namespaces, bonds and VLANs (inside a user-mode Linux guest) and runs the DHCP server and agents as root there.\n  Run it as root: sudo rackstrap lab ' + file);
    throw new ExitCode(1);
  }
  const missing = labUnavailable();
  if (missing !== undefined) {
    io.err(`rackstrap lab: cannot run: ${missing}\n  Install what the project needs with: sudo bash scripts/setup-system.sh`);
    throw new ExitCode(1);
  }
  const abort = new AbortController();
  let interrupted: string | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = sig;
    io.err(`\n${sig}: stopping the guest and removing its temporary files...`);
    abort.abort();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  try {
    say(`rackstrap lab: ${file} on a real Linux kernel (user-mode Linux with bonding and 802.1Q; the host kernel has neither)`);
    const t0 = performance.now();
    const r = await runLab({
      cluster: file,
      print: write,
      signal: abort.signal,
      dhcpTimeoutMs: timeout,
      ...(o.filer ? { filers: o.filer } : {}),
      ...(o.skipLive ? { skipLiveUpdate: true } : {}),
      ...(o.skipCache ? { skipCache: true } : {}),
    });
    const total = seconds(performance.now() - t0);
    if (interrupted) {
      io.err(`interrupted after ${total}: guest stopped, temporary files removed`);
      throw new ExitCode(130);
    }
    if (o.out !== undefined) {
      for (const [name, text] of r.files) {
        mkdirSync(dirname(join(o.out, name)), { recursive: true });
        writeFileSync(join(o.out, name), text);
      }
      say(`the guest's files (${r.files.size}) are in ${o.out}`);
    }
    if (r.exitCode === undefined || r.results === undefined) {
      io.err(`\nthe guest stopped before finishing (${total}).\n--- guest log ---\n${r.log.slice(-4000)}\n--- UML console ---\n${r.console.slice(-2000)}`);
      throw new ExitCode(1);
    }
    if (r.exitCode !== 0 && r.log.trim() !== '') io.err(`--- guest log ---\n${r.log.slice(-4000)}`);
    if (o.json) io.out(JSON.stringify({ ...r.results, elapsedMs: Math.round(r.elapsedMs) }, null, 1));
    say(`\nlab ${r.exitCode === 0 ? 'passed' : 'FAILED'} in ${total} (guest powered off, temporary files removed)`);
    if (r.exitCode !== 0) throw new ExitCode(1);
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}
