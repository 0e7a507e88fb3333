// The lab's bundle (src/lab/bundle.ts): built once from the sources, reused while they do not change,
// and working on its own: the bundled CLI finds its addon and worker through the environment the
// guest gets, not through the checkout's dist/.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labBundle } from '../../src/lab/bundle.js';
import { PROJECT_ROOT } from '../../src/lab/host.js';

t.test('built or reused, then reused; the bundled CLI runs on its own', async (t) => {
  const why: string[] = [];
  const first = await labBundle(PROJECT_ROOT, (w) => why.push(w));
  if (first === undefined) {
    t.fail(`no bundle: ${why.join('; ')}`);
    return;
  }
  for (const f of ['rackstrap.cjs', 'config-worker.cjs', 'lab-guest.cjs', 'rackstrap_net.node']) t.ok(existsSync(join(first.dir, f)), f);
  const again = await labBundle(PROJECT_ROOT);
  t.equal(again?.dir, first.dir, 'the same folder');
  t.equal(again?.built, false, 'reused: no input changed');

  const cli = first.env.RACKSTRAP_LAB_CLI!;
  const env = { ...process.env, ...first.env, NO_COLOR: '1' };
  const version = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  t.equal(execFileSync(process.execPath, [cli, '--version'], { env, encoding: 'utf8' }).trim(), version, '--version');
  const v = spawnSync(process.execPath, [cli, 'validate', join(PROJECT_ROOT, 'examples/cluster.yaml')], { env, encoding: 'utf8' });
  t.equal(v.status, 0, `validate the example exits 0${v.status === 0 ? '' : `: ${v.stderr}`}`);
  // The serve in every lab run loads its description in the bundle's worker (config-worker.cjs).
  const g = spawnSync(process.execPath, [cli, 'gen', 'dhcpd', join(PROJECT_ROOT, 'examples/cluster.yaml')], { env, encoding: 'utf8' });
  t.equal(g.status, 0, `gen dhcpd exits 0${g.status === 0 ? '' : `: ${g.stderr}`}`);
  t.match(g.stdout, /Filer1/, 'and writes the configuration');
  const guest = spawnSync(process.execPath, [first.guest], { env, encoding: 'utf8' });
  t.equal(guest.status, 2, "the guest's program starts from its bundle (and wants --out)");
  t.match(guest.stderr, /--out is required/);
});
