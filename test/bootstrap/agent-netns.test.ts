// The Agent in-process against a real kernel (a network namespace) and the embedded server: a new
// generation whose change fails is taken back whole, and the filer stays exactly in its last good
// state until the change can be made. Two failures, as they happen in the field:
//   - a conflicting foreign object (an admin's address where the new generation puts one): the
//     plan refuses, after the stack for the new generation was already built;
//   - a step failing midway (a runner that breaks the first `rule add` of the batch): the net layer
//     undoes the steps of its run, the agent undoes the stack it built for the generation.
// Then the obstacle goes and the agent's retry applies the generation.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from '../../src/bootstrap/bootstrap.js';
import { makeAgentLog } from '../../src/bootstrap/agent-log.js';
import { openCache } from '../../src/cache/open-cache.js';
import { TransportPool } from '../../src/dhcp-client/index.js';
import { observe, type ObservedState } from '../../src/net/observe.js';
import { makeRunner, type Runner } from '../../src/net/runner.js';
import { loadClusterText } from '../../src/options/load.js';
import { actual, expected, FLAT, filer1AgentSettings, flatLab, movedMgmtDescription, reloadServer, startServer, stopProcess } from './helpers/flat-lab.js';

/** Everything that must match between two states of the filer (ifindex and carrier left out). */
function comparable(s: ObservedState) {
  return {
    links: s.links.map((l) => ({ ifname: l.ifname, kind: l.kind, master: l.master, up: l.up, mtu: l.mtu, mac: l.mac, ifalias: l.ifalias, parent: l.parent })).sort((a, b) => a.ifname.localeCompare(b.ifname)),
    addresses: s.addresses.map((a) => JSON.stringify(a)).sort(),
    routes: s.routes.map((r) => JSON.stringify(r)).sort(),
    rules: s.rules.map((r) => JSON.stringify(r)).sort(),
    iptables: s.iptables.available ? s.iptables.rules.map((r) => `${r.chain} ${r.spec.join(' ')}`).sort() : s.iptables.reason,
  };
}

/**
 * A runner that breaks the first `rule add` line of the next ip batches that have one, one fault
 * per batch from `faults`: 'parse' (a line ip cannot parse: it exits without naming the line) or
 * 'kernel' (a route the kernel refuses: "Command failed -:N").
 */
