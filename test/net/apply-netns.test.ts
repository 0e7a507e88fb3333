// apply() on the host's real kernel, in a network namespace (prefix rsapply): aliases as macvlans on
// veths, filer and virtual-server addresses, per-server tables with realms, rules, iptables counters.
// Bonds and VLANs need user-mode Linux (uml.test.ts): this kernel has neither.
// RACKSTRAP_CAPTURE_FIXTURES=1 writes the raw `ip -j` output to test/fixtures/ip-json/netns-applied/.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { PlanConflictError, StepFailedError } from '../../src/errors.js';
import { apply, CommandFailedError, teardown } from '../../src/net/apply.js';
import { formatBatch } from '../../src/net/batch.js';
import { aliasMac, buildDesiredState, type DesiredInput } from '../../src/net/desired.js';
import { observe, observeRaw, parseObservation, type ObservedState } from '../../src/net/observe.js';
import { plan } from '../../src/net/plan.js';
import { makeRunner, type Runner } from '../../src/net/runner.js';
import { makeLab, type Lab } from '../helpers/netns.js';

const INPUT: DesiredInput = {
  topology: {
    filer: 'NsFiler',
    generation: 1,
    stack: { aliases: { mgmt0: 'eth0', data0: 'eth1', data1: 'eth1' } },
    vservers: [
      { name: 'VsvrA', table: 1, addresses: [{ alias: 'data0', instance: 0 }, { alias: 'data0', instance: 1 }, { alias: 'data1', instance: 0 }] },
      { name: 'VsvrB', table: 2, addresses: [{ alias: 'data1', instance: 0 }] },
    ],
  },
  clusterId: '00:07:34:04:12:0E',
  nics: { eth0: 'nic0', eth1: 'nic1' },
  filerAddresses: [{ alias: 'mgmt0', address: '10.1.1.2/24', router: '10.1.1.254' }],
  vservers: [
    { name: 'VsvrA', table: 1, gateway: '10.2.2.254', addresses: [
      { alias: 'data0', address: '10.2.2.1/24' }, { alias: 'data0', address: '10.3.3.1/16' }, { alias: 'data1', address: '10.2.2.3/24' }] },
    { name: 'VsvrB', table: 2, gateway: '10.3.255.254', addresses: [{ alias: 'data1', address: '10.3.4.1/16' }] },
  ],
};

/** A namespace with two NICs (veths whose peers are up, so carrier is stable), as an agent finds them. */
async function filerNamespace(lab: Lab, name: string): Promise<{ ns: string; runner: Runner }> {
  const ns = await lab.ns(name);
  for (const nic of ['nic0', 'nic1']) {
    await lab.ip(ns, 'link', 'add', nic, 'type', 'veth', 'peer', 'name', `${nic}p`);
    await lab.ip(ns, 'link', 'set', `${nic}p`, 'up');
    await lab.ip(ns, 'link', 'set', nic, 'up');
  }
  return { ns, runner: makeRunner({ netns: ns }) };
}

/** Everything that must match between two states (ifindex and operstate left out). */
function comparable(s: ObservedState) {
  return {
    links: s.links
      .map((l) => ({ ifname: l.ifname, kind: l.kind, master: l.master, up: l.up, mtu: l.mtu, mac: l.mac, ifalias: l.ifalias, parent: l.parent, macvlanMode: l.macvlanMode }))
      .sort((a, b) => a.ifname.localeCompare(b.ifname)),
    addresses: [...s.addresses].sort((a, b) => `${a.dev} ${a.local}`.localeCompare(`${b.dev} ${b.local}`)),
    routes: [...s.routes].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    rules: [...s.rules].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    iptables: s.iptables.available ? { chains: [...s.iptables.chains].sort(), rules: s.iptables.rules.map((r) => `${r.chain} ${r.spec.join(' ')}`).sort() } : s.iptables,
  };
}

