// Discovery and join, side by side with avahi (`npx tsc -p . && node dist/bench/discovery.js [reps]`,
// as root): on a two-host namespace lab (member a advertising with rackstrap's responder and
// serving joins; host c browsing, with its own avahi-daemon), the median of `reps` runs of
//   - rackstrap's browser to the first result (in-process) and `rackstrap discover` as a command,
//   - `avahi-browse -t -r -p _rackstrap._tcp` for the same service (to its "all for now" exit),
//   - `rackstrap join <cluster name>` end to end (discovery, TLS, proof, bundle stored),
// and the mDNS traffic member a sends in 30 s with a `discover --watch` listening (tcpdump).
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { discoverOnce } from '../src/discovery/discover.js';
import { makeLab } from '../test/helpers/netns.js';
import { FLAT } from '../test/bootstrap/helpers/flat-lab.js';
import { BIN, capture, followJsonLines, segmentLab, startAvahi } from '../test/discovery/helpers/mdns-lab.js';

const reps = Number(process.argv[2] ?? 10);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const teardowns: Array<() => unknown> = [];
const lab = await makeLab({ teardown: (fn) => teardowns.push(fn) }, { prefix: 'qdbench' });
try {
  const dir = mkdtempSync(join(tmpdir(), 'qdbench-'));
  teardowns.push(() => rmSync(dir, { recursive: true, force: true }));
  const { hosts } = await segmentLab(lab, ['a', 'c']);
  const a = hosts.get('a')!;
  const c = hosts.get('c')!;
  writeFileSync(join(dir, 'cluster.key'), randomBytes(32), { mode: 0o600 });
  writeFileSync(join(dir, 'cluster.yaml'), readFileSync(FLAT, 'utf8').replace('  generation: 1\n', '  generation: 1\n  keyFile: cluster.key\n'));
  const capA = await capture(lab, a.ns, 'mgmt0', ['udp', 'port', '5353', 'and', 'src', a.mgmt], dir);
  const js = followJsonLines(lab.spawn(a.ns, process.execPath, [BIN, 'join-server', join(dir, 'cluster.yaml'), '--interface', 'mgmt0', '--state-dir', join(dir, 'state')]));
  await js.waitFor((e) => e.event === 'mdns-announced', 20_000);
  await new Promise((r) => setTimeout(r, 1500));
  const avahi = await startAvahi(lab, c.ns, join(dir, 'avahi'), 'benchc');

  const inproc: number[] = [];
  const cli: number[] = [];
  const avahiBrowse: number[] = [];
  const joins: number[] = [];
  for (let i = 0; i < reps; i++) {
    const r = await discoverOnce({ interfaces: ['mgmt0'], netns: lab.netnsPath(c.ns), timeoutMs: 3000 });
    inproc.push(r.firstMs ?? NaN);
    let t0 = performance.now();
    await lab.exec(c.ns, process.execPath, [BIN, 'discover', '--interface', 'mgmt0', '--json']);
    cli.push(performance.now() - t0);
    t0 = performance.now();
    const ab = await lab.exec(c.ns, 'avahi-browse', ['-t', '-r', '-p', '_rackstrap._tcp'], { env: avahi.env });
    avahiBrowse.push(performance.now() - t0);
    if (!ab.stdout.includes('=;mgmt0')) throw new Error(`avahi-browse did not resolve the service:\n${ab.stdout}`);
  }
  const codes = (await execa('ip', ['netns', 'exec', a.ns, process.execPath, join(process.cwd(), 'dist', 'test', 'join', 'helpers', 'cli-batch.js'),
    JSON.stringify(Array.from({ length: reps }, () => ({ argv: ['token', 'create', '--state-dir', join(dir, 'state')] })))])).stdout;
  const codeTexts = (JSON.parse(codes) as Array<{ stdout: string }>).map((x) => x.stdout.trim());
  for (let i = 0; i < reps; i++) {
    writeFileSync(join(dir, `code${i}`), `${codeTexts[i]}\n`, { mode: 0o600 });
    const t0 = performance.now();
    const r = await lab.exec(c.ns, process.execPath, [BIN, 'join', 'flat', '--token-file', join(dir, `code${i}`), '--cache-dir', join(dir, `cache${i}`), '--interface', 'mgmt0', '--base-mac', '02:00:00:00:01:00'], { reject: false });
    joins.push(performance.now() - t0);
    if (r.exitCode !== 0) throw new Error(`join failed: ${r.stderr}`);
  }
  // Steady traffic: 60 s with a watcher on c (its queries back off; member a answers).
  const before = (await capA.stop()).length;
  mkdirSync(join(dir, 'steady'));
  const cap2 = await capture(lab, a.ns, 'mgmt0', ['-e', 'udp', 'port', '5353', 'and', 'src', a.mgmt], join(dir, 'steady'));
  const watch = lab.spawn(c.ns, process.execPath, [BIN, 'discover', '--watch', '--interface', 'mgmt0']);
  await new Promise((r) => setTimeout(r, 30_000));
  watch.kill('SIGTERM');
  const steady = await cap2.stop();
  const bytes = steady.reduce((n, l) => n + Number(/length (\d+)(?!.*length)/.exec(l)?.[1] ?? 0), 0);
  const f = (xs: number[]) => `${median(xs).toFixed(0)} ms (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`;
  console.log(`reps ${reps}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`rackstrap browser, first result (in-process):  ${f(inproc)}`);
  console.log(`rackstrap discover --json (whole command):      ${f(cli)}`);
  console.log(`avahi-browse -t -r -p (whole command):          ${f(avahiBrowse)}`);
  console.log(`rackstrap join <name> end to end:               ${f(joins)}`);
  console.log(`member a: ${before} mDNS packets sent during the timed runs; ${steady.length} packets, ${bytes} bytes (frames) in 30 s with one watcher`);
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
