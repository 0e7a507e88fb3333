// The server's tables built from the example description, the structured logger and its rate
// limiter, the overload control's arithmetic, and the serve command's usage errors (no sockets
// needed for any of them).

import t from 'tap';
import { buildServerConfig, subnetOf } from '../../src/dhcp-server/config.js';
import { toNumber } from '../../src/dhcp-server/address.js';
import { createLogger, RateLimitedCounter } from '../../src/dhcp-server/logger.js';
import { nextShedding, udpBacklogBytes } from '../../src/dhcp-server/backlog.js';
import { main, type Io } from '../../src/cli/main.js';
import { addressFactsByFiler, reservationsOf, topologyFor } from '../../src/options/resolve.js';
import { decodeTopology, encodeTopology, exchangeSigner, keyFingerprint, signForExchange, subOptionsToBytes } from '../../src/options/wire/index.js';
import { KEY, exampleCluster, exampleConfig, id } from './helpers/fixtures.js';

t.test('every identifier of the example is in the tables, with its subnet and options', async (t) => {
  const loaded = exampleCluster();
  const c = buildServerConfig(loaded);
  const expected = reservationsOf(loaded);
  t.equal(c.reservations.size + c.topologies.size, expected.length, 'one entry per identifier');
  const m0 = c.reservations.get(id('mgmt0:Filer1'))!;
  t.match(m0, { kind: 'filer', addressText: '10.1.1.2', hostname: 'Filer1' });
  t.match(m0.subnet, { prefix: '10.1.1.0/24', netmaskText: '255.255.255.0', broadcastText: '10.1.1.255', routers: ['10.1.1.254'], dns: ['10.1.1.53'], ntp: ['10.1.1.123'], domain: 'lab.example', leaseTime: 86400 });
  t.same(m0.subnet.bootstrap, { start: toNumber('10.1.1.200'), end: toNumber('10.1.1.215') });
  t.equal(m0.subnet.pool, undefined, 'no pool unless the description has one');
  t.match(c.reservations.get(id('data0:VsvrA:1')), { kind: 'vserver', addressText: '10.3.3.1', hostname: 'VsvrA' });
  t.match(c.reservations.get(id('mgmt1:MySQLAppNode3')), { kind: 'mysql', addressText: '10.1.1.21', hostname: 'MySQLAppNode3' });
  t.equal(c.reservations.get(id('data0:VsvrA:1'))!.subnet.prefix, '10.3.0.0/16');
  t.equal(c.reservedBy.get(toNumber('10.2.2.3')), id('data1:VsvrA:0'));
  t.equal(c.reservedBy.get(toNumber('10.3.255.254')), 'router of 10.3.0.0/16', 'routers are never handed out');
  t.equal(subnetOf(c, toNumber('10.3.200.7'))?.prefix, '10.3.0.0/16');
  t.equal(subnetOf(c, toNumber('192.168.1.1')), undefined);
  t.equal(c.vendorClass, 'rackstrap');
  t.equal(c.keyFingerprint, undefined);
  const topo = c.topologies.get(id('00:07:34:20:00:01'))!;
  t.equal(topo.filer, 'Filer2');
  t.ok(topo.option43.equals(subOptionsToBytes(encodeTopology(topologyFor(loaded, 'Filer2')))), 'option 43 is the wire encoder output');
});

t.test('with a key: topology signed, only the fingerprint kept', async (t) => {
  const c = exampleConfig({}, KEY);
  t.equal(c.keyFingerprint, keyFingerprint(KEY));
  const loaded = exampleCluster();
  const request = { clusterId: loaded.description.cluster.id, baseMac: '00:07:34:10:00:01' };
  const signed = encodeTopology(topologyFor(loaded, 'Filer1'), { key: KEY, addresses: addressFactsByFiler(loaded).get('Filer1')!, binding: request });
  const entry = c.topologies.get(id('00:07:34:10:00:01'))!;
  t.ok(entry.option43.equals(subOptionsToBytes(signed)), 'signed, with address tags, bound to the request');
  t.ok(entry.exchange && signForExchange(entry.exchange, 7).equals(exchangeSigner(signed, KEY, request)(7)), "and per exchange, bound to the xid");
  t.notOk(entry.exchange && Buffer.from(entry.exchange.bindingKey).includes(KEY), "the answering tables hold a derived binding key, not the cluster key");
  t.equal(decodeTopology(entry.option43, { key: KEY, binding: request }).addressTags.length, 12, "a tag for each of Filer1's 12 reserved identifiers");
  t.notOk(JSON.stringify({ ...c, reservations: [...c.reservations], topologies: [...c.topologies.keys()] }).includes(KEY.toString()), 'the key itself is nowhere in the tables');
  t.throws(() => exampleConfig({}, Buffer.from('short')), { code: 'RS_SERVE_CONFIG', message: /topology of filer Filer1 cannot be encoded.*at least 16/ });
});

