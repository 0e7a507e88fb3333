// Fair overload, pure parts: the three queues (cluster first, a full queue loses its oldest), the
// first look at a datagram (triage), the log limiter (one line per kind and source per interval,
// no count lost, bounded keys) and the clipping of quoted identifiers.

import t from 'tap';
import { MESSAGE_TYPE, OP, OPTION, createMessage, encodeMessage, textClientId } from '../../src/dhcp-packet/index.js';
import { Intake } from '../../src/dhcp-server/intake.js';
import { LogLimiter } from '../../src/dhcp-server/logger.js';
import { clip } from '../../src/dhcp-server/respond.js';
import { triage } from '../../src/dhcp-server/triage.js';
import { CLUSTER_ID, ETH0, Harness, exampleConfig, id } from './helpers/fixtures.js';

t.test('the cluster queue is always served first; a full queue drops its oldest', async (t) => {
  const q = new Intake<string>([4, 4, 2]);
  q.push(2, 's1');
  q.push(1, 'k1');
  q.push(2, 's2');
  t.equal(q.push(2, 's3'), 's1', 'a full stranger queue drops its oldest');
  q.push(0, 'c1');
  const order: string[] = [];
  for (let n = q.next(); n !== undefined; n = q.next()) order.push(n.item);
  t.same(order, ['c1', 'k1', 's2', 's3']);
  t.same(q.dropped, [0, 0, 1]);
  const big = new Intake<number>();
  for (let i = 0; i < 10_000; i++) big.push(2, i);
  big.push(0, -1);
  t.equal(big.next()?.item, -1, 'a cluster request behind 4,096 strangers is next');
  t.equal(big.length, 4096);
});

t.test('triage: cluster identifiers and topology requests, strangers\' DISCOVERs, and what needs the full decode', async (t) => {
  const config = exampleConfig({ pools: { 0: { start: '10.1.1.100', end: '10.1.1.110' } } });
  const pkt = (type: number, options: Array<[number, Buffer | string]>): Buffer =>
    encodeMessage(createMessage({ op: OP.BOOTREQUEST, xid: 1, type: type as 1, chaddr: Buffer.from([2, 0, 0, 0, 0, 1]), options }));
  t.equal(triage(pkt(MESSAGE_TYPE.DISCOVER, [[OPTION.CLIENT_ID, textClientId(id('mgmt0:Filer1'))]]), config), 0, 'a reserved identifier');
  t.equal(triage(pkt(MESSAGE_TYPE.REQUEST, [[OPTION.CLIENT_ID, textClientId(id('mgmt0:Filer1'), { typeByte: true })]]), config), 0, 'with a type byte, a REQUEST');
  const topo = textClientId(id('00:07:34:10:00:01'));
  t.equal(triage(pkt(MESSAGE_TYPE.DISCOVER, [[OPTION.CLIENT_ID, topo], [OPTION.VENDOR_CLASS, config.vendorClass]]), config), 0, 'a topology request');
  t.equal(triage(pkt(MESSAGE_TYPE.DISCOVER, [[OPTION.CLIENT_ID, topo]]), config), 2, 'a topology identifier without the vendor class: a stranger');
  t.equal(triage(pkt(MESSAGE_TYPE.DISCOVER, []), config), 2, 'a DISCOVER without an identifier');
  t.equal(triage(pkt(MESSAGE_TYPE.DISCOVER, [[OPTION.CLIENT_ID, textClientId(`${CLUSTER_ID}:mgmt9:Nobody`)]]), config), 2, 'an undeclared cluster-like identifier');
  t.equal(triage(pkt(MESSAGE_TYPE.REQUEST, []), config), undefined, "a stranger's REQUEST: the decode decides (it may hold an offer)");
  t.equal(triage(Buffer.alloc(100), config), undefined, 'too short');
  const truncated = pkt(MESSAGE_TYPE.DISCOVER, [[OPTION.CLIENT_ID, textClientId(id('mgmt0:Filer1'))]]);
  t.equal(triage(truncated.subarray(0, 250), config), undefined, 'an option running past the end');
  const long = encodeMessage(createMessage({ op: OP.BOOTREQUEST, xid: 1, type: MESSAGE_TYPE.DISCOVER, chaddr: Buffer.alloc(6), options: [[OPTION.CLIENT_ID, textClientId('X'.repeat(600))]] }), { maxSize: 1500 });
  t.equal(triage(long, config), undefined, 'an identifier split over several options (RFC 3396): the decode decides');
  // triage agrees with the full classification for what it decides.
  const h = new Harness(config);
  t.equal(h.send({ type: MESSAGE_TYPE.DISCOVER, clientId: id('mgmt0:Filer1') }, ETH0).log.kind, 'filer');
});

t.test('log limiter: one line per kind and source per interval, the rest counted, bounded keys', async (t) => {
  let now = 0;
  const l = new LogLimiter({ intervalMs: 1000, maxKeys: 4, clock: () => now });
  t.equal(l.admit('pool-exhausted', 'srv0'), 0, 'the first line at once');
  let left = 0;
  for (let i = 0; i < 999; i++) if (l.admit('pool-exhausted', 'srv0') === undefined) left++;
  t.equal(left, 999, 'the rest of the interval: left out');
  t.equal(l.admit('declined', 'srv0'), 0, 'another kind: its own line');
  now = 1000;
  t.equal(l.admit('pool-exhausted', 'srv0'), 999, 'the next line carries the count left out');
  for (let i = 0; i < 100; i++) for (let j = 0; j < 2; j++) l.admit('pool-exhausted', `relay ${i}`);
  const s = l.takeSuppressed(50);
  t.ok(s !== undefined && s.total >= 100, `${s?.total} left out, reported`);
  t.ok(Object.keys(s!.counts).length <= 4, `past 4 keys, new sources share one: ${JSON.stringify(s?.counts)}`);
  t.equal(l.takeSuppressed(), undefined, 'and reset');
  t.equal(clip('a'.repeat(10)), 'a'.repeat(10));
  t.equal(clip('b'.repeat(10_000)), `${'b'.repeat(64)}...(10000 characters)`);
});

t.test('a long client identifier is quoted clipped in the exchange record', async (t) => {
  const h = new Harness(exampleConfig());
  const d = h.send({ type: MESSAGE_TYPE.DISCOVER, rawClientId: Buffer.from(`x${'Y'.repeat(1000)}`) });
  t.ok(JSON.stringify(d.log).length < 600, `the record is ${JSON.stringify(d.log).length} characters`);
  t.match(d.log.identifier, /^xY+\.\.\.\(1001 characters\)$/);
});
