// Rogue DHCP servers racing the real one, in network namespaces: a filer holding the cluster key,
// at first boot (no cache, no --filer), applies only what the signed topology vouches for and
// reports every other answer. The rogues are real `rackstrap serve` processes serving the same
// cluster with other addresses and routers — one without a key, one with another key — and a
// replayer sending answers recorded from the real server: Filer1's own (another exchange) and
// Filer2's genuine signed topology. The real server is held (SIGSTOP) while the rogues are alone,
// so each refusal is seen for sure, then let go. Expected state comes from the description.
//
//   sw: br0 ── srv (real, keyed) ── rogue1 (no key) ── rogue2 (other key) ── replay ── filer1
import t from 'tap';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResultPromise } from 'execa';
import { requestTopology } from '../../src/dhcp-client/index.js';
import { MESSAGE_TYPE, OP, OPTION, createMessage, decodeMessage, encodeMessage } from '../../src/dhcp-packet/index.js';
import { openInterfaceSocket } from '../../src/net/interface-socket.js';
import { topologyKey } from '../../src/options/identifiers.js';
import { actual, agentArgs, BIN, expected, flatLab, FLAT, startServer, stopProcess, waitFor, writeEmptyConfig, type FlatLab } from './helpers/flat-lab.js';

const KEY = Buffer.from('rogue-test-cluster-key-0123456789abcdef');
const OTHER_KEY = Buffer.from('a-rogue-s-own-key-that-is-not-ours-000');

/** The flat cluster with a key file, and a rogue's version: other addresses and routers for Filer1's identifiers. */
function descriptions(dir: string): { real: string; rogue1: string; rogue2: string } {
  const text = readFileSync(FLAT, 'utf8');
  writeFileSync(join(dir, 'key.bin'), KEY, { mode: 0o600 });
  writeFileSync(join(dir, 'other.bin'), OTHER_KEY, { mode: 0o600 });
  const withKey = (t: string, key: string) => t.replace('  generation: 1\n', `  generation: 1\n  keyFile: ${key}\n`);
  const rogue = text
    .replace('routers: [10.1.1.254]', 'routers: [10.1.1.66]')
    .replace('routers: [10.2.2.254]', 'routers: [10.2.2.66]')
    .replace('mgmt0: 10.1.1.2\n', 'mgmt0: 10.1.1.99\n')
    .replace('san0: 10.2.2.2\n', 'san0: 10.2.2.99\n')
    .replace('data0: { 0: 10.2.2.1, 1: 10.3.3.1 }', 'data0: { 0: 10.2.2.98, 1: 10.3.3.98 }')
    .replace('data1: { 0: 10.2.2.3 }', 'data1: { 0: 10.2.2.97 }')
    .replace('gateway: 10.2.2.254', 'gateway: 10.2.2.66')
    .replace('addresses: { mgmt0: 10.1.1.10 }', 'addresses: { mgmt0: 10.1.1.96 }')
    .replace('addresses: { mgmt0: 10.1.1.12 }', 'addresses: { mgmt0: 10.1.1.95 }');
  const files = { real: join(dir, 'real.yaml'), rogue1: join(dir, 'rogue1.yaml'), rogue2: join(dir, 'rogue2.yaml') };
  writeFileSync(files.real, withKey(text, 'key.bin'));
  writeFileSync(files.rogue1, rogue);
  writeFileSync(files.rogue2, withKey(rogue, 'other.bin'));
  return files;
}

/** A server namespace on the switch with one address per subnet. */
async function serverNs(l: FlatLab, name: string, host: number, mac: string): Promise<string> {
  const ns = await l.lab.ns(name);
  await l.lab.link(ns, 'eth0', `${l.lab.prefix}sw`, 'br0', { mac });
  for (const a of [`10.1.1.${host}/24`, `10.2.2.${host}/24`, `10.3.255.${host}/16`]) await l.lab.ip(ns, 'addr', 'add', a, 'dev', 'eth0');
  return ns;
}

