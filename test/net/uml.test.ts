// The Filer1 plan on a real kernel with bonding and 802.1Q (user-mode Linux): an 802.3ad bond over
// two veths negotiating LACP with a peer bond in a guest namespace (the fake switch), VLANs on it,
// aliases with addresses, a per-server table with its rules. Read back with `ip -j -d` and checked
// here on the host.
//
// This file is also the guest program: the host boots UML, whose init runs
// `node <this file> --uml-guest $OUT`, and the guest half writes what it saw to $OUT.
// RACKSTRAP_CAPTURE_FIXTURES=1 copies the guest's raw `ip -j` output to test/fixtures/ip-json/uml-filer1/.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StepFailedError } from '../../src/errors.js';
import { apply } from '../../src/net/apply.js';
import { formatBatch } from '../../src/net/batch.js';
import { aliasMac, buildDesiredState } from '../../src/net/desired.js';
import { observeRaw, parseObservation, type ObservedState, type RawObservation } from '../../src/net/observe.js';
import { plan, planTeardown } from '../../src/net/plan.js';
import { makeRunner, type RunOptions } from '../../src/net/runner.js';

const GUEST_FLAG = '--uml-guest';
const FILER1_INPUT = 'test/fixtures/plans/filer1.input.json';

interface GuestResult {
  before: RawObservation;
  rollback: string;
  rolledBack: RawObservation;
  after: RawObservation;
  final: RawObservation;
  planText: string;
  applyMs: number;
  lacpMs: number;
  teardownMs: number;
  replanSteps: string[];
  ping: Record<string, boolean>;
  skipped: string[];
  timings: Array<[string, number]>;
}

if (process.argv.includes(GUEST_FLAG)) {
  await guest(process.argv[process.argv.indexOf(GUEST_FLAG) + 1]!);
} else {
  await host();
}

// ---- guest: runs inside UML ----------------------------------------------------------------------

