// The guest half of the operator proof (test/lab-corpus/operator.test.ts): runs as root inside a
// user-mode Linux guest (src/lab/host.ts runGuestProgram), where bonds and VLANs are real. One
// filer of the example cluster, the embedded DHCP server, and the agent daemon (`rackstrap agent`,
// its control socket) under policy `repair`, then `report`:
//
//   - rackstrap's objects deleted or changed under it (a bond, a VLAN, a member pulled out, a
//     route): after each, the kernel is polled until it matches the description again (the
//     comparison is src/lab/check.ts, from the cluster model); an admin's own link, address, route
//     and rule sit beside them the whole time;
//   - a bond member losing carrier: reported (drift health), not repaired;
//   - the fake switch miswired on purpose (a port out of the LACP group, a port in a second LACP
//     group, a port at another speed than its siblings, a VLAN not allowed on the filer's port
//     channel): each finding read from the daemon's `links` reply and its log, and gone again
//     once the switch is fixed;
//   - under `report`: the same kinds of deletions stay as they are and show in `show drift --json`.
//
// The guest only drives and records: every kernel state it reaches is written raw (`ip -j -d`) to
// --out as snap-<step>.json, with each control reply, and the host test judges them.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { controlRequest } from '../../../src/control/client.js';
import type { CommandName, ReplyOf } from '../../../src/control/protocol.js';
import { agentConfig, agentEvents, waitAgentUp, type AgentSetup } from '../../../src/lab/agents.js';
import { buildLab, destroyLab } from '../../../src/lab/build.js';
import { checkKernel, expectedKernel } from '../../../src/lab/check.js';
import { RACKSTRAP_BIN, spawnRackstrap, type Child } from '../../../src/lab/child.js';
import { expectedFiler } from '../../../src/lab/expect.js';
import { planLab } from '../../../src/lab/lab-plan.js';
import { snapshot, waitLacp } from '../../../src/lab/observe-filer.js';
import { startServer, type ServerReady } from '../../../src/lab/server.js';
import { CONFIG_ENV } from '../../../src/bootstrap/agent-config.js';
import { makeRunner } from '../../../src/net/runner.js';
import { loadClusterFile } from '../../../src/options/load.js';

const run = promisify(execFile);

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    cluster: { type: 'string' },
    filer: { type: 'string', default: 'Filer1' },
    work: { type: 'string', default: '/run/rackstrap-operator' },
  },
});
const out = values.out!;
const work = values.work!;
mkdirSync(work, { recursive: true });

export interface OperatorStep {
  name: string;
  /** ms from the action to what the step waited for; undefined when it never came. */
  ms: number | undefined;
  /** snap-<name>.json in out, when the step took one. */
  snapshot?: string;
  /** Control replies (and CLI output) the step collected, by name. */
  replies: Record<string, unknown>;
  notes: string[];
}

const steps: OperatorStep[] = [];
const problems: string[] = [];
const loaded = await loadClusterFile(values.cluster!);
const lab = planLab(loaded, { prefix: 'qo', filers: [values.filer!] });
const filer = lab.filers[0]!;
const root = makeRunner();
const fr = makeRunner({ netns: filer.netns });
const expected = expectedKernel(loaded, filer.name);
const socket = join(work, 'agent.sock');
const setup: AgentSetup = { filer, clusterId: loaded.description.cluster.id, vendorClass: loaded.description.cluster.vendorClass, cacheDir: join(work, 'cache'), topologyTimeoutMs: 3000 };

