// The topology fetch on a fake clock and in-memory links: first OFFER with option 43 wins, or
// every one within the grace period; OFFERs without 43, foreign ones and refused ones are
// skipped; DISCOVER retransmits with backoff until the deadline; abort ends it early.

import t from 'tap';
import { createMessage, MESSAGE_TYPE, OP, OPTION, type AnyOptionValue, type DhcpMessage } from '../../src/dhcp-packet/index.js';
import { requestTopology, type TopologyRequestOptions } from '../../src/dhcp-client/topology-request.js';
import { macBytes, TransportPool } from '../../src/dhcp-client/transport.js';
import { FakeClock } from './helpers/fake-clock.js';
import { FakeEndpoint, settle } from './helpers/fake-server.js';

const ID = '02:00:00:00:C1:00:02:00:00:00:01:00';

type Answer = (m: DhcpMessage) => Array<{ reply: DhcpMessage; from: string }>;

function offer(m: DhcpMessage, serverId: string, opt43?: Buffer, extra: { xid?: number } = {}): { reply: DhcpMessage; from: string } {
  const options: Array<[number, AnyOptionValue]> = [[OPTION.SERVER_ID, serverId]];
  if (opt43) options.push([OPTION.VENDOR_SPECIFIC, opt43]);
  return {
    reply: createMessage({ op: OP.BOOTREPLY, type: MESSAGE_TYPE.OFFER, xid: extra.xid ?? m.xid, chaddr: m.chaddr, yiaddr: '10.9.0.100', options }),
    from: serverId,
  };
}

function rig(answers: Record<string, Answer>) {
  const clock = new FakeClock();
  const eps = new Map<string, FakeEndpoint>();
  const pool = new TransportPool({
    open: async (ifname) => {
      if (!(ifname in answers)) throw Object.assign(new Error(`${ifname}: ENODEV`), { code: 'ENODEV' });
      const ep = new FakeEndpoint();
      ep.handler = (m) => answers[ifname]!(m);
      eps.set(ifname, ep);
      return { endpoint: ep, hardware: { chaddr: macBytes(`02:00:00:00:01:0${eps.size}`), htype: 1 } };
    },
  });
  const lines: string[] = [];
  const base: TopologyRequestOptions = {
    interfaces: Object.keys(answers), vendorClass: 'rackstrap', identifier: ID, timeoutMs: 10_000, pool, clock,
    log: (l, s) => lines.push(`${l}: ${s}`), timing: { retransmitBaseMs: 1000, jitterMs: 0 },
  };
  return { clock, eps, pool, lines, base };
}

const silent: Answer = () => [];
const A = Buffer.from('0105616c706861', 'hex');
const B = Buffer.from('0104626574610a', 'hex');

t.test('DISCOVER on every interface at once; the first OFFER with option 43 ends it', async (t) => {
  const r = rig({ eth0: silent, eth1: (m) => [offer(m, '10.9.0.1', A)] });
  const offers = await requestTopology(r.base);
  t.equal(offers.length, 1);
  t.match(offers[0], { interface: 'eth1', serverId: '10.9.0.1', from: '10.9.0.1', offeredAddress: '10.9.0.100' });
  t.same(offers[0]?.option43, A);
  for (const ifname of ['eth0', 'eth1']) {
    const [d] = r.eps.get(ifname)!.ofType(MESSAGE_TYPE.DISCOVER);
    t.equal(d?.address, '255.255.255.255', `${ifname}: broadcast`);
    t.equal(d?.message.options.get(OPTION.CLIENT_ID)?.toString('latin1'), ID, `${ifname}: topology identifier`);
    t.equal(d?.message.options.get(OPTION.VENDOR_CLASS), 'rackstrap');
    t.ok(d?.message.options.get(OPTION.PARAMETER_REQUEST_LIST)?.includes(43), 'asks for option 43');
  }
  t.ok(!r.eps.get('eth0')!.sent[0]!.message.chaddr.equals(r.eps.get('eth1')!.sent[0]!.message.chaddr), 'each interface its own chaddr');
  t.equal(r.eps.get('eth1')!.ofType(MESSAGE_TYPE.REQUEST).length, 0, 'never REQUESTs');
  t.equal(r.pool.size, 0, 'sockets released');
  t.same(r.clock.pending(), [], 'no timer left');
});

t.test('OFFERs without option 43, foreign ones and refused ones are skipped', async (t) => {
  const r = rig({
    eth0: (m) => [offer(m, '10.9.0.7'), offer(m, '10.9.0.8', A, { xid: (m.xid ^ 1) >>> 0 }), offer(m, '10.9.0.9', Buffer.from('ff', 'hex'))],
    eth1: silent,
  });
  const p = requestTopology({ ...r.base, accept: (o) => o.option43.length > 1 });
  await settle();
  r.clock.advance(10_000);
  const offers = await p;
  t.same(offers, [], 'nothing usable: times out');
  const text = r.lines.join('\n');
  t.match(text, /OFFER from 10\.9\.0\.7 without option 43/);
  t.match(text, /OFFER from 10\.9\.0\.9 refused by the caller/);
  t.match(text, /timed out: 0 offer\(s\)/);
});

t.test('retransmits DISCOVER with backoff until the deadline', async (t) => {
  const r = rig({ eth0: silent });
  const p = requestTopology({ ...r.base, timeoutMs: 20_000 });
  await settle();
  const times: number[] = [];
  const start = r.clock.now();
  r.eps.get('eth0')!.handler = () => {
    times.push(r.clock.now() - start);
    return [];
  };
  r.clock.advance(20_000);
  t.same(await p, []);
  t.same(times, [1000, 3000, 7000, 15000], 'base 1 s doubling: 1, 2, 4, 8 s apart');
});

t.test('grace period: every OFFER within it, the highest generation is then the agent’s pick', async (t) => {
  let answerEth0 = false;
  const r = rig({ eth0: (m) => (answerEth0 ? [offer(m, '10.9.0.2', B)] : []), eth1: (m) => [offer(m, '10.9.0.1', A), offer(m, '10.9.0.1', A)] });
  const p = requestTopology({ ...r.base, graceMs: 1500 });
  await settle();
  answerEth0 = true;
  r.clock.advance(1000); // eth0's DISCOVER retransmission is answered now
  await settle();
  r.clock.advance(500);
  await settle();
  const offers = await p;
  t.same(offers.map((o) => [o.interface, o.serverId]), [['eth1', '10.9.0.1'], ['eth0', '10.9.0.2']], 'both, in arrival order, one per server');
  t.match(r.lines.join('\n'), /grace period over: 2 offer\(s\)/);
});

t.test('abort ends it with what came; an unusable interface is skipped; none usable throws', async (t) => {
  const r = rig({ eth0: silent });
  const ac = new AbortController();
  const p = requestTopology({ ...r.base, interfaces: ['eth0', 'eth9'], signal: ac.signal });
  await settle();
  ac.abort();
  t.same(await p, []);
  t.match(r.lines.join('\n'), /skipping eth9: eth9: ENODEV/);
  t.match(r.lines.join('\n'), /aborted/);
  t.equal(r.pool.size, 0);
  await t.rejects(requestTopology({ ...r.base, interfaces: ['eth9'] }), { code: 'RS_DHCP_CLIENT', message: /no interface to ask on/ });
});