t.test('IPv6 subnets and addresses are left out of a DHCPv4 server', async (t) => {
  const c = exampleConfig({ set: [[['scope', 'subnets', 3], { prefix: '2001:db8::/64' }], [['vservers', 'VsvrB', 'addresses', 'data0', '1'], '2001:db8::5']] });
  t.equal(c.subnets.length, 3);
  t.equal(c.reservations.get(id('data0:VsvrB:1')), undefined);
  t.ok(c.reservations.get(id('data0:VsvrB:0')));
});

t.test('logger: JSON lines, time-level-event first, level filter, batched writes', async (t) => {
  const writes: string[] = [];
  const log = createLogger({ level: 'info', write: (s) => writes.push(s), clock: () => Date.UTC(2026, 0, 1) });
  log.log('debug', 'hidden');
  log.log('info', 'exchange', { level: 'warn', event: 'ignored-duplicate', xid: '0x1' });
  log.log('warn', 'other', { n: 1 });
  t.same(writes, [], 'nothing written synchronously');
  await new Promise((r) => setImmediate(r));
  t.equal(writes.length, 1, 'one write for the batch');
  const lines = writes[0]!.trimEnd().split('\n');
  t.same(lines.map((l) => JSON.parse(l)), [
    { time: '2026-01-01T00:00:00.000Z', level: 'info', event: 'exchange', xid: '0x1' },
    { time: '2026-01-01T00:00:00.000Z', level: 'warn', event: 'other', n: 1 },
  ]);
  t.match(lines[0], /^\{"time":.*,"level":"info","event":"exchange",/);
  t.notOk(log.enabled('debug'));
  const quiet = createLogger({ level: 'error', write: (s) => writes.push(s) });
  quiet.notice('ready', { pid: 1 });
  quiet.flush();
  t.match(writes.at(-1), /"level":"info","event":"ready"/, 'notice lines are written at any level');
});

t.test('rate-limited counter: one line per interval, counts add up', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  let now = 0;
  const log = createLogger({ level: 'debug', write: (s) => lines.push(...s.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)) });
  const c = new RateLimitedCounter(log, 'malformed', 1000, () => now);
  for (let i = 0; i < 500; i++) c.add(i % 3 ? 'bad-cookie' : 'bad-op', { i });
  now = 400;
  c.add('bad-op', { i: 500 });
  now = 1000;
  c.add('bad-op', { i: 501 });
  c.emit();
  log.flush();
  t.equal(lines.length, 2, 'two lines for 502 events');
  t.match(lines[0], { event: 'malformed', count: 1, reasons: { 'bad-op': 1 } });
  t.match(lines[1], { count: 501, total: 502, last: { i: 501 } });
  t.equal(lines.reduce((n, l) => n + Number(l.count), 0), 502);
});

t.test('serve: usage errors exit 2, before anything starts', async (t) => {
  const run = async (...argv: string[]): Promise<{ code: number; err: string }> => {
    let err = '';
    const io: Io = { out: () => undefined, err: (s) => (err += s) };
    return { code: await main(argv, io), err };
  };
  const noIf = await run('serve', 'examples/cluster.yaml');
  t.equal(noIf.code, 2);
  t.match(noIf.err, /--interface/);
  const level = await run('serve', 'examples/cluster.yaml', '-i', 'eth0', '--log-level', 'loud');
  t.equal(level.code, 2);
  t.match(level.err, /--log-level: expected one of debug, info, warn, error/);
  const q = await run('serve', 'examples/cluster.yaml', '-i', 'eth0', '--decline-quarantine', '0');
  t.equal(q.code, 2);
  t.match(q.err, /--decline-quarantine: 0 is out of range: from 1s to/);
});

t.test('overload control: backlog from /proc/net/udp, shedding with hysteresis', async (t) => {
  const proc = [
    '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
    '  100: 00000000:0043 00000000:0000 07 00000000:00080000 00:00000000 00000000     0        0 1 2 0000000000000000 0',
    '  101: 00000000:0043 00000000:0000 07 00000000:00000400 00:00000000 00000000     0        0 1 2 0000000000000000 0',
    '  102: 00000000:0044 00000000:0000 07 00000000:00100000 00:00000000 00000000     0        0 1 2 0000000000000000 0',
  ].join('\n');
  t.equal(udpBacklogBytes(proc, 67), 0x80000 + 0x400, 'both port-67 sockets, not port 68');
  t.equal(udpBacklogBytes(proc, 547), 0);
  t.equal(udpBacklogBytes('', 67), 0);
  let shedding = false;
  const seen: boolean[] = [];
  for (const kb of [0, 2000, 3500, 2000, 1500, 900, 3100]) seen.push((shedding = nextShedding(shedding, kb * 1024)));
  t.same(seen, [false, false, true, true, true, false, true], 'on above 3 MB, off under 1 MB');
});