t.test('apply builds the desired state in a namespace; re-plan is empty; teardown restores it', async (t) => {
  const lab = await makeLab(t, { prefix: 'rsapply' });
  const { ns, runner } = await filerNamespace(lab, 'f');
  const desired = buildDesiredState(INPUT);
  const rawBefore = await observeRaw(runner);
  const before = parseObservation(rawBefore);
  t.ok(before.iptables.available, 'iptables works in the namespace');

  const p = plan(desired, before);
  t.same(p.skipped, []);
  let t0 = performance.now();
  const report = await apply(p.steps, { runner });
  const applyMs = performance.now() - t0;
  t.comment(`apply: ${p.steps.length} steps in ${applyMs.toFixed(0)} ms (${(applyMs / p.steps.length).toFixed(1)} ms/step)`);
  t.equal(report.ran.length, p.steps.length);

  const rawAfter = await observeRaw(runner);
  const after = parseObservation(rawAfter);
  if (process.env.RACKSTRAP_CAPTURE_FIXTURES === '1') {
    const dir = 'test/fixtures/ip-json/netns-applied';
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'before.json'), `${JSON.stringify(rawBefore, null, 1)}\n`);
    writeFileSync(join(dir, 'after.json'), `${JSON.stringify(rawAfter, null, 1)}\n`);
  }

  const link = (n: string) => after.links.find((l) => l.ifname === n);
  for (const [alias, parent] of [['mgmt0', 'nic0'], ['data0', 'nic1'], ['data1', 'nic1']] as const) {
    t.match(link(alias), { kind: 'macvlan', parent, macvlanMode: 'bridge', owned: true, up: true, ifalias: 'rackstrap:alias', mac: aliasMac('NsFiler', alias, '00:07:34:04:12:0E') }, alias);
  }
  t.same(
    after.addresses.filter((a) => a.owned).map((a) => `${a.local}/${a.prefixlen} brd ${a.broadcast} ${a.dev}${a.noprefixroute ? ' noprefixroute' : ''}`).sort(),
    ['10.1.1.2/24 brd 10.1.1.255 mgmt0', '10.2.2.1/24 brd 10.2.2.255 data0 noprefixroute', '10.2.2.3/24 brd 10.2.2.255 data1 noprefixroute',
      '10.3.3.1/16 brd 10.3.255.255 data0 noprefixroute', '10.3.4.1/16 brd 10.3.255.255 data1 noprefixroute'],
  );
  t.same(
    after.routes.filter((r) => r.owned).map((r) => `${r.table} ${r.dst} ${r.gateway ?? '-'} ${r.dev} ${r.prefsrc ?? '-'} ${r.realm ?? '-'}`).sort(),
    ['1 10.2.2.0/24 - data0 10.2.2.1 1', '1 10.2.2.0/24 - data1 10.2.2.3 1', '1 10.3.0.0/16 - data0 10.3.3.1 1', '1 default 10.2.2.254 data0 - 1',
      '2 10.3.0.0/16 - data1 10.3.4.1 2', '2 default 10.3.255.254 data1 - 2', '254 default 10.1.1.254 mgmt0 - -'],
  );
  t.ok(after.routes.some((r) => r.table === 254 && r.dst === '10.1.1.0/24' && r.dev === 'mgmt0' && r.protocol === 2 && r.metric === 114), 'the filer address keeps its connected route (with our metric)');
  t.notOk(after.routes.some((r) => r.table === 254 && r.dst.startsWith('10.2.2.')), 'noprefixroute: no server subnet in main');
  t.same(after.rules.filter((r) => r.owned).map((r) => `${r.priority} ${r.src} ${r.table} ${r.realmFrom}/${r.realmTo}`).sort(),
    ['31000 10.2.2.1 1 1/1', '31000 10.2.2.3 1 1/1', '31000 10.3.3.1 1 1/1', '31000 10.3.4.1 2 2/2']);

  // The kernel routes the servers' traffic by their tables, with their realms.
  const get = async (...args: string[]) => JSON.parse((await lab.ip(ns, '-j', '-N', 'route', 'get', ...args)))[0] as Record<string, unknown>;
  t.match(await get('192.0.2.9', 'from', '10.2.2.1'), { gateway: '10.2.2.254', dev: 'data0', table: '1' }, 'VsvrA leaves via its gateway');
  t.match(await get('192.0.2.9', 'from', '10.3.4.1'), { gateway: '10.3.255.254', dev: 'data1', table: '2' }, 'VsvrB too');
  t.match(await get('192.0.2.9'), { gateway: '10.1.1.254', dev: 'mgmt0' }, 'the filer itself uses main');

  if (after.iptables.available) {
    t.same(after.iptables.chains.sort(), ['RACKSTRAP-IN', 'RACKSTRAP-OUT']);
    t.equal(after.iptables.rules.filter((r) => r.chain === 'RACKSTRAP-IN' || r.chain === 'RACKSTRAP-OUT').length, 32, 'a total and a TCP, UDP and ICMP counter per address and direction');
  }

  const replan = plan(desired, after);
  t.same(replan.steps.map((s) => s.argv.join(' ')), [], 're-plan is empty');

  t0 = performance.now();
  await teardown(await observe(runner), { runner });
  t.comment(`teardown: ${(performance.now() - t0).toFixed(0)} ms`);
  t.same(comparable(await observe(runner)), comparable(before), 'teardown leaves the namespace as it was');

  // `rackstrap plan` text is executable: the ip lines through `ip -batch`, the others (iptables,
  // sysctl) as they are, in order.
  const text = formatBatch(p);
  const whole = (l: string) => /^(iptables|sysctl) /.test(l);
  const lines = text.split('\n').filter((l) => l !== '');
  for (let i = 0; i < lines.length; ) {
    if (whole(lines[i]!)) {
      await execa('ip', ['netns', 'exec', ns, ...lines[i]!.split(' ')]);
      i++;
      continue;
    }
    const run: string[] = [];
    while (i < lines.length && !whole(lines[i]!)) run.push(lines[i++]!);
    const batch = await execa('ip', ['-n', ns, '-batch', '-'], { input: run.join('\n'), reject: false });
    t.equal(batch.exitCode, 0, `ip -batch accepts the plan's lines: ${batch.stderr}`);
  }
  t.same(comparable(await observe(runner)), comparable(after), 'the printed batch builds the same state as apply');
  await teardown(await observe(runner), { runner });
});