const sh = async (netns: string | undefined, ...argv: string[]) => {
  const r = await (netns === undefined ? root : makeRunner({ netns })).run(argv);
  if (r.exitCode !== 0) throw new Error(`${netns ?? ''} ${argv.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
};
const filerIp = (...a: string[]) => sh(filer.netns, 'ip', ...a);
const switchIp = (...a: string[]) => sh(lab.switchNetns, 'ip', ...a);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ask = <C extends CommandName>(c: C): Promise<ReplyOf<C>> => controlRequest(socket, c, { timeoutMs: 20_000 });

/** Polls `probe` until it returns true; ms it took, or undefined after `timeoutMs`. */
async function until(probe: () => Promise<boolean>, timeoutMs: number, everyMs = 400): Promise<number | undefined> {
  const t0 = performance.now();
  for (;;) {
    try {
      if (await probe()) return performance.now() - t0;
    } catch {
      // not yet (the agent is between replies, a device is being made)
    }
    if (performance.now() - t0 > timeoutMs) return undefined;
    await sleep(everyMs);
  }
}

/** The kernel matches the description in every field (LACP included). */
async function matches(): Promise<boolean> {
  return checkKernel(expected, (await snapshot(fr)).state).every((c) => c.ok);
}

/**
 * ms until the kernel matches the description, or undefined. The guest has one CPU, shared with
 * the daemon: a full read (five commands) only once LACP, read with one command, has converged.
 */
async function restored(timeoutMs: number): Promise<number | undefined> {
  const t0 = performance.now();
  for (;;) {
    await waitLacp(fr, Math.max(0, t0 + timeoutMs - performance.now()));
    if (await matches()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) return undefined;
    await sleep(1000);
  }
}

/** Count of the daemon's log lines of `event` (reading them costs the guest nothing). */
const logged = (event: string, match: (e: Record<string, unknown>) => boolean = () => true) => agentEvents(agent!).filter((e) => e.event === event && match(e)).length;

async function step(name: string, body: (s: OperatorStep) => Promise<void>): Promise<void> {
  const s: OperatorStep = { name, ms: undefined, replies: {}, notes: [] };
  steps.push(s);
  process.stdout.write(`operator: ${name}\n`);
  try {
    await body(s);
  } catch (err) {
    problems.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const snap = await snapshot(fr).catch(() => undefined);
  if (snap !== undefined) {
    s.snapshot = `snap-${name}.json`;
    writeFileSync(join(out, s.snapshot), JSON.stringify(snap.raw));
  }
  process.stdout.write(`operator: ${name}: ${s.ms === undefined ? 'never' : `${Math.round(s.ms)} ms`}\n`);
  // Written after every step: a guest that runs out of time still shows how far it got.
  writeFileSync(join(out, 'operator.json'), JSON.stringify({ filer: filer.name, problems, steps }, null, 1));
}

function startAgent(policy: 'repair' | 'report'): Child {
  mkdirSync(setup.cacheDir, { recursive: true, mode: 0o700 });
  const file = join(setup.cacheDir, 'agent.yaml');
  // The settings of the lab's agents, with the policy and the socket this proof asks on.
  writeFileSync(file, `${JSON.stringify({ ...agentConfig(setup), reconcile: policy, controlSocket: socket, logLevel: 'debug' }, null, 1)}\n`);
  return spawnRackstrap(`agent ${filer.name} (${policy})`, filer.netns, ['agent'], { [CONFIG_ENV]: file });
}

/** Moves the switch end of a filer NIC into `master` (a bond or the bridge): down first, a bond needs it. */
async function switchPortTo(port: string, master: string): Promise<void> {
  await switchIp('link', 'set', port, 'nomaster');
  await switchIp('link', 'set', port, 'down');
  await switchIp('link', 'set', port, 'master', master);
  await switchIp('link', 'set', port, 'up');
}

// Each `links` request makes the daemon read the kernel: ask every other second, or at once when
// its log has just reported the mistake.
const problemsNow = async (kind: string, ifname: string) => (await ask('links')).switchProblems.some((p) => p.kind === kind && p.ifname === ifname);
async function untilProblem(kind: string, ifname: string, present: boolean, timeoutMs: number): Promise<number | undefined> {
  const t0 = performance.now();
  let lastAsk = 0;
  const seen = logged('switch', (e) => e.kind === kind && e.ifname === ifname);
  return until(async () => {
    const fresh = logged('switch', (e) => e.kind === kind && e.ifname === ifname) > seen;
    if (!fresh && performance.now() - lastAsk < 2000 && lastAsk !== 0) return false;
    lastAsk = performance.now();
    return (await problemsNow(kind, ifname)) === present;
  }, timeoutMs - (performance.now() - t0), 200);
}

let server: ServerReady | undefined;
let agent: Child | undefined;
let built = false;
try {
  await buildLab(lab, root);
  built = true;
  server = await startServer(lab, values.cluster!, join(work, 'leases.log'));
  const bond = lab.switchBonds.find((b) => b.mode === '802.3ad');
  if (bond === undefined) throw new Error(`${filer.name} has no 802.3ad bond in ${values.cluster}`);
  // The filer NIC whose switch port is moved around, and its filer-side name.
  const port = bond.members.at(-1)!;
  const member = filer.nics.find((n) => n.switchPort === port)!.name;
  const filerBond = bond.bond;
  const vlans = expected.links.filter((l) => l.kind === 'vlan' && l.fields.parent === filerBond).map((l) => l.ifname);
  const silentVlan = vlans.at(-1)!;
  const silentId = Number(silentVlan.split('.').at(-1));

  await step('up', async (s) => {
    agent = startAgent('repair');
    const w = await waitAgentUp(agent, fr, expectedFiler(loaded, filer.name), { since: agent.startedAt, timeoutMs: 120_000 });
    if (w.at === undefined) throw new Error(`the agent is not up: missing ${w.missing.join(', ')}`);
    s.ms = (await restored(60_000)) === undefined ? undefined : w.at - agent.startedAt;
    s.notes.push(`LACP distributing ${Math.round((await waitLacp(fr, 1000)) ?? -1)} ms after the check`);
  });

  // The admin's own objects: a link with an address, a route in the main table, a rule.
  await step('admin-objects', async (s) => {
    await filerIp('link', 'add', 'adm0', 'type', 'veth', 'peer', 'name', 'adm1');
    await filerIp('link', 'set', 'adm0', 'up');
    await filerIp('link', 'set', 'adm1', 'up');
    await filerIp('addr', 'add', '192.0.2.10/24', 'dev', 'adm0');
    await filerIp('route', 'add', '198.51.100.0/24', 'via', '192.0.2.1', 'proto', 'static');
    await filerIp('rule', 'add', 'from', '192.0.2.10', 'lookup', '100', 'priority', '30500');
    s.ms = 0;
  });

  const repairStep = async (name: string, action: () => Promise<unknown>) =>
    step(name, async (s) => {
      const before = (await ask('drift')).repairs;
      const repairLines = logged('repair');
      const t0 = performance.now();
      await action();
      // The daemon's own log says when it repaired; then the kernel is read until it matches (LACP
      // needs a few seconds after a member is enslaved again).
      const said = await until(async () => logged('repair') > repairLines, 60_000, 50);
      if (said !== undefined) s.notes.push(`the daemon logged its repair ${Math.round(said)} ms after the change`);
      const ms = await restored(60_000);
      s.ms = ms === undefined ? undefined : performance.now() - t0;
      const drift = await ask('drift');
      s.replies.drift = drift;
      s.notes.push(`${drift.repairs - before} repair(s) recorded`);
    });

  await repairStep('repair-bond-deleted', () => filerIp('link', 'del', filerBond));
  await repairStep('repair-vlan-deleted', () => filerIp('link', 'del', silentVlan));
  await repairStep('repair-member-pulled-out', () => filerIp('link', 'set', member, 'nomaster'));
  await repairStep('repair-route-deleted', () => filerIp('route', 'del', 'default', 'table', String(loaded.description.vservers[Object.keys(loaded.description.vservers)[0]!]!.table)));

  await step('carrier-lost', async (s) => {
    const before = await ask('drift');
    const t0 = performance.now();
    await switchIp('link', 'set', port, 'down');
    const ms = await until(async () => (await ask('drift')).health.some((h) => h.ifname === member && h.problem === 'no-carrier'), 30_000, 100);
    s.ms = ms === undefined ? undefined : performance.now() - t0;
    // A few more comparisons: nothing is "repaired" for a missing carrier.
    await sleep(2000);
    const after = await ask('drift');
    s.replies.drift = after;
    s.replies.links = await ask('links');
    s.notes.push(`repairs before ${before.repairs}, after ${after.repairs}; checks before ${before.checks}, after ${after.checks}`);
    s.replies.repairsBefore = before.repairs;
  });
  await step('carrier-back', async (s) => {
    const t0 = performance.now();
    await switchIp('link', 'set', port, 'up');
    const ms = await until(async () => (await ask('drift')).health.length === 0, 30_000, 100);
    s.ms = ms === undefined ? undefined : performance.now() - t0;
    if ((await restored(30_000)) === undefined) s.ms = undefined;
  });

  const mistake = (name: string, kind: string, ifname: string, miswire: () => Promise<void>, fix: () => Promise<void>) =>
    step(name, async (s) => {
      const t0 = performance.now();
      await miswire();
      const ms = await untilProblem(kind, ifname, true, 60_000);
      s.ms = ms === undefined ? undefined : performance.now() - t0;
      s.replies.links = await ask('links');
      if (kind === 'lacp-split') {
        // `show links`, the command an operator runs, once while the mistake is there.
        const cli = await run(process.execPath, [RACKSTRAP_BIN, 'show', 'links', '--control-socket', socket], { env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 }).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '' }));
        s.replies.showLinks = cli.stdout;
      }
      await fix();
      const gone = await untilProblem(kind, ifname, false, 60_000);
      if ((await restored(60_000)) === undefined) s.notes.push('the filer did not match the description again after the fix');
      s.notes.push(gone === undefined ? 'the finding did not go away after the fix' : `gone ${Math.round(gone)} ms after the switch was fixed`);
      s.replies.afterFix = await ask('links');
    });

  await mistake('switch-port-not-in-lacp-group', 'lacp-no-partner', member, () => switchPortTo(port, 'br0'), () => switchPortTo(port, bond.name));
  await mistake(
    'switch-ports-in-two-lacp-groups',
    'lacp-split',
    filerBond,
    async () => {
      await switchIp('link', 'add', 'qox9', 'type', 'bond', 'mode', '802.3ad', 'lacp_rate', 'fast', 'miimon', '100');
      await switchPortTo(port, 'qox9');
      await switchIp('link', 'set', 'qox9', 'master', 'br0');
      await switchIp('link', 'set', 'qox9', 'up');
    },
    async () => {
      await switchPortTo(port, bond.name);
      await switchIp('link', 'del', 'qox9');
    },
  );

  // A member whose link runs at another speed than its siblings. veth devices all say 10000 Mb/s
  // and cannot be told otherwise; a macvlan says what its lower device says, and a balance-rr bond
  // of two veths says 20000 Mb/s. So the member's cable is swapped for two macvlans on one such
  // bond, one end in the switch's LACP bond, the other in the filer under the NIC's name and MAC:
  // a real link at 20000 Mb/s on both ends, whose frames (LACP included) cross in the kernel. The
  // bonding driver keys each port by its speed, on the filer and on the switch, so the member gets
  // an aggregator of its own and is held out of distributing. The switch "fixed": the original
  // cable back.
  const spare = 'rospare0';
  await mistake(
    'switch-port-at-other-speed',
    'speed-mismatch',
    filerBond,
    async () => {
      const lines = [
        'link add rohb type bond mode balance-rr miimon 100',
        ...[0, 1].flatMap((i) => [`link add rohs${i} mtu 9000 type veth peer name rohp${i} mtu 9000`, `link set rohs${i} master rohb`, `link set rohp${i} up`]),
        'link set rohb mtu 9000 up',
        'link add link rohb name rosw0 type macvlan mode bridge',
        'link add link rohb name rofl0 type macvlan mode bridge',
        `link set rofl0 netns ${filer.netns}`,
        `link set rosw0 master ${bond.name}`,
        'link set rosw0 up',
      ];
      const r = await makeRunner({ netns: lab.switchNetns }).run(['ip', '-batch', '-'], { input: `${lines.join('\n')}\n` });
      if (r.exitCode !== 0) throw new Error(`ip -batch (switch): ${r.stderr.trim()}`);
      const mac = filer.nics.find((n) => n.name === member)!.mac;
      await filerIp('link', 'set', member, 'nomaster');
      await filerIp('link', 'set', member, 'down');
      await filerIp('link', 'set', member, 'name', spare);
      await filerIp('link', 'set', 'rofl0', 'name', member, 'address', mac);
      // A link that is down has no speed to tell: the switch end, up, speaks for the cable.
      const speed = (await sh(lab.switchNetns, 'cat', '/sys/class/net/rosw0/speed')).trim();
      if (speed !== '20000') throw new Error(`the new cable says ${speed} Mb/s, not 20000`);
      // Both findings, once the member is enslaved again and LACP has been heard on it.
      const both = await until(async () => {
        const l = await ask('links');
        return l.switchProblems.some((p) => p.kind === 'speed-mismatch' && p.ifname === filerBond) && l.switchProblems.some((p) => p.kind === 'not-distributing' && p.ifname === member);
      }, 60_000, 1000);
      if (both === undefined) throw new Error(`no speed-mismatch on ${filerBond} with not-distributing on ${member}`);
    },
    async () => {
      await filerIp('link', 'del', member);
      await filerIp('link', 'set', spare, 'name', member);
      await switchIp('link', 'del', 'rosw0');
      await switchIp('link', 'del', 'rohb');
      for (const i of [0, 1]) await switchIp('link', 'del', `rohs${i}`);
    },
  );

  // A VLAN the switch does not carry on the filer's port channel. The VLAN is made again by the
  // repair (fresh counters) while the switch drops its tag; traffic sent to both VLANs from the
  // server side then reaches only the sibling.
  const serverVlan = lab.serverInterfaces.find((i) => i.vlanPath.length === 1 && i.vlanPath[0] === silentId)!;
  const siblingId = Number(vlans[0]!.split('.').at(-1));
  const serverSibling = lab.serverInterfaces.find((i) => i.vlanPath.length === 1 && i.vlanPath[0] === siblingId)!;
  const addressOn = (vlan: string) => {
    const aliases = expected.links.filter((l) => l.kind === 'alias' && l.fields.parent === vlan).map((l) => l.ifname);
    return expected.addresses.find((a) => aliases.includes(a.dev))!.address.split('/')[0]!;
  };
  const poke = async () => {
    for (const [dev, to] of [[serverVlan.ifname, addressOn(silentVlan)], [serverSibling.ifname, addressOn(vlans[0]!)]] as const) {
      await makeRunner({ netns: lab.serverNetns }).run(['ping', '-c', '1', '-W', '1', '-I', dev, to]);
    }
  };
  await mistake(
    'switch-vlan-not-allowed',
    'vlan-silent',
    silentVlan,
    async () => {
      const ports = (JSON.parse(await sh(lab.switchNetns, 'bridge', '-j', 'link', 'show')) as Array<{ ifname: string; master?: string }>).filter((p) => p.master === 'br0').map((p) => p.ifname);
      const ids = [...new Set(lab.serverInterfaces.flatMap((i) => (i.vlanPath.length > 0 ? [i.vlanPath[0]!] : [])))];
      const lines = ports.flatMap((p) => ids.filter((id) => !(p === bond.name && id === silentId)).map((id) => `vlan add vid ${id} dev ${p}`));
      const r = await makeRunner({ netns: lab.switchNetns }).run(['bridge', '-batch', '-'], { input: `${lines.join('\n')}\n` });
      if (r.exitCode !== 0) throw new Error(`bridge -batch: ${r.stderr.trim()}`);
      await switchIp('link', 'set', 'br0', 'type', 'bridge', 'vlan_filtering', '1');
      await filerIp('link', 'del', silentVlan);
      await restored(60_000);
      await poke();
      // Keep the sibling busy while the agent looks again.
      await until(async () => {
        await poke();
        return problemsNow('vlan-silent', silentVlan);
      }, 60_000, 1000);
    },
    async () => {
      await sh(lab.switchNetns, 'bridge', 'vlan', 'add', 'vid', String(silentId), 'dev', bond.name);
      await poke();
    },
  );

  await step('switch-log', async (s) => {
    const events = agentEvents(agent!).filter((e) => e.event === 'switch');
    s.replies.switchLog = events.map((e) => ({ kind: e.kind, ifname: e.ifname, msg: e.msg }));
    s.ms = 0;
  });

  // `report`: the daemon restarted under the other policy; the same kinds of deletions stay.
  await step('report', async (s) => {
    await agent!.stop(10_000);
    writeFileSync(join(out, 'agent-repair.log'), `${agent!.stderr.join('\n')}\n`);
    agent = startAgent('report');
    const w = await waitAgentUp(agent, fr, expectedFiler(loaded, filer.name), { since: agent.startedAt, timeoutMs: 120_000 });
    if (w.at === undefined) throw new Error(`the report agent is not up: missing ${w.missing.join(', ')}`);
    await until(async () => (await ask('info')).reconcile === 'report', 30_000);
    const t0 = performance.now();
    await filerIp('link', 'del', silentVlan);
    await filerIp('link', 'set', member, 'nomaster');
    const ms = await until(async () => {
      const d = await ask('drift');
      return d.items.some((i) => i.target.includes(silentVlan)) && d.items.some((i) => i.target.includes(member));
    }, 30_000, 100);
    s.ms = ms === undefined ? undefined : performance.now() - t0;
    // Comparisons keep coming (kernel events, the resync): still nothing changed.
    await sleep(3000);
    const cli = await run(process.execPath, [RACKSTRAP_BIN, 'show', 'drift', '--json', '--control-socket', socket], { env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
    s.replies.showDriftJson = cli.stdout;
  });
} catch (err) {
  problems.push(err instanceof Error ? err.message : String(err));
} finally {
  if (agent !== undefined) {
    await agent.stop(10_000);
    writeFileSync(join(out, 'agent-last.log'), `${agent.stderr.join('\n')}\n`);
  }
  if (server !== undefined) await server.child.stop();
  if (built) problems.push(...(await destroyLab(lab, root)));
  writeFileSync(join(out, 'operator.json'), JSON.stringify({ filer: filer.name, problems, steps }, null, 1));
}
process.exit(0);
