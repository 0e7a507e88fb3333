// `rackstrap agent` end to end in network namespaces (flat cluster: the host kernel
// has no bonds or VLANs, so aliases sit on the NICs as macvlans). The embedded server in one
// namespace, Filer1 (2 NICs) and Filer2 (3 NICs) in others, all on one bridge:
//   1. `agent --once` on both at once: every alias addressed from DHCP, per-server tables, rules
//      and default routes in place (read back with `ip -j`, compared with the description), cache
//      written, `rackstrap status` showing it;
//   2. `agent --down`: leases released, nothing of rackstrap's left;
//   3. server stopped: `agent --once` comes up from the cache within the timeout and a little;
//   4. daemons running from the cache, server started with the management subnet moved
//      (generation 2): both pick up the new addresses live; SIGTERM ends them cleanly (one of
//      them started with --release gives its leases back and removes their addresses).
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCache } from '../../src/cache/open-cache.js';
import { loadClusterText } from '../../src/options/load.js';
import { reservationsOf } from '../../src/options/resolve.js';
import {
  actual, agentArgs, BIN, expected, FLAT, flatLab, movedMgmtDescription, runRackstrap, startServer, stopProcess, waitFor, writeEmptyConfig,
  type RunResult,
} from '../bootstrap/helpers/flat-lab.js';

const FILERS = ['Filer1', 'Filer2'] as const;
const TOPOLOGY_TIMEOUT_MS = 1000;

type LogLine = { time: string; level: string; event: string; msg: string; [k: string]: unknown };
const logLines = (stderr: string): LogLine[] =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);

/** Wall-clock ms from `startedAt` to the agent's `up` log line. */
function upAfter(r: RunResult, startedAt: number): number | undefined {
  const up = logLines(r.stderr).find((l) => l.event === 'up');
  return up === undefined ? undefined : Date.parse(up.time) - startedAt;
}

