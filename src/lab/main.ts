// `npm run demo`: the README's main job, end to end on a real kernel. Checks what it needs (root,
// user-mode Linux), runs the demo in a UML guest (host.ts), and stops the guest and removes its
// temporary files on Ctrl-C or SIGTERM. Exit 0 when every check passed, 1 otherwise, 130 when
// interrupted.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { demoUnavailable, runDemo } from './host.js';
import { seconds } from './report.js';

const out = (t: string) => process.stdout.write(t);
const err = (t: string) => process.stderr.write(t);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'dhcp-timeout': { type: 'string', default: '3000' },
      'skip-live': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    out(
      'usage: npm run demo [-- [--dhcp-timeout MS] [--skip-live] [--out DIR]]\n' +
        '  runs the example cluster (examples/cluster.yaml) in a user-mode Linux guest; needs root\n' +
        '  --out DIR  keep what the guest wrote: each filer\'s `ip -j -d` after each run, agent logs, caches, results.json\n',
    );
    return 0;
  }
  if (process.getuid?.() !== 0) {
    err('rackstrap demo: needs root. It builds network namespaces, bonds and VLANs (inside a user-mode Linux guest) and runs the DHCP server and agents as root there.\n  Run it as root: sudo npm run demo\n');
    return 1;
  }
  const missing = demoUnavailable();
  if (missing !== undefined) {
    err(`rackstrap demo: cannot run: ${missing}\n  Install what the project needs with: sudo bash scripts/setup-system.sh\n`);
    return 1;
  }
  const abort = new AbortController();
  let interrupted: string | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = sig;
    err(`\n${sig}: stopping the guest and removing its temporary files...\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  out('rackstrap demo: the example cluster (examples/cluster.yaml) on a real Linux kernel\n');
  out('(user-mode Linux with bonding and 802.1Q; the host kernel has neither)\n');
  const t0 = performance.now();
  const run = await runDemo({ print: out, signal: abort.signal, dhcpTimeoutMs: Number(values['dhcp-timeout']), skipLiveUpdate: values['skip-live'] });
  const total = seconds(performance.now() - t0);
  if (interrupted) {
    err(`interrupted after ${total}: guest stopped, temporary files removed\n`);
    return 130;
  }
  if (run.exitCode === undefined) {
    err(`\nthe guest stopped before finishing (${total}).\n--- guest log ---\n${run.log.slice(-4000)}\n--- UML console ---\n${run.console.slice(-2000)}\n`);
    return 1;
  }
  if (run.exitCode !== 0 && run.log.trim() !== '') err(`--- guest log ---\n${run.log.slice(-4000)}\n`);
  if (values.out !== undefined) {
    for (const [name, text] of run.files) {
      mkdirSync(dirname(join(values.out, name)), { recursive: true });
      writeFileSync(join(values.out, name), text);
    }
    out(`the guest's files (${run.files.size}) are in ${values.out}\n`);
  }
  out(`\ndemo ${run.exitCode === 0 ? 'passed' : 'FAILED'} in ${total} (guest powered off, temporary files removed)\n`);
  return run.exitCode === 0 ? 0 : 1;
}

process.exitCode = await main();