t.test('a step failing at any point leaves the namespace exactly as before', async (t) => {
  const lab = await makeLab(t, { prefix: 'rsapply' });
  const { runner } = await filerNamespace(lab, 'k');
  const before = await observe(runner);
  const steps = plan(buildDesiredState(INPUT), before).steps;
  const want = JSON.stringify(comparable(before));
  const check = async (k: number, mode: string, run: () => Promise<unknown>, stderr: RegExp) => {
    const what = `${mode}: failure at step ${k} (${steps[k]!.kind} ${steps[k]!.target})`;
    try {
      await run();
      t.fail(`${what}: no error`);
      return;
    } catch (e) {
      if (!(e instanceof StepFailedError)) throw e;
      const ok = e.index === k && e.rolledBack && e.cause instanceof CommandFailedError && stderr.test(e.cause.stderr);
      if (!ok) t.fail(`${what}: wrong error ${e.message}`);
    }
    const now = comparable(await observe(runner));
    if (JSON.stringify(now) === want) t.pass(`${what}: rolled back`);
    else t.same(now, JSON.parse(want), what);
  };

  // Batched (the default): step k replaced by a command of its kind that the kernel or iptables refuses.
  for (let k = 0; k < steps.length; k++) {
    const bad = steps[k]!.argv[0] === 'iptables'
      ? ['iptables', '-w', '-D', 'INPUT', '-s', '192.0.2.77/32', '-j', 'ACCEPT']
      : ['ip', 'link', 'set', 'dev', 'rs-no-such-nic', 'up'];
    const broken = steps.map((s, i) => (i === k ? { ...s, argv: bad } : s));
    await check(k, 'batched', () => apply(broken, { runner }), /Cannot find device|Bad rule|does a matching rule exist/);
  }
  // One process per step: the k-th call fails (apply runs each step once, in order, before any undo).
  for (let k = 0; k < steps.length; k += 3) {
    let calls = 0;
    const failing: Runner = {
      async run(argv, opts) {
        if (calls++ === k) return { argv, exitCode: 2, stdout: '', stderr: `RTNETLINK answers: injected failure at step ${k}\n` };
        return runner.run(argv, opts);
      },
    };
    await check(k, 'per step', () => apply(steps, { runner: failing, batch: false }), /injected failure/);
  }
});

t.test('a real conflicting object makes apply fail, name the step, and roll back', async (t) => {
  const lab = await makeLab(t, { prefix: 'rsapply' });
  const { ns, runner } = await filerNamespace(lab, 'c');
  const desired = buildDesiredState(INPUT);
  const p = plan(desired, await observe(runner));
  // Between plan and apply an admin creates data1 (and puts an address on mgmt0's future subnet).
  await lab.ip(ns, 'link', 'add', 'data1', 'type', 'veth', 'peer', 'name', 'data1p');
  const withConflict = comparable(await observe(runner));
  try {
    await apply(p.steps, { runner });
    t.fail('apply succeeded over an existing data1');
  } catch (e) {
    t.ok(e instanceof StepFailedError, 'StepFailedError');
    const err = e as StepFailedError;
    t.equal(err.code, 'RS_STEP');
    t.match(err.step, { kind: 'link-add', target: 'data1' }, 'names the step');
    t.match(err.message, /step \d+ \(link-add data1\) failed: ip link add link nic1 name data1 .*File exists; every earlier step of this run was undone/);
    t.match((err.cause as CommandFailedError).stderr, /File exists/, 'the command\'s stderr is the cause');
    t.ok(err.rolledBack);
  }
  t.same(comparable(await observe(runner)), withConflict, 'the namespace is as it was, admin\'s data1 included');
  // Planned again, the conflict is found before anything runs.
  await t.rejects(async () => plan(desired, await observe(runner)), PlanConflictError);
});

