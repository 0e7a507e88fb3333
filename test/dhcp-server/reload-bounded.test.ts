// A SIGHUP reload whose key file is hostile (/dev/zero) is refused quickly, with the key file's
// rule, in bounded memory, and the next reload is free: a good file is served right after. Once,
// the loader read /dev/zero without end and every later reload queued behind it.
import t from 'tap';
import { readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeLab } from '../helpers/netns.js';
import { ADDRESS_SPACE_BYTES, BIN } from '../helpers/bounded-run.js';
import { exampleText, KEY } from './helpers/fixtures.js';

type Line = Record<string, unknown> & { event?: string };

/** Peak RSS of a live process (VmHWM), MiB. */
function peakRssMb(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A bound on the server: a Node process with its loader thread; a runaway read is gigabytes. */
const RSS_BOUND_MB = 400;

t.test('reload with a /dev/zero key: refused in bounded memory, the next reload is served', async (t) => {
  const lab = await makeLab(t, { prefix: 'qib' });
  const ns = await lab.ns('srv');
  await lab.veth(ns, 'srv0', await lab.ns('cli'), 'c0');
  await lab.ip(ns, 'addr', 'add', '10.1.1.1/24', 'dev', 'srv0');
  const dir = t.testdir();
  const config = join(dir, 'cluster.yaml');
  const keyFile = join(dir, 'cluster.key');
  writeFileSync(keyFile, KEY, { mode: 0o600 });
  writeFileSync(config, exampleText({ keyFile: 'cluster.key' }));

  const child = lab.spawn(ns, '/usr/bin/prlimit', [`--as=${ADDRESS_SPACE_BYTES}`, process.execPath, BIN, 'serve', config, '--interface', 'srv0', '--lease-file', join(dir, 'leases.log'), '--log-format', 'json'], {
    env: { ...process.env, NO_COLOR: '1' } as Record<string, string>,
  });
  const lines: Line[] = [];
  let wake: () => void = () => undefined;
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) if (p.trim() !== '') lines.push(JSON.parse(p) as Line);
    wake();
  });
  let exited = false;
  void child.then(() => undefined, () => undefined).finally(() => {
    exited = true;
    wake();
  });
  /** The n-th line (from 0) with this event; a generous guard, the assertions are not about time. */
  const nth = async (event: string, n: number): Promise<Line> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const found = lines.filter((l) => l.event === event)[n];
      if (found) return found;
      if (exited) throw new Error(`serve exited before ${event}: ${lines.map((l) => JSON.stringify(l)).join('\n')}`);
      if (Date.now() > deadline) throw new Error(`no ${event} #${n}; log:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };
  await nth('ready', 0);
  const pid = child.pid!;

  rmSync(keyFile);
  symlinkSync('/dev/zero', keyFile);
  process.kill(pid, 'SIGHUP');
  const refused = await nth('reload-refused', 0);
  t.match(refused.error, `${keyFile}: cannot read the cluster key (cluster.keyFile): is a character device, not a regular file; refused without reading it`);
  t.match(refused.detail, 'still serving');
  t.ok(peakRssMb(pid) < RSS_BOUND_MB, `peak RSS ${peakRssMb(pid).toFixed(0)} MB < ${RSS_BOUND_MB} MB`);

  // The next reload is not stuck behind the refused one.
  rmSync(keyFile);
  writeFileSync(keyFile, KEY, { mode: 0o600 });
  writeFileSync(config, exampleText({ keyFile: 'cluster.key', set: [[['cluster', 'generation'], 2]] }));
  process.kill(pid, 'SIGHUP');
  const reloaded = await nth('reloaded', 0);
  t.equal(reloaded.generation, 2, 'the good file that followed is served');
  t.equal(lines.filter((l) => l.event === 'reload-refused').length, 1, 'only the hostile reload was refused');
});