async function guest(out: string): Promise<void> {
  const real = makeRunner();
  const timings: Array<[string, number]> = [];
  const runner = {
    async run(argv: readonly string[], opts?: RunOptions) {
      const t0 = performance.now();
      const r = await real.run(argv, opts);
      timings.push([`${argv.join(' ')}${opts?.input ? ` <<${JSON.stringify(opts.input.split('\n').length - 1)} lines` : ''}`, performance.now() - t0]);
      return r;
    },
  };
  const sh = async (...argv: string[]) => {
    const r = await runner.run(argv);
    if (r.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  };
  // The fake switch: an LACP bond over the peers of eth0/eth1 with VLANs 10 and 20 on it, and the
  // peers of eth2/eth3 (the failover pair) with the management subnet on eth2's peer. Then every
  // NIC up, as on a filer that has just sent its topology requests.
  await sh('ip', 'netns', 'add', 'sw');
  const batch = async (argv: string[], lines: string[]) => {
    const r = await runner.run(argv, { input: `${lines.join('\n')}\n` });
    if (r.exitCode !== 0) throw new Error(`lab setup: ${r.stderr}`);
  };
  await batch(['ip', '-batch', '-'], [0, 1, 2, 3].map((i) => `link add eth${i} type veth peer name sw${i} netns sw`));
  await batch(['ip', '-n', 'sw', '-batch', '-'], [
    'link add swbond type bond mode 802.3ad lacp_rate fast miimon 100',
    'link set sw0 master swbond',
    'link set sw1 master swbond',
    'link set swbond mtu 9000 up',
    ...['10', '20'].flatMap((vid) => [`link add link swbond name swbond.${vid} type vlan id ${vid}`, `link set swbond.${vid} up`]),
    'addr add 10.2.2.100/24 dev swbond.10',
    'link set sw2 up',
    'link set sw3 up',
    'addr add 10.1.1.100/24 dev sw2',
    'link set lo up',
  ]);
  await batch(['ip', '-batch', '-'], [0, 1, 2, 3].map((i) => `link set eth${i} up`));

  const desired = buildDesiredState(JSON.parse(readFileSync(FILER1_INPUT, 'utf8')));
  const before = await observeRaw(runner);
  const p = plan(desired, parseObservation(before));

  // First a run that fails at its very end: every step is undone, on real bonds and VLANs.
  const injected = [...p.steps, { kind: 'link-up' as const, target: 'rs-missing', feature: undefined, argv: ['ip', 'link', 'set', 'dev', 'rs-missing', 'up'], undo: [], reason: 'injected failure' }];
  let rollback = 'no error';
  try {
    await apply(injected, { runner });
  } catch (e) {
    rollback = e instanceof StepFailedError ? `step ${e.index} failed, rolledBack=${e.rolledBack} ${e.undoFailures.join('; ')}` : String(e);
  }
  const rolledBack = await observeRaw(runner);

  let t0 = performance.now();
  await apply(p.steps, { runner });
  const applyMs = performance.now() - t0;

  // LACP: both of our members must reach "distributing" (poll, don't sleep).
  t0 = performance.now();
  for (;;) {
    const r = await runner.run(['ip', '-j', '-d', 'link', 'show']);
    const links = parseObservation({ link: JSON.parse(r.stdout), addr: [], route: [], rule: [], iptables: { ok: false, reason: '' } }).links;
    const states = ['eth0', 'eth1'].map((n) => links.find((l) => l.ifname === n)?.slave?.adPortState ?? []);
    if (states.every((s) => s.includes('distributing'))) break;
    if (performance.now() - t0 > 20_000) throw new Error(`LACP did not converge: ${JSON.stringify(states)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const lacpMs = performance.now() - t0;

  const after = await observeRaw(runner);
  const replan = plan(desired, parseObservation(after));

  const ping: Record<string, boolean> = {};
  for (const ip of ['10.2.2.1', '10.1.1.2']) {
    const r = await runner.run(['ip', 'netns', 'exec', 'sw', 'busybox', 'ping', '-c', '1', '-W', '3', ip]);
    ping[ip] = r.exitCode === 0;
  }

  t0 = performance.now();
  await apply(planTeardown(parseObservation(await observeRaw(runner))).steps, { runner });
  const teardownMs = performance.now() - t0;
  const final = await observeRaw(runner);

  const result: GuestResult = {
    before,
    after,
    final,
    planText: formatBatch(p),
    rollback,
    rolledBack,
    applyMs,
    lacpMs,
    teardownMs,
    replanSteps: replan.steps.map((s) => s.argv.join(' ')),
    ping,
    skipped: p.skipped.map((s) => `${s.feature}: ${s.reason}`),
    timings,
  };
  writeFileSync(join(out, 'result.json'), JSON.stringify(result));
}

// ---- host: boots UML and checks what the guest saw ------------------------------------------------

async function host(): Promise<void> {
  const { default: t } = await import('tap');
  const { runUml, umlUnavailable } = await import('../../src/lab/uml.js');

  t.test('the Filer1 plan builds a real LACP bond, VLANs, aliases and per-server routing in user-mode Linux', async (t) => {
    const missing = umlUnavailable();
    if (missing !== undefined) {
      t.fail(`user-mode Linux is required for this test: ${missing}`);
      return;
    }
    const self = fileURLToPath(import.meta.url);
    const r = await runUml({ script: `cd ${process.cwd()} && node ${self} ${GUEST_FLAG} "$OUT"`, timeoutMs: 60_000 });
    t.comment(`UML run: ${r.elapsedMs} ms boot to power-off`);
    if (r.exitCode !== 0 || !r.files.has('result.json')) {
      t.fail(`guest failed (exit ${r.exitCode}):\n${r.log}\n--- console ---\n${r.console.slice(-3000)}`);
      return;
    }
    const g = JSON.parse(r.files.get('result.json')!) as GuestResult;
    t.comment(`apply ${g.applyMs.toFixed(0)} ms, LACP converged ${g.lacpMs.toFixed(0)} ms later, teardown ${g.teardownMs.toFixed(0)} ms`);
    if (process.env.RACKSTRAP_CAPTURE_FIXTURES === '1') captureFixtures(g);
    if (process.env.RACKSTRAP_UML_TIMINGS === '1') for (const [c, ms] of g.timings) t.comment(`${ms.toFixed(0).padStart(6)} ms  ${c}`);

    const after = parseObservation(g.after);
    const link = (n: string) => after.links.find((l) => l.ifname === n);

    // The bond, negotiated with the fake switch.
    const bond0 = link('bond0');
    t.match(bond0, { kind: 'bond', owned: true, up: true, mtu: 9000, bond: { mode: '802.3ad', lacpRate: 'fast', hashPolicy: 'layer3+4', miimon: 100 } });
    for (const m of ['eth0', 'eth1']) {
      t.equal(link(m)?.master, 'bond0', `${m} is in bond0`);
      t.ok(link(m)?.slave?.adPortState?.includes('distributing'), `${m} is distributing (LACP)`);
    }
    t.match(link('fail0'), { kind: 'bond', bond: { mode: 'active-backup', miimon: 100, primary: 'eth2' } });
    t.equal(link('eth2')?.master, 'fail0');
    t.equal(link('eth3')?.master, 'fail0');

    // VLANs on the bond and on the failover group; aliases with their stable MACs.
    for (const [name, parent, id] of [['bond0.10', 'bond0', 10], ['bond0.20', 'bond0', 20], ['fail0.30', 'fail0', 30], ['fail0.40', 'fail0', 40]] as const) {
      t.match(link(name), { kind: 'vlan', parent, vlanId: id, owned: true, up: true }, name);
    }
    t.equal(link('bond0.10')?.mtu, 9000, 'VLANs inherit the bond MTU');
    for (const [name, parent] of [['data0', 'bond0.10'], ['data1', 'bond0.20'], ['mgmt0', 'fail0'], ['mgmt1', 'fail0.30'], ['san0', 'fail0.40']] as const) {
      t.match(link(name), { kind: 'macvlan', parent, macvlanMode: 'bridge', owned: true, up: true, mac: aliasMac('Filer1', name, '00:07:34:04:12:0E') }, name);
    }

    // Addresses, the per-server table with realms, the rules.
    const addrs = after.addresses.filter((a) => a.owned).map((a) => `${a.local}/${a.prefixlen} ${a.dev}${a.noprefixroute ? ' noprefixroute' : ''}`);
    t.same(new Set(addrs), new Set([
      '10.1.1.2/24 mgmt0', '10.1.1.3/24 mgmt1', '10.2.2.2/24 san0',
      '10.2.2.1/24 data0 noprefixroute', '10.3.3.1/16 data0 noprefixroute', '10.2.2.3/24 data1 noprefixroute',
    ]));
    const table1 = after.routes.filter((r) => r.table === 1).map((r) => `${r.dst} ${r.gateway ?? '-'} ${r.dev} ${r.prefsrc ?? '-'} realm ${r.realm} proto ${r.protocol}`);
    t.same(new Set(table1), new Set([
      '10.2.2.0/24 - data0 10.2.2.1 realm 1 proto 114', '10.3.0.0/16 - data0 10.3.3.1 realm 1 proto 114',
      '10.2.2.0/24 - data1 10.2.2.3 realm 1 proto 114', 'default 10.2.2.254 data0 - realm 1 proto 114',
    ]));
    t.ok(after.routes.some((r) => r.table === 254 && r.dst === 'default' && r.gateway === '10.1.1.254' && r.dev === 'mgmt0' && r.owned), 'main default via the mgmt router');
    const rules = after.rules.filter((r) => r.owned).map((r) => `${r.priority} ${r.src} ${r.table} ${r.realmFrom}/${r.realmTo}`);
    t.same(new Set(rules), new Set(['31000 10.2.2.1 1 1/1', '31000 10.3.3.1 1 1/1', '31000 10.2.2.3 1 1/1']));

    // Traffic crosses the LACP bond on VLAN 10 (answered from table 1) and the failover group.
    t.same(g.ping, { '10.2.2.1': true, '10.1.1.2': true }, 'the switch reaches data0 over bond0.10 and mgmt0 over fail0');

    // Same plan as the golden one, accounting skipped with a warning (no nf_tables in this kernel).
    const commands = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('iptables '));
    t.same(commands(g.planText), commands(readFileSync('test/fixtures/plans/filer1.txt', 'utf8')), 'the guest ran the golden Filer1 plan (less accounting)');
    t.match(g.skipped, [/^accounting: warning: iptables does not work here/]);

    t.equal(g.rollback, `step ${(g.planText.match(/^[^#].*$/gm) ?? []).length} failed, rolledBack=true `, 'a failure after the last step undid them all');
    t.same(comparable(parseObservation(g.rolledBack)), comparable(parseObservation(g.before)), 'after the rollback the kernel is as before (bonds released, MTUs and MACs back)');
    t.same(g.replanSteps, [], 're-plan on the built state is empty');
    t.same(comparable(parseObservation(g.final)), comparable(parseObservation(g.before)), 'teardown leaves the kernel as it was');
  });
}

/** What must be identical before and after teardown (volatile fields such as operstate left out). */
function comparable(s: ObservedState) {
  return {
    links: s.links
      .map((l) => ({ ifname: l.ifname, kind: l.kind, master: l.master, up: l.up, mtu: l.mtu, mac: l.mac, ifalias: l.ifalias, parent: l.parent }))
      .sort((a, b) => a.ifname.localeCompare(b.ifname)),
    addresses: s.addresses,
    routes: s.routes,
    rules: s.rules,
    iptables: s.iptables,
  };
}

function captureFixtures(g: GuestResult) {
  const dir = 'test/fixtures/ip-json/uml-filer1';
  mkdirSync(dir, { recursive: true });
  for (const [name, raw] of [['before', g.before], ['after', g.after]] as const) {
    writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(raw, null, 1)}\n`);
  }
}