t.test('live changes: new alias MACs rebuild the aliases in place; a moved subnet moves only addresses and routes', async (t) => {
  const lab = await makeLab(t, { prefix: 'rsapply' });
  const { ns, runner } = await filerNamespace(lab, 'l');
  await apply(plan(buildDesiredState(INPUT), await observe(runner)).steps, { runner });

  // Another cluster ID gives every alias another MAC: each is deleted and re-created under the
  // same name in one batch, with its addresses, routes and rules back.
  const moved = { ...INPUT, clusterId: '00:07:34:04:12:0F' };
  const p1 = plan(buildDesiredState(moved), await observe(runner));
  t.same(p1.steps.filter((s) => s.kind === 'link-del').map((s) => s.target).sort(), ['data0', 'data1', 'mgmt0']);
  await apply(p1.steps, { runner });
  const s1 = await observe(runner);
  t.equal(s1.links.find((l) => l.ifname === 'data0')?.mac, aliasMac('NsFiler', 'data0', '00:07:34:04:12:0F'));
  t.same(plan(buildDesiredState(moved), s1).steps, [], 're-plan is empty');
  t.equal(s1.routes.filter((r) => r.owned).length, 7, 'all routes are back');

  // VsvrA's 10.3.3.1/16 moves to 10.4.0.0/16.
  const subnet = structuredClone(moved);
  subnet.vservers![0]!.addresses![1]!.address = '10.4.3.1/16';
  const p2 = plan(buildDesiredState(subnet), s1);
  t.ok(p2.steps.every((s) => /^(addr|route|rule|acct)-|route-flush/.test(s.kind)), `only addresses, routes, rules, counters: ${p2.steps.map((s) => s.kind).join(' ')}`);
  await apply(p2.steps, { runner });
  const s2 = await observe(runner);
  t.same(plan(buildDesiredState(subnet), s2).steps, [], 're-plan is empty');
  const get = JSON.parse(await lab.ip(ns, '-j', '-N', 'route', 'get', '192.0.2.9', 'from', '10.4.3.1'))[0] as Record<string, unknown>;
  t.match(get, { gateway: '10.2.2.254', dev: 'data0', table: '1' }, 'the new address is routed by VsvrA\'s table');
  t.notOk(s2.addresses.some((a) => a.local === '10.3.3.1'));

  // A second server in VsvrA's subnet on data0, then VsvrA leaves: its 10.2.2.1 was the subnet's
  // primary address, and the other server's 10.2.2.9 must stay (promote_secondaries).
  const shared = structuredClone(subnet);
  shared.vservers!.push({ name: 'VsvrD', table: 4, addresses: [{ alias: 'data0', address: '10.2.2.9/24' }] });
  await apply(plan(buildDesiredState(shared), s2).steps, { runner });
  const leaving = structuredClone(shared);
  leaving.vservers = leaving.vservers!.filter((v) => v.name !== 'VsvrA');
  await apply(plan(buildDesiredState(leaving), await observe(runner)).steps, { runner });
  const s3 = await observe(runner);
  t.ok(s3.addresses.some((a) => a.local === '10.2.2.9' && a.dev === 'data0'), 'the other server keeps its address');
  t.same(plan(buildDesiredState(leaving), s3).steps, [], 're-plan is empty');

  // Jumbo frames on eth1: the NIC first, then the aliases on it; and back, in the other order.
  const jumbo = structuredClone(leaving);
  (jumbo.topology.stack as { mtu?: Record<string, number> }).mtu = { eth1: 9000 };
  const pUp = plan(buildDesiredState(jumbo), s3);
  t.same(pUp.steps.map((s) => s.argv.slice(4).join(' ')), ['nic1 mtu 9000', 'data0 mtu 9000', 'data1 mtu 9000']);
  await apply(pUp.steps, { runner });
  const s4 = await observe(runner);
  t.equal(s4.links.find((l) => l.ifname === 'data1')?.mtu, 9000);
  t.same(plan(buildDesiredState(jumbo), s4).steps, [], 're-plan is empty');
  const normal = structuredClone(leaving);
  (normal.topology.stack as { mtu?: Record<string, number> }).mtu = { eth1: 1500 };
  const pDown = plan(buildDesiredState(normal), s4);
  t.same(pDown.steps.map((s) => s.argv.slice(4).join(' ')), ['data1 mtu 1500', 'data0 mtu 1500', 'nic1 mtu 1500']);
  await apply(pDown.steps, { runner });
  t.same(plan(buildDesiredState(normal), await observe(runner)).steps, [], 're-plan is empty');
});
