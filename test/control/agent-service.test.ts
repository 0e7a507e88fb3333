// The long-running agent against a real kernel (network namespaces, the flat cluster, the embedded
// DHCP server): what an admin deletes of rackstrap's is put back from the kernel's own events, what
// an admin adds of their own is left alone through 100 comparisons, a flood of events that
// overflows the watch's socket still ends in the right state, `report` changes nothing, `off` does
// not even look (while `reapply` and `renew` still act), and the per-server counters (totals and
// TCP/UDP/ICMP) move by exactly the packets of generated flows.
// Expected state comes from the cluster description (flat-lab.ts), never from the agent.
//
// One lab and one DHCP server for the whole file; each policy (and the tiny receive buffer) gets
// an agent of its own in turn, on the same filer namespace, as a restarted daemon would.
import { execaSync } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { makeAgentLog } from '../../src/bootstrap/agent-log.js';
import { Agent } from '../../src/bootstrap/bootstrap.js';
import { startAgentService, type AgentService } from '../../src/control/agent-service.js';
import { controlRequest } from '../../src/control/client.js';
import { TransportPool } from '../../src/dhcp-client/index.js';
import type { DriftPolicy } from '../../src/net/drift.js';
import { makeRunner } from '../../src/net/runner.js';
import { actual, expected, FLAT, filer1AgentSettings, flatLab, startServer, stopProcess, waitFor, type FlatLab } from '../bootstrap/helpers/flat-lab.js';

/** The description's three lists as the kernel holds them, leaving out the admin's own addresses. */
async function ours(l: FlatLab, ns: string): Promise<Awaited<ReturnType<typeof actual>>> {
  const a = await actual(l.lab, ns);
  return { ...a, addresses: a.addresses.filter((x) => !x.startsWith('adm0 ') && !x.includes('192.0.2.10/32')) };
}

async function settled(l: FlatLab, ns: string, want: Awaited<ReturnType<typeof actual>>, ms: number): Promise<Awaited<ReturnType<typeof actual>>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const state = await ours(l, ns);
    if (JSON.stringify(state) === JSON.stringify(want) || Date.now() > deadline) return state;
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Running {
  l: FlatLab;
  ns: string;
  agent: Agent;
  service: AgentService;
  socket: string;
  logs: string[];
}

interface Shared {
  l: FlatLab;
  ns: string;
}

/** The lab, the server: once for every test below. */
async function sharedLab(t: Test, prefix: string): Promise<Shared> {
  const l = await flatLab(t, ['Filer1'], prefix);
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startServer(l, FLAT, join(dir, 'leases.log'));
  t.teardown(() => stopProcess(server.child));
  return { l, ns: l.ns.get('Filer1')!, };
}