/** Answers Filer1's topology requests with recorded answers, each as an OFFER from its own server id. */
async function replayer(ns: string, answers: Array<{ serverId: string; option43: Buffer }>, topoId: string): Promise<() => Promise<void>> {
  const sock = await openInterfaceSocket({ ifname: 'eth0', port: 67, netns: ns });
  sock.on('message', (buf) => {
    let m;
    try {
      m = decodeMessage(buf);
    } catch {
      return;
    }
    if (m.op !== OP.BOOTREQUEST || m.options.get(OPTION.MESSAGE_TYPE) !== MESSAGE_TYPE.DISCOVER) return;
    if (m.options.get(OPTION.CLIENT_ID)?.toString('latin1') !== topoId) return;
    for (const a of answers) {
      const offer = createMessage({
        op: OP.BOOTREPLY,
        type: MESSAGE_TYPE.OFFER,
        xid: m.xid,
        htype: m.htype,
        chaddr: m.chaddr,
        yiaddr: '10.1.1.214',
        options: [[OPTION.SERVER_ID, a.serverId], [OPTION.SUBNET_MASK, '255.255.255.0'], [OPTION.LEASE_TIME, 300], [OPTION.VENDOR_CLASS, 'rackstrap'], [OPTION.VENDOR_SPECIFIC, a.option43]],
      });
      void sock.send(encodeMessage(offer, { maxSize: 1500 }), 68, '255.255.255.255').catch(() => undefined);
    }
  });
  return () => sock.close();
}