function faultyRunner(inner: Runner): Runner & { faults: Array<'parse' | 'kernel'>; broken: string[] } {
  const r = {
    faults: [] as Array<'parse' | 'kernel'>,
    broken: [] as string[],
    async run(argv: readonly string[], opts: { input?: string } = {}) {
      const fault = r.faults[0];
      if (fault !== undefined && argv[0] === 'ip' && argv.includes('-batch') && opts.input?.includes('\nrule add ')) {
        r.faults.shift();
        const lines = opts.input.split('\n');
        const k = lines.findIndex((l) => l.startsWith('rule add '));
        r.broken.push(lines[k]!);
        lines[k] = fault === 'parse' ? 'rule add frobnicate' : 'route add 198.51.100.0/24 via 192.0.2.1';
        return inner.run(argv, { input: lines.join('\n') });
      }
      return inner.run(argv, opts);
    },
  };
  return r;
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('a failing new generation leaves the last good state; the retry applies it', async (t) => {
  const l = await flatLab(t, ['Filer1']);
  const ns = l.ns.get('Filer1')!;
  const dir = t.testdir({});
  const leaseFile = join(dir, 'leases.log');
  let server = await startServer(l, FLAT, leaseFile);
  t.teardown(() => stopProcess(server.child));

  const real = makeRunner({ netns: ns });
  const runner = faultyRunner(real);
  const logs: string[] = [];
  const settings = filer1AgentSettings(l, join(dir, 'cache'), { topologyTimeoutMs: 1000, addressTimeoutMs: 1500, refreshIntervalMs: 200 });
  const agent = new Agent(settings, { runner, netns: ns, pool: new TransportPool(), daemon: true, log: makeAgentLog({ level: 'debug', write: (s) => logs.push(s) }) });
  t.teardown(() => agent.stop());

  const up = await agent.bringUp();
  t.match(up, { source: 'dhcp', generation: 1, missing: [] });
  t.same(await actual(l.lab, ns), expected(l.loaded, 'Filer1'), 'generation 1 from DHCP');
  agent.keepUp();

  // Generation 2: the management subnet moves and Filer1 gets a new alias data3 with a VsvrA address.
  const text = movedMgmtDescription(readFileSync(FLAT, 'utf8'))
    .replace('        data0: eth1\n    addresses:\n      mgmt0: 10.1.9.2', '        data0: eth1\n        data3: eth0\n    addresses:\n      mgmt0: 10.1.9.2')
    .replace('      data1: { 0: 10.2.2.3 }', '      data1: { 0: 10.2.2.3 }\n      data3: { 0: 10.2.2.9 }');
  const gen2File = join(dir, 'cluster-gen2.yaml');
  writeFileSync(gen2File, text);
  const gen2 = loadClusterText(text, gen2File);
  t.ok(expected(gen2, 'Filer1').addresses.includes('data3 10.2.2.9/24'), 'generation 2 adds data3');

  // The admin's address where generation 2 puts VsvrA's: a conflict the plan must not resolve.
  await l.lab.ip(ns, 'addr', 'add', '10.2.2.9/32', 'dev', 'eth0');
  // 'kernel' twice: a failure planned from an observation taken ahead is retried once from a fresh one.
  runner.faults = ['parse', 'kernel', 'kernel'];
  const before = comparable(await observe(real));
  await stopProcess(server.child);
  server = await startServer(l, gen2File, leaseFile);

  await t.test('a conflicting foreign object: refused, the stack built for it taken back', async (t) => {
    const err = await until('the conflict', () => (agent.snapshot().lastError?.code === 'RS_CONFLICT' ? agent.snapshot().lastError! : undefined), 15_000);
    t.match(err.message, /10\.2\.2\.9 \(for VsvrA on data3\) is already on eth0, not added by rackstrap/);
    t.same(comparable(await observe(real)), before, 'the filer is exactly as before generation 2 (data3 removed again)');
    t.equal(agent.current?.topology.generation, 1);
    t.ok(logs.some((x) => x.includes('"event":"undo"') && x.includes('generation 2')), 'the agent logged taking the stack back');
  });

  await l.lab.ip(ns, 'addr', 'del', '10.2.2.9/32', 'dev', 'eth0');
  const before2 = comparable(await observe(real));

  const lastErrorAfter = (at: string | undefined, code: string) => () => {
    const e = agent.snapshot().lastError;
    return e !== null && e.code === code && e.at !== at ? e : undefined;
  };

  let seen: string | undefined;
  await t.test('a step ip cannot even parse, midway: no line named, the host brought back all the same', async (t) => {
    const err = await until('the failed batch', lastErrorAfter(undefined, 'RS_STEP'), 15_000);
    seen = err.at;
    t.equal(runner.broken.length, 1, 'one batch was broken');
    t.match(runner.broken[0], /^rule add priority 31000 from 10\.2\.2\.\d+ table 1 realms 1\/1 protocol 114$/);
    t.match(err.message, /generation 2 could not be applied; keeping generation 1: .*undo incomplete/s, 'the net layer says its rollback was not enough');
    t.same(comparable(await observe(real)), before2, 'the agent repaired the host to exactly its generation 1 state');
    t.ok(logs.some((x) => x.includes('"event":"repair"')), 'and said so');
  });

  await t.test('a step the kernel refuses, midway: the run undone, the stack taken back, generation 1 kept', async (t) => {
    const err = await until('the failed step', lastErrorAfter(seen, 'RS_STEP'), 15_000);
    t.equal(runner.broken.length, 3);
    t.match(err.message, /generation 2 could not be applied; keeping generation 1: step \d+ \(rule-add .*\) failed: .*every earlier step of this run was undone/);
    t.same(comparable(await observe(real)), before2, 'the filer is exactly in its generation 1 state');
    const cache = await openCache(settings.cacheDir, { clusterId: l.clusterId }).read();
    t.equal(cache.kind === 'ok' ? cache.entry.generation : undefined, 1, 'the cache still holds generation 1');
  });

  await t.test('the retry applies generation 2 once nothing is in the way', async (t) => {
    await until('generation 2', () => (agent.current?.topology.generation === 2 ? true : undefined), 15_000);
    t.same(await actual(l.lab, ns), expected(gen2, 'Filer1'), 'generation 2 in place: mgmt moved, data3 addressed, table 1 with its rule');
    // The cache is written after the last address (a moment after the kernel shows it): a bounded wait.
    const cached = await until('generation 2 cached', async () => {
      const c = await openCache(settings.cacheDir, { clusterId: l.clusterId }).read();
      return c.kind === 'ok' && c.entry.generation === 2 ? 2 : undefined;
    }, 5_000).catch(() => undefined);
    t.equal(cached, 2);
    t.equal(agent.snapshot().mode, 'dhcp');
  });
  await t.test('an address that comes late (a reservation added to the server) is applied when it binds', async (t) => {
    // Generation 3 (served by a reload, SIGHUP) adds san1 to Filer1 without an address: the agent
    // asks, nobody answers, the rest is applied after the address timeout and the client asks on.
    const gen3Text = text
      .replace('generation: 2', 'generation: 3')
      .replace('        data3: eth0\n', '        data3: eth0\n        san1: eth1\n');
    await reloadServer(server, gen2File, gen3Text);
    await until('generation 3', () => (agent.current?.topology.generation === 3 ? true : undefined), 15_000);
    t.match(agent.snapshot().leases.find((x) => x.alias === 'san1'), { identifier: `${l.clusterId}:san1:Filer1`, state: 'selecting' }, 'san1 has no lease, its client asks on');
    t.notOk((await actual(l.lab, ns)).addresses.some((a) => a.startsWith('san1 ')));
    // The DHCP admin adds the reservation (same generation: nothing else changes) and reloads.
    const withAddress = gen3Text.replace('      san0: 10.2.2.2\n', '      san0: 10.2.2.2\n      san1: 10.2.2.7\n');
    t.not(withAddress, gen3Text);
    await reloadServer(server, gen2File, withAddress);
    const got = await until('san1 addressed', async () => ((await actual(l.lab, ns)).addresses.includes('san1 10.2.2.7/24') ? true : undefined), 15_000);
    t.ok(got, 'the late lease was applied by the running agent');
    t.equal(agent.current?.leases[`${l.clusterId}:san1:Filer1`]?.address, '10.2.2.7');
    const cachedSan1 = await until('san1 cached', async () => {
      const c = await openCache(settings.cacheDir, { clusterId: l.clusterId }).read();
      return c.kind === 'ok' ? c.entry.leases[`${l.clusterId}:san1:Filer1`]?.address : undefined;
    }, 5_000).catch(() => undefined);
    t.equal(cachedSan1, '10.2.2.7', 'and cached');
  });

  await agent.stop();
  t.equal(agent.snapshot().mode, 'stopped');
});