/** Filer1 up from DHCP with the operator side running, under `policy`; stopped at the end of `t`. */
async function startFiler1(t: Test, shared: Shared, policy: DriftPolicy, opts: { recvBufferSize?: number } = {}): Promise<Running> {
  const { l, ns } = shared;
  const dir = mkdtempSync(join(tmpdir(), 'qob-agent-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const settings = filer1AgentSettings(l, join(dir, 'cache'), { reconcile: policy });
  const logs: string[] = [];
  const log = makeAgentLog({ level: 'debug', write: (s) => logs.push(s) });
  const runner = makeRunner({ netns: ns });
  const agent = new Agent(settings, { runner, netns: ns, pool: new TransportPool(), daemon: true, log });
  const socket = join(dir, 'agent.sock');
  const service = await startAgentService({ agent, runner, log, netns: ns, socketPath: socket, stateDir: settings.cacheDir, agentVersion: 'test', onRelease: () => undefined, ...opts });
  t.teardown(async () => {
    await service.close();
    await agent.stop();
  });
  const up = await agent.bringUp();
  t.match(up, { source: 'dhcp', generation: 1 });
  agent.keepUp();
  return { l, ns, agent, service, socket, logs };
}

t.test('the agent service on one filer', async (t) => {
  const shared = await sharedLab(t, 'qob');

  await t.test('under repair', async (t) => {
    const r = await startFiler1(t, shared, 'repair');

    await t.test('what an admin deletes of rackstrap comes back; the admin own objects stay through 100 checks', async (t) => {
      const { l, ns } = r;
      const want = expected(l.loaded, 'Filer1');
      t.same((await waitFor(l.lab, ns, want, 5000)).state, want, 'up as the description says');

      // Each deletion below is noticed from the kernel's own events and repaired.
      const deletions: Array<[string, string[]]> = [
        ['an address', ['addr', 'del', '10.2.2.3/24', 'dev', 'data1']],
        ['a route', ['route', 'del', 'default', 'table', '1']],
        ['a rule', ['rule', 'del', 'from', '10.2.2.1', 'lookup', '1']],
        ['an alias link', ['link', 'del', 'data1']],
      ];
      for (const [what, argv] of deletions) {
        await l.lab.ip(ns, ...argv);
        const back = await waitFor(l.lab, ns, want, 10_000);
        t.same(back.state, want, `${what} deleted under the agent is repaired`);
      }
      const drift = await controlRequest(r.socket, 'drift');
      t.ok(drift.repairs >= deletions.length, `${drift.repairs} repairs recorded`);
      t.same(drift.items, [], 'nothing left to repair');

      // The admin's own address, route and rule, next to rackstrap's.
      await l.lab.ip(ns, 'addr', 'add', '192.0.2.10/32', 'dev', 'data0');
      await l.lab.ip(ns, 'route', 'add', '198.51.100.0/24', 'via', '10.2.2.254', 'table', '1', 'proto', 'static');
      await l.lab.ip(ns, 'rule', 'add', 'from', '192.0.2.10', 'lookup', '1', 'priority', '30500');
      const adminState = async () => ({
        addr: (await l.lab.ip(ns, '-4', 'addr', 'show', 'dev', 'data0')).includes('192.0.2.10/32'),
        route: (await l.lab.ip(ns, 'route', 'show', 'table', '1')).includes('198.51.100.0/24 via 10.2.2.254'),
        rule: (await l.lab.ip(ns, 'rule', 'show')).includes('30500:\tfrom 192.0.2.10 lookup 1'),
      });
      t.same(await adminState(), { addr: true, route: true, rule: true }, 'the admin objects are in place');
      for (let i = 0; i < 100; i++) await r.agent.checkDrift(`test cycle ${i}`);
      t.same(await adminState(), { addr: true, route: true, rule: true }, 'still there after 100 comparisons');
      t.same(await ours(l, ns), want, 'and rackstrap state unchanged');
      t.same(r.agent.drift.items, [], 'the admin objects are not drift');

      const info = await controlRequest(r.socket, 'info');
      t.ok(info.watch !== null && info.watch.events > 0, 'the kernel watch saw the events');
      t.ok(info.drift.checks >= 100, 'every check counted');
      // The admin takes their objects away again (the tests below compare the whole state).
      await l.lab.ip(ns, 'rule', 'del', 'from', '192.0.2.10', 'lookup', '1', 'priority', '30500');
      await l.lab.ip(ns, 'route', 'del', '198.51.100.0/24', 'table', '1');
      await l.lab.ip(ns, 'addr', 'del', '192.0.2.10/32', 'dev', 'data0');
    });

    await t.test('per-server counters move by exactly the packets of each flow, survive a rule re-created, and zero', async (t) => {
      const { l, ns } = r;
      // An echo on VsvrA's 10.2.2.3, a client in the server namespace sending N datagrams of P bytes.
      const N = 25;
      const P = 100;
      const echo = `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(m,r.port,r.address));s.bind(7000,'10.2.2.3',()=>console.log('ready'));`;
      const child = l.lab.spawn(ns, process.execPath, ['-e', echo]);
      await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
      const zero = await controlRequest(r.socket, 'zero-stats');
      t.ok(zero.epoch >= 2, 'a new epoch');
      const before = await controlRequest(r.socket, 'stats');
      const vsA = (s: typeof before) => s.servers.find((x) => x.server === 'VsvrA')!.addresses.find((a) => a.address === '10.2.2.3')!;
      const none = { packets: 0, bytes: 0 };
      const nothing = { in: none, out: none };
      t.same(vsA(before), { address: '10.2.2.3', in: none, out: none, protocols: { tcp: nothing, udp: nothing, icmp: nothing } }, 'zeroed');
      const client = `const s=require('dgram').createSocket('udp4');let n=0;s.on('message',()=>{if(++n===${N}){s.close();}});s.bind(0,()=>{for(let i=0;i<${N};i++)s.send(Buffer.alloc(${P}),7000,'10.2.2.3');});setTimeout(()=>process.exit(n===${N}?0:1),5000).unref();`;
      await l.lab.exec(l.srv, process.execPath, ['-e', client]);
      const after = await controlRequest(r.socket, 'stats');
      const bytes = N * (20 + 8 + P);
      const flow = { in: { packets: N, bytes }, out: { packets: N, bytes } };
      t.same(vsA(after), { address: '10.2.2.3', ...flow, protocols: { tcp: nothing, udp: flow, icmp: nothing } }, `exactly ${N} datagrams in and out, all of them UDP`);
      const vsTotal = after.servers.find((x) => x.server === 'VsvrA')!;
      t.same(vsTotal.in, { packets: N, bytes }, 'the server total adds up its addresses');
      t.same(vsTotal.protocols?.udp, flow, 'and so does its UDP');

      // ICMP: K echo requests of S bytes of payload, each answered; TCP: one connection that sends a
      // few bytes and closes (its packet count is the kernel's business: at least the handshake).
      const K = 4;
      const S = 56;
      await l.lab.exec(l.srv, 'ping', ['-c', String(K), '-i', '0.2', '-s', String(S), '-W', '2', '10.2.2.3']);
      const tcpServer = `require('net').createServer((c)=>{c.on('data',()=>{});c.on('end',()=>c.end());}).listen(7001,'10.2.2.3',()=>console.log('ready'));`;
      const tcpChild = l.lab.spawn(ns, process.execPath, ['-e', tcpServer]);
      t.teardown(() => tcpChild.kill());
      await new Promise<void>((resolve) => tcpChild.stdout?.once('data', () => resolve()));
      await l.lab.exec(l.srv, process.execPath, ['-e', `const c=require('net').connect(7001,'10.2.2.3',()=>c.end('hello'));c.on('close',()=>process.exit(0));c.resume();`]);
      const mixed = await controlRequest(r.socket, 'stats');
      const m = vsA(mixed);
      const echoBytes = K * (20 + 8 + S);
      t.same(m.protocols?.icmp, { in: { packets: K, bytes: echoBytes }, out: { packets: K, bytes: echoBytes } }, `exactly ${K} ICMP echo requests in and ${K} replies out`);
      t.same(m.protocols?.udp, flow, 'UDP unchanged');
      t.ok((m.protocols?.tcp.in.packets ?? 0) >= 3 && (m.protocols?.tcp.out.packets ?? 0) >= 2, `the TCP connection counted: ${m.protocols?.tcp.in.packets} in, ${m.protocols?.tcp.out.packets} out`);
      for (const dir of ['in', 'out'] as const) {
        const sum = (['tcp', 'udp', 'icmp'] as const).reduce((a, p) => ({ packets: a.packets + m.protocols![p][dir].packets, bytes: a.bytes + m.protocols![p][dir].bytes }), { packets: 0, bytes: 0 });
        t.same(m[dir], sum, `${dir}: the total is TCP + UDP + ICMP, nothing else went to that address`);
      }

      // The counting rule recreated (its kernel counter back to 0): the figures do not go back.
      await l.lab.exec(ns, 'iptables', ['-w', '-D', 'RACKSTRAP-IN', '-d', '10.2.2.3/32', '-m', 'comment', '--comment', 'vs.VsvrA']);
      await controlRequest(r.socket, 'stats');
      await r.agent.checkDrift('test');
      const kept = await controlRequest(r.socket, 'stats');
      t.same(vsA(kept).in, m.in, 'monotonic across the rule being re-created');
      t.equal(kept.epoch, zero.epoch, 'same epoch');
      t.ok(after.devices.some((d) => d.ifname === 'eth1' && d.rx.packets > 0), 'device counters from ip -s -j link');
    });
  });

  await t.test('an event storm that overflows the watch still ends repaired', async (t) => {
    const r = await startFiler1(t, shared, 'repair', { recvBufferSize: 1 });
    const { l, ns } = r;
    const want = expected(l.loaded, 'Filer1');
    t.same((await waitFor(l.lab, ns, want, 5000)).state, want);
    await l.lab.ip(ns, 'link', 'add', 'adm0', 'type', 'veth', 'peer', 'name', 'adm1');
    // Our event loop is blocked while ip runs the storm: the tiny buffer must overflow. The owned
    // address deleted in its middle is only known to be gone from the full re-read.
    const storm = Array.from({ length: 300 }, (_, i) => `addr add 10.250.${Math.floor(i / 250)}.${(i % 250) + 1}/32 dev adm0`);
    storm.splice(150, 0, 'addr del 10.2.2.3/24 dev data1');
    execaSync('ip', ['-n', ns, '-batch', '-'], { input: `${storm.join('\n')}\n` });
    t.same(await settled(l, ns, want, 10_000), want, 'repaired after the storm');
    t.ok(r.service.watch!.stats.overflows >= 1, `the overflow was seen (${r.service.watch!.stats.overflows})`);
    t.ok(r.logs.some((s) => s.includes('"event":"watch"') && s.includes('were lost')), 'and logged');
    const adm = await l.lab.ipJson<Array<{ addr_info: unknown[] }>>(ns, '-4', 'addr', 'show', 'dev', 'adm0');
    t.equal(adm[0]!.addr_info.length, 300, "the admin's 300 addresses are untouched");
    await r.l.lab.ip(r.ns, 'link', 'del', 'adm0');
  });

  await t.test('report: a difference is recorded and logged, and nothing is changed', async (t) => {
    const r = await startFiler1(t, shared, 'report');
    const { l, ns } = r;
    const want = expected(l.loaded, 'Filer1');
    t.same((await waitFor(l.lab, ns, want, 5000)).state, want);
    await l.lab.ip(ns, 'addr', 'del', '10.2.2.3/24', 'dev', 'data1');
    await l.lab.ip(ns, 'rule', 'del', 'from', '10.2.2.1', 'lookup', '1');
    for (let i = 0; i < 5; i++) await r.agent.checkDrift('test');
    const drift = await controlRequest(r.socket, 'drift');
    t.equal(drift.policy, 'report');
    t.equal(drift.repairs, 0, 'no repair in report mode');
    t.ok(drift.items.some((i) => i.kind === 'addr-add' && i.target.includes('10.2.2.3')), 'the missing address is reported');
    t.ok(drift.items.some((i) => i.kind === 'rule-add'), 'the missing rule is reported');
    const now = await actual(l.lab, ns);
    t.notOk(now.addresses.includes('data1 10.2.2.3/24'), 'the address stays deleted');
    t.equal(now.rules.length, want.rules.length - 1, 'the rule stays deleted');
    t.equal(r.logs.filter((s) => s.includes('"event":"drift"') && s.includes('addr-add 10.2.2.3')).length, 1, 'logged once, not every check');
  });

  await t.test('off: no watch and no comparison; reapply and renew over the socket still act', async (t) => {
    const r = await startFiler1(t, shared, 'off');
    const { l, ns } = r;
    const want = expected(l.loaded, 'Filer1');
    t.same((await waitFor(l.lab, ns, want, 5000)).state, want);
    t.equal(r.service.watch, undefined, 'the kernel is not watched');
    t.equal((await controlRequest(r.socket, 'info')).watch, null, '`info` says so');
    await l.lab.ip(ns, 'addr', 'del', '10.2.2.3/24', 'dev', 'data1');
    for (let i = 0; i < 3; i++) await r.agent.checkDrift('test');
    t.match(await controlRequest(r.socket, 'drift'), { policy: 'off', checks: 0, repairs: 0, items: [] }, 'nothing compared, nothing recorded');
    t.notOk((await actual(l.lab, ns)).addresses.includes('data1 10.2.2.3/24'), 'the address stays deleted');

    const re = await controlRequest(r.socket, 'reapply');
    t.ok(re.steps >= 1, `reapply ran ${re.steps} step(s)`);
    t.same(await settled(l, ns, want, 10_000), want, 'and the description is in place again');

    const latest = (leases: Array<{ expiresAt?: string | null }>) => Math.max(...leases.map((x) => (x.expiresAt ? Date.parse(x.expiresAt) : 0)));
    const before = latest((await controlRequest(r.socket, 'leases')).leases);
    t.same(await controlRequest(r.socket, 'renew'), { renewing: true });
    const deadline = Date.now() + 10_000;
    let after = before;
    while (after <= before && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
      after = latest((await controlRequest(r.socket, 'leases')).leases);
    }
    t.ok(after > before, `a lease renewed at once: it now expires ${after - before} ms later`);
  });
});