/** Resolves when `lines` holds a line matching every pattern (polling the agent's stderr). */
async function waitForLines(lines: string[], patterns: RegExp[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (patterns.every((p) => lines.some((l) => p.test(l)))) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

t.test('a keyed filer at first boot takes nothing from rogue servers and reports each', async (t) => {
  const dir = t.testdir();
  const l = await flatLab(t, ['Filer1'], 'qwa');
  const files = descriptions(dir);
  writeEmptyConfig(dir);
  const real = await startServer(l, files.real, join(dir, 'real.leases'));
  t.teardown(() => stopProcess(real.child));

  // Record two genuine answers on the wire: Filer1's (for an exchange of the recorder's) and Filer2's.
  const rec = await l.lab.ns('replay');
  await l.lab.link(rec, 'eth0', `${l.lab.prefix}sw`, 'br0', { mac: '02:00:00:00:0e:01' });
  await l.lab.ip(rec, 'link', 'set', 'eth0', 'up');
  const record = async (baseMac: string) => {
    const offers = await requestTopology({ interfaces: ['eth0'], netns: rec, vendorClass: 'rackstrap', identifier: topologyKey(l.clusterId, baseMac), timeoutMs: 5000, timing: { retransmitBaseMs: 200 } });
    if (offers[0] === undefined) throw new Error(`no answer recorded for ${baseMac}`);
    return offers[0].option43;
  };
  const filer1Recorded = await record('02:00:00:00:01:00');
  const filer2Recorded = await record('02:00:00:00:02:00');
  await l.lab.ip(rec, 'addr', 'add', '10.1.1.77/24', 'dev', 'eth0');
  const stopReplay = await replayer(rec, [{ serverId: '10.1.1.77', option43: filer1Recorded }, { serverId: '10.1.1.78', option43: filer2Recorded }], topologyKey(l.clusterId, '02:00:00:00:01:00'));
  t.teardown(stopReplay);

  const rogue1Ns = await serverNs(l, 'rogue1', 66, '02:00:00:00:0e:66');
  const rogue2Ns = await serverNs(l, 'rogue2', 67, '02:00:00:00:0e:67');
  const rogues: ResultPromise[] = [];
  for (const [ns, file] of [[rogue1Ns, files.rogue1], [rogue2Ns, files.rogue2]] as const) {
    const r = await startServer({ ...l, srv: ns }, file, join(dir, `${ns}.leases`));
    rogues.push(r.child);
    t.teardown(() => stopProcess(r.child));
  }

  // The real server held: only rogues answer the topology request.
  real.child.kill('SIGSTOP');
  t.teardown(() => void real.child.kill('SIGCONT'));
  const cacheDir = join(dir, 'cache');
  const agent = l.lab.spawn(l.ns.get('Filer1')!, process.execPath, [
    BIN, 'agent', ...agentArgs(l, cacheDir, ['--key-file', join(dir, 'key.bin'), '--log-level', 'info', '--refresh-interval', '60000', '--retry-interval', '300']),
  ]);
  t.teardown(() => stopProcess(agent));
  const log: string[] = [];
  let partial = '';
  agent.stderr?.on('data', (c: Buffer) => {
    const parts = (partial + c.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    log.push(...parts);
  });

  const refusedTopology = [
    /"event":"rogue-server".*"server":"10\.1\.1\.66".*"code":"RS_WIRE_UNSIGNED"/,
    /"event":"rogue-server".*"server":"10\.1\.1\.67".*"code":"RS_WIRE_KEY_MISMATCH"/,
    /"event":"rogue-server".*"server":"10\.1\.1\.77".*"code":"RS_WIRE_WRONG_REQUEST"/,
    /"event":"rogue-server".*"server":"10\.1\.1\.78".*"code":"RS_WIRE_WRONG_REQUEST"/,
  ];
  t.ok(await waitForLines(log, refusedTopology, 20_000), 'refused: unsigned, another key, a replayed answer, and another filer\'s genuine topology', { log: log.slice(-20) });
  t.same((await actual(l.lab, l.ns.get('Filer1')!)).addresses, [], 'nothing was built from them');

  // Let the real server answer the topology, and hold it again before the addresses are asked.
  real.child.kill('SIGCONT');
  t.ok(await waitForLines(log, [/"event":"topology".*"msg":"generation \d+ from 10\.1\.1\.250"/], 20_000), 'the genuine topology taken', { log: log.slice(-20) });
  real.child.kill('SIGSTOP');
  const refusedAddresses = [
    /"event":"rogue-server".*"server":"10\.1\.1\.66".*"address":"10\.1\.1\.99"/,
    // A rogue answers from its address on the reservation's subnet.
    /"event":"rogue-server".*"server":"10\.2\.2\.67".*"address":"10\.2\.2\.9[789]"/,
  ];
  t.ok(await waitForLines(log, refusedAddresses, 20_000), "the rogues' addresses refused", { log: log.slice(-20) });
  const during = await actual(l.lab, l.ns.get('Filer1')!);
  const rogueBits = /10\.1\.1\.9\d|10\.2\.2\.9\d|10\.3\.3\.98|\.66\b|\.67\b/;
  t.notOk(during.addresses.some((a) => rogueBits.test(a)) || during.routes.some((r) => rogueBits.test(r)), 'no rogue address or route while the rogues were alone', { during });

  real.child.kill('SIGCONT');
  const want = expected(l.loaded, 'Filer1');
  const got = await waitFor(l.lab, l.ns.get('Filer1')!, want, 30_000);
  t.ok(got.ok, 'the kernel holds exactly the description\'s addresses, routes and rules', { want, got: got.state });
  t.notOk([...got.state.addresses, ...got.state.routes].some((x) => rogueBits.test(x)));

  // The status file is written just after the change that built the state.
  type Status = { topology: { filer: string } | null; rogueServers: Array<{ what: string; serverId?: string; code?: string; address?: string }> };
  let status: Status | undefined;
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    try {
      status = JSON.parse(readFileSync(join(cacheDir, 'status.json'), 'utf8')) as Status;
    } catch {
      continue; // not written yet
    }
    if (status.topology !== null) break;
  }
  t.equal(status?.topology?.filer, 'Filer1', 'came up as itself, not as Filer2');
  if (status === undefined) return;
  const reported = new Set(status.rogueServers.map((r) => `${r.what} ${r.serverId}`));
  for (const s of ['topology 10.1.1.66', 'topology 10.1.1.67', 'topology 10.1.1.77', 'topology 10.1.1.78', 'address 10.1.1.66', 'address 10.1.1.67']) t.ok(reported.has(s), `status reports ${s}`);
  t.notOk(status.rogueServers.some((r) => r.serverId === '10.1.1.250'), 'the real server is not reported');
  for (const r of rogues) await stopProcess(r);
});
