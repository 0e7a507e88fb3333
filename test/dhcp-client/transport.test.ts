// Per-interface sharing: one socket per (namespace, interface) however many clients use it,
// closed with the last one; replies handed out by xid; junk counted, never thrown.

import t from 'tap';
import { createMessage, encodeMessage, MESSAGE_TYPE, OP } from '../../src/dhcp-packet/index.js';
import { InterfaceTransport, macBytes, TransportPool, type ReplySource } from '../../src/dhcp-client/transport.js';
import type { DhcpMessage } from '../../src/dhcp-packet/index.js';
import { FakeEndpoint } from './helpers/fake-server.js';

function fakeOpener() {
  const opened: Array<{ ifname: string; netns: string | undefined; ep: FakeEndpoint }> = [];
  let failNext = false;
  const open = async (ifname: string, netns: string | undefined) => {
    await new Promise((r) => setImmediate(r));
    if (failNext) {
      failNext = false;
      throw new Error(`no such interface ${ifname}`);
    }
    const ep = new FakeEndpoint();
    opened.push({ ifname, netns, ep });
    return { endpoint: ep, hardware: { chaddr: macBytes('02:00:00:00:00:01'), htype: 1 } };
  };
  return { opened, open, failOnce: () => void (failNext = true) };
}

t.test('one socket per interface and namespace, shared and reference-counted', async (t) => {
  const f = fakeOpener();
  const pool = new TransportPool({ open: f.open });
  const [a, b] = await Promise.all([pool.acquire('mgmt0'), pool.acquire('mgmt0')]);
  t.equal(f.opened.length, 1, 'concurrent acquires share one open');
  const c = await pool.acquire('mgmt0', { netns: 'other' });
  const d = await pool.acquire('eth1');
  t.equal(f.opened.length, 3);
  t.equal(pool.size, 3);
  t.ok(a!.hardware.chaddr.equals(Buffer.from('020000000001', 'hex')));
  await a!.release();
  await a!.release(); // idempotent: does not drop b's reference
  t.notOk(f.opened[0]!.ep.closed, 'still used by b');
  await b!.release();
  t.ok(f.opened[0]!.ep.closed, 'closed with the last handle');
  t.equal(pool.size, 2);
  await c.release();
  await d.release();
  t.equal(pool.size, 0);
  const again = await pool.acquire('mgmt0');
  t.equal(f.opened.length, 4, 'reopened after the last release');
  await again.release();
});

t.test('a failed open leaves nothing behind; the next acquire tries again', async (t) => {
  const f = fakeOpener();
  const pool = new TransportPool({ open: f.open });
  f.failOnce();
  await t.rejects(pool.acquire('eth9'), /no such interface eth9/);
  t.equal(pool.size, 0);
  const ok = await pool.acquire('eth9');
  t.equal(pool.size, 1);
  await ok.release();
});

function reply(xid: number, op: 1 | 2 = OP.BOOTREPLY): Buffer {
  return encodeMessage(createMessage({ op, type: MESSAGE_TYPE.OFFER, xid, yiaddr: '10.0.0.5' }));
}

t.test('replies go to the subscriber whose xid they carry; the rest are counted', async (t) => {
  const ep = new FakeEndpoint();
  const lines: string[] = [];
  const tr = new InterfaceTransport('mgmt0', { chaddr: Buffer.alloc(6), htype: 1 }, ep, (l, s) => lines.push(`${l}: ${s}`));
  const got: Record<string, number[]> = { a: [], b: [] };
  const sub = (name: 'a' | 'b', xid: number) => ({
    accepts: (x: number) => x === xid,
    deliver: (m: DhcpMessage, from: ReplySource) => {
      got[name]!.push(m.xid);
      t.equal(from.ifname, 'mgmt0');
    },
  });
  const offA = tr.subscribe(sub('a', 1));
  tr.subscribe(sub('b', 2));
  ep.inject(reply(1));
  ep.inject(reply(2));
  ep.inject(reply(3));
  ep.inject(reply(2, OP.BOOTREQUEST));
  ep.inject(Buffer.from('not dhcp'));
  t.same(got, { a: [1], b: [2] });
  t.same(tr.stats, { received: 5, malformed: 1, notReplies: 1, unmatched: 1, delivered: 2 });
  t.ok(lines.some((l) => /OFFER xid 0x00000003 .* matches no exchange/.test(l)));
  offA();
  ep.inject(reply(1));
  t.same(got.a, [1], 'unsubscribed');

  // A subscriber that throws is logged; the socket keeps serving the others.
  tr.subscribe({ accepts: (x) => x === 7, deliver: () => { throw new Error('bug'); } });
  t.doesNotThrow(() => ep.inject(reply(7)));
  ep.inject(reply(2));
  t.same(got.b, [2, 2]);
  t.ok(lines.some((l) => /handling a reply failed: Error: bug/.test(l)));
});

t.test('macBytes refuses what is not colon hex', async (t) => {
  t.same([...macBytes('aa:BB:0c:00:00:01')], [0xaa, 0xbb, 0x0c, 0, 0, 1]);
  t.throws(() => macBytes('aabb.cc00.0001'), { code: 'RS_DHCP_CLIENT' });
  t.throws(() => macBytes(''), { code: 'RS_DHCP_CLIENT' });
});
