// The namespace lab itself: what it builds, and that nothing outlives it.

import { execa } from 'execa';
import { hostname } from 'node:os';
import t from 'tap';
import { cleanupStale, isRunning, listNamespaces, makeLab, type Lab } from './netns.js';

const PREFIX = 'rsharness';

const mine = async (prefix: string): Promise<string[]> => (await listNamespaces()).filter((n) => n.startsWith(prefix));

/** A pid that certainly belongs to no running process: one that just exited. */
async function deadPid(): Promise<number> {
  const child = execa('true');
  const pid = child.pid;
  await child;
  if (pid === undefined || isRunning(pid)) throw new Error('could not get a dead pid');
  return pid;
}

t.test('builds a LAN: bridge, cables with the given MAC, hostnames, exec, json', async (t) => {
  const lab = await makeLab(t, { prefix: PREFIX });
  const sw = await lab.ns('sw');
  const h = await lab.ns('h1', { hostname: 'filer1' });
  t.match(h, new RegExp(`^${PREFIX}${process.pid}-h1$`), 'name is <prefix><pid>-<name>');
  t.equal(lab.netnsPath(h), `/run/netns/${h}`);
  await lab.bridge(sw, 'br-mgmt');
  const { peer } = await lab.link(h, 'mgmt0', sw, 'br-mgmt', { mac: '02:00:00:00:01:01' });

  const [port] = await lab.ipJson<Array<{ master?: string; operstate: string }>>(sw, 'link', 'show', peer);
  t.equal(port?.master, 'br-mgmt', 'switch end is a bridge port');
  const [nic] = await lab.ipJson<Array<{ address: string; flags: string[] }>>(h, 'link', 'show', 'mgmt0');
  t.equal(nic?.address, '02:00:00:00:01:01', 'host end has the MAC asked for');
  t.ok(nic?.flags.includes('UP') && nic.flags.includes('MULTICAST'), 'host end is up with multicast');
  const [lo] = await lab.ipJson<Array<{ flags: string[] }>>(h, 'link', 'show', 'lo');
  t.ok(lo?.flags.includes('UP'), 'loopback is up');

  t.equal((await lab.exec(h, 'hostname')).stdout, 'filer1', 'namespace hostname');
  t.equal((await lab.exec(h, 'hostname', [], { hostname: 'other' })).stdout, 'other', 'per-command hostname');
  t.equal((await lab.exec(sw, 'hostname')).stdout, hostname(), 'no hostname: the shared one');
  t.equal(hostname(), (await execa('hostname')).stdout, "the test host's name is untouched");
  const env = await lab.exec(h, 'sh', ['-c', 'echo "$RS_X"'], { env: { RS_X: 'yes' } });
  t.equal(env.stdout, 'yes', 'env reaches the command');
  const failed = await lab.exec(h, 'sh', ['-c', 'exit 3'], { reject: false });
  t.equal(failed.exitCode, 3);
  await t.rejects(lab.exec(h, 'sh', ['-c', 'exit 3']), 'non-zero exit rejects by default');

  // Two hosts on the same bridge reach each other (the bridge forwards at once, STP off).
  const h2 = await lab.ns('h2');
  await lab.link(h2, 'mgmt0', sw, 'br-mgmt');
  await lab.ip(h, 'addr', 'add', '10.9.0.1/24', 'dev', 'mgmt0');
  await lab.ip(h2, 'addr', 'add', '10.9.0.2/24', 'dev', 'mgmt0');
  // A UDP round trip with the kernel's own tools is not available (no ping/nc); a TCP connect
  // through bash's /dev/tcp to a closed port proves reachability by the RST it gets back.
  const probe = await lab.exec(h, 'bash', ['-c', 'exec 3<>/dev/tcp/10.9.0.2/9 2>&1; echo connected'], { reject: false });
  t.match(probe.stdout + probe.stderr, /Connection refused/, 'h reaches h2 over the bridge (RST from a closed port)');
});

t.test('teardown kills spawned and forked-off processes and deletes every namespace', async (t) => {
  let lab: Lab | undefined;
  let spawnedPid: number | undefined;
  let daemonPid: number | undefined;
  await t.test('a test that builds things', async (tt) => {
    lab = await makeLab(tt, { prefix: PREFIX });
    const a = await lab.ns('a');
    const b = await lab.ns('b');
    await lab.veth(a, 'x0', b, 'x1');
    spawnedPid = lab.spawn(a, 'sleep', ['300']).pid;
    // A daemon that leaves its spawner: only the namespace sweep can find it.
    const daemon = await lab.exec(b, 'sh', ['-c', 'setsid sleep 300 >/dev/null 2>&1 </dev/null & echo $!']);
    daemonPid = Number(daemon.stdout);
    tt.equal((await mine(lab.prefix)).length, 2);
    tt.ok(spawnedPid && isRunning(spawnedPid) && isRunning(daemonPid), 'both processes run');
  });
  t.ok(lab, 'lab was made');
  t.same(await mine(lab!.prefix), [], 'no namespace with the prefix remains');
  t.notOk(isRunning(spawnedPid!), 'spawned process was killed');
  t.notOk(isRunning(daemonPid!), 'forked-off process in the namespace was killed');
  await t.resolves(lab!.close(), 'close again is a no-op');
});

t.test('teardown runs when the test body throws', async (t) => {
  // A stand-in for tap's teardown list, so the throw does not fail this file.
  const teardowns: Array<() => unknown> = [];
  let prefix = '';
  let pid: number | undefined;
  await t.rejects(
    (async () => {
      const lab = await makeLab({ teardown: (fn) => teardowns.push(fn) }, { prefix: PREFIX });
      prefix = lab.prefix;
      const a = await lab.ns('boom');
      pid = lab.spawn(a, 'sleep', ['300']).pid;
      throw new Error('test body failed');
    })(),
    /test body failed/,
  );
  t.equal(teardowns.length, 1, 'makeLab registered its teardown');
  t.equal((await mine(prefix)).length, 1, 'namespace exists until teardown');
  for (const fn of teardowns) await fn();
  t.same(await mine(prefix), [], 'gone after teardown');
  t.notOk(isRunning(pid!), 'child gone after teardown');
});

t.test('cleanupStale removes namespaces of dead runs only', async (t) => {
  const stalePrefix = 'rsstale';
  const dead = `${stalePrefix}${await deadPid()}-sw`;
  const live = `${stalePrefix}${process.pid}-live`;
  const other = `${stalePrefix}x${await deadPid()}-sw`; // another prefix: never touched
  t.teardown(async () => {
    for (const ns of [dead, live, other]) await execa('ip', ['netns', 'del', ns], { reject: false });
  });
  for (const ns of [dead, live, other]) await execa('ip', ['netns', 'add', ns]);
  const removed = await cleanupStale(stalePrefix);
  t.same(removed, [dead], 'only the dead run');
  const left = await listNamespaces();
  t.notOk(left.includes(dead));
  t.ok(left.includes(live), "a live run's namespace stays");
  t.ok(left.includes(other), "another prefix's namespace stays");
});

t.test('makeLab refuses prefixes that could be confused with a pid', async (t) => {
  await t.rejects(makeLab({ teardown: () => undefined }, { prefix: 'rs1' }), /lower-case letters/);
});