t.test('two filers: from DHCP, torn down, from the cache, then a new generation live', async (t) => {
  const l = await flatLab(t, FILERS);
  const dir = t.testdir({});
  writeEmptyConfig(dir);
  const cacheDir = (f: string) => join(dir, f.toLowerCase());
  const leaseFile = join(dir, 'leases.log');
  const ids = (f: string) =>
    reservationsOf(l.loaded).filter((r) => r.kind !== 'topology' && (r.kind === 'filer' ? r.filer === f : r.home === f)).length;
  let server = await startServer(l, FLAT, leaseFile);

  await t.test('agent --once on both: every alias addressed from DHCP, tables and rules in place, cache written', async (t) => {
    // A fresh filer's NICs are down until someone brings them up: the agent does, before asking.
    for (const nic of ['eth0', 'eth1']) await l.lab.ip(l.ns.get('Filer1')!, 'link', 'set', nic, 'down');
    const t0 = Date.now();
    const runs = await Promise.all(FILERS.map((f) => runRackstrap(l, l.ns.get(f)!, ['agent', '--once', ...agentArgs(l, cacheDir(f))])));
    for (const [i, f] of FILERS.entries()) {
      const r = runs[i]!;
      t.equal(r.code, 0, `${f}: exit 0${r.code === 0 ? '' : `\n${r.stderr}`}`);
      t.match(r.stdout, new RegExp(`^${f}: up from DHCP, generation 1$`));
      if (process.env.RACKSTRAP_AGENT_TIMELINE === '1') for (const x of logLines(r.stderr)) if (x.event !== 'dhcp' && x.event !== 'step') t.comment(`${Date.parse(x.time) - t0} ${x.event} ${x.msg.slice(0, 100)}`);
      t.same(await actual(l.lab, l.ns.get(f)!), expected(l.loaded, f), `${f}: addresses, routes and rules as the description says`);
      const cache = await openCache(cacheDir(f), { clusterId: l.clusterId }).read();
      t.equal(cache.kind, 'ok', `${f}: cache written`);
      if (cache.kind === 'ok') {
        t.equal(cache.entry.generation, 1);
        t.equal(cache.entry.topology.filer, f);
        t.equal(Object.keys(cache.entry.leases).length, ids(f), `${f}: one cached lease per identifier`);
        t.equal(cache.entry.keyFingerprint, null);
      }
      const events = logLines(r.stderr).map((x) => x.event);
      t.ok(events.includes('up') && !events.includes('apply-failed'), `${f}: logged JSON lines, no failure`);
      t.equal(events.includes('nics-up'), f === 'Filer1', `${f}: NICs that were down were brought up first`);
      t.comment(`${f}: agent start -> every alias addressed (up): ${upAfter(r, t0)} ms (process ran ${r.ms.toFixed(0)} ms)`);
    }
    const status = await runRackstrap(l, l.ns.get('Filer1')!, ['status', '--cache-dir', cacheDir('Filer1')]);
    t.equal(status.code, 3, 'exit 3: no agent runs (as systemctl status says)');
    t.match(status.stdout, /^agent: not running \(last run pid \d+\), stopped; configuration from DHCP left in place/);
    t.match(status.stdout, /mgmt0 \[alias\]  10\.1\.1\.2\/24 \(filer Filer1\), 10\.1\.1\.10\/24 \(MySQLMgmtNode\), 10\.1\.1\.12\/24 \(MySQLDataNode1\)\n +└─ eth0 \[NIC\]/);
    t.match(status.stdout, /02:00:00:00:AA:00:data0:VsvrA:1 +10\.3\.3\.1\/16 +\S+ \(in \d+ s\) +10\.3\.255\.250 +cached/);
    t.match(status.stdout, /cache: .* generation 1, written /);
  });

  await t.test('agent --down: leases released, nothing of rackstrap left', async (t) => {
    for (const f of FILERS) {
      const r = await runRackstrap(l, l.ns.get(f)!, ['agent', '--down', ...agentArgs(l, cacheDir(f))]);
      t.equal(r.code, 0, `${f}: exit 0${r.code === 0 ? '' : `\n${r.stderr}`}`);
      t.match(r.stdout, new RegExp(`; ${ids(f)} lease\\(s\\) released$`));
      t.same(await actual(l.lab, l.ns.get(f)!), { addresses: [], routes: [], rules: [] });
      const links = await l.lab.ipJson<Array<{ ifname: string }>>(l.ns.get(f)!, 'link', 'show');
      t.same(links.map((x) => x.ifname).filter((n) => n !== 'lo').sort(), Object.keys(l.loaded.filers.get(f)!.nics).sort(), `${f}: only the NICs remain`);
    }
    const released = server.lines.filter((x) => x.includes('"type":"RELEASE"')).length;
    t.equal(released, ids('Filer1') + ids('Filer2'), 'the server saw one RELEASE per lease');
  });

  await stopProcess(server.child);

  await t.test('no server: agent --once brings both up from the cache within the timeout and a little', async (t) => {
    const t0 = Date.now();
    const runs = await Promise.all(FILERS.map((f) => runRackstrap(l, l.ns.get(f)!, ['agent', '--once', ...agentArgs(l, cacheDir(f))])));
    for (const [i, f] of FILERS.entries()) {
      const r = runs[i]!;
      t.equal(r.code, 0, `${f}: exit 0${r.code === 0 ? '' : `\n${r.stderr}`}`);
      t.match(r.stdout, new RegExp(`^${f}: up from the cache, generation 1$`));
      t.same(await actual(l.lab, l.ns.get(f)!), expected(l.loaded, f), `${f}: the same state as from DHCP`);
      const noAnswer = logLines(r.stderr).find((x) => x.event === 'no-answer');
      const up = logLines(r.stderr).find((x) => x.event === 'up');
      t.ok(noAnswer !== undefined && up !== undefined, `${f}: logged the fallback`);
      if (noAnswer === undefined || up === undefined) continue;
      const afterTimeout = Date.parse(up.time) - Date.parse(noAnswer.time);
      t.ok(afterTimeout < 1500, `${f}: up ${afterTimeout} ms after the timeout`);
      t.comment(`${f}: agent start -> up from the cache: ${upAfter(r, t0)} ms = timeout ${TOPOLOGY_TIMEOUT_MS} ms + ${afterTimeout} ms after it`);
    }
  });

  await t.test('daemons on the cache pick up a moved management subnet (generation 2) live', async (t) => {
    // Filer2's daemon gives its leases back when it stops (--release); Filer1's keeps them.
    const daemons = FILERS.map((f) =>
      l.lab.spawn(l.ns.get(f)!, process.execPath, [
        BIN, 'agent', ...agentArgs(l, cacheDir(f), ['--refresh-interval', '300', '--retry-interval', '500', ...(f === 'Filer2' ? ['--release'] : [])]),
      ]),
    );
    const stderr = daemons.map(() => [] as string[]);
    daemons.forEach((d, i) => d.stderr?.on('data', (c: Buffer) => stderr[i]!.push(c.toString('utf8'))));
    const gen2Text = movedMgmtDescription(readFileSync(FLAT, 'utf8'));
    const gen2File = join(dir, 'cluster-gen2.yaml');
    writeFileSync(gen2File, gen2Text);
    const gen2 = loadClusterText(gen2Text, gen2File);
    t.equal(gen2.description.cluster.generation, 2);

    // Both come up from the cache first (the state is already there: nothing to change), and ask on.
    for (const [i, f] of FILERS.entries()) {
      const w = await waitFor(l.lab, l.ns.get(f)!, expected(l.loaded, f), 10_000);
      t.ok(w.ok, `${f}: running on the cache${w.ok ? '' : `\n${stderr[i]!.join('')}`}`);
    }
    server = await startServer(l, gen2File, leaseFile);
    const t0 = performance.now();
    for (const [i, f] of FILERS.entries()) {
      const want = expected(gen2, f);
      t.ok(want.addresses.some((a) => a.startsWith('mgmt0 10.1.9.')), 'the new generation moves mgmt addresses');
      const w = await waitFor(l.lab, l.ns.get(f)!, want, 15_000);
      t.ok(w.ok, `${f}: generation 2 applied live${w.ok ? '' : `: ${JSON.stringify(w.state)}\n${stderr[i]!.join('').slice(-3000)}`}`);
      t.comment(`${f}: generation 2 in place ${(performance.now() - t0).toFixed(0)} ms after the server came back`);
      // The cache is written once the last address of the new generation is in place, which can
      // be a moment after the kernel already shows it: give it a bounded while.
      let cached: number | undefined;
      for (const until = performance.now() + 10_000; ; ) {
        const cache = await openCache(cacheDir(f), { clusterId: l.clusterId, readOnly: true }).read();
        cached = cache.kind === 'ok' ? cache.entry.generation : undefined;
        if (cached === 2 || performance.now() > until) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      t.equal(cached, 2, `${f}: cache now holds generation 2`);
    }
    const refused = await runRackstrap(l, l.ns.get('Filer1')!, ['agent', '--down', ...agentArgs(l, cacheDir('Filer1'))]);
    t.equal(refused.code, 1, '--down refuses while the daemon runs');
    t.match(refused.stderr, /the agent is running \(pid \d+\) and would rebuild what --down removes: stop it first/);
    const releasesBefore = server.lines.filter((x) => x.includes('"type":"RELEASE"')).length;
    for (const [i, d] of daemons.entries()) {
      d.kill('SIGTERM');
      const r = await d.catch((e: unknown) => e as { exitCode?: number });
      t.equal(r.exitCode, 0, `${FILERS[i]}: SIGTERM ends the daemon cleanly`);
    }
    t.same(await actual(l.lab, l.ns.get('Filer1')!), expected(gen2, 'Filer1'), 'Filer1 (no --release) keeps everything after it stops');
    t.same(await actual(l.lab, l.ns.get('Filer2')!), { addresses: [], routes: [], rules: [] }, 'Filer2 (--release) removed the released addresses');
    const released = server.lines.filter((x) => x.includes('"type":"RELEASE"')).slice(releasesBefore);
    t.equal(released.length, ids('Filer2'), 'one RELEASE per Filer2 lease reached the server');
    t.ok(released.every((x) => x.includes(':Filer2') || /:Vsvr[BC]:|MySQLDataNode2/.test(x)), 'only Filer2 released');
    const status = await runRackstrap(l, l.ns.get('Filer2')!, ['status', '--cache-dir', cacheDir('Filer2')]);
    t.match(status.stdout, /^agent: not running \(pid \d+ gone\), stopped; configuration from DHCP left in place\nfiler: Filer2  generation 2/);
    t.match(status.stdout, /leases \(0\/\d+\)/, 'no lease held after --release');
  });
  await stopProcess(server.child);
});
