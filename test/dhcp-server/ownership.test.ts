// A client only gives up what it holds: DECLINE and RELEASE change the lease table only when they
// come from the holder of a live lease (same client key, same chaddr, same relay); a reservation
// without a lease has nothing to give up; a DECLINE of a reserved address is logged at error
// level and never quarantines it. And RFC 1542: looping (hops > 16) and broadcast-giaddr requests
// are dropped. Pure: respond() with a fake clock (the namespace proof is forged.test.ts).

import t from 'tap';
import { MESSAGE_TYPE, OPTION } from '../../src/dhcp-packet/index.js';
import { toNumber } from '../../src/dhcp-server/address.js';
import { formatLine, opOf, parseLine, recordOf } from '../../src/dhcp-server/lease-line.js';
import { ETH0, ETH1, Harness, exampleConfig, id, wireReply } from './helpers/fixtures.js';

const { DISCOVER, REQUEST, DECLINE, RELEASE, OFFER, ACK } = MESSAGE_TYPE;
const M0F1 = id('mgmt0:Filer1');
const FILER_MAC = '52:54:00:00:00:01';
const EVIL_MAC = '52:54:00:66:66:66';
const F1 = '10.1.1.2';
const POOL = { 1: { start: '10.2.2.100', end: '10.2.2.102' } };

/** The example cluster with Filer1's mgmt0 bound to its reserved address through a normal DORA. */
function boundFiler(): Harness {
  const h = new Harness(exampleConfig(), { policy: { declineQuarantineS: 600 } });
  const { ack } = h.dora({ clientId: M0F1, mac: FILER_MAC });
  if (wireReply(ack!)?.yiaddr !== F1) throw new Error('setup: Filer1 did not get its address');
  return h;
}

const liveLease = (h: Harness, address: string): string | undefined => {
  const l = h.table.at(toNumber(address));
  return l !== undefined && l.expires > h.now ? `${l.state} ${l.client} ${l.hw}` : undefined;
};

t.test('a forged DECLINE of a reserved address from another MAC changes nothing', async (t) => {
  const h = boundFiler();
  const before = liveLease(h, F1);
  for (const serverId of [undefined, '10.1.1.1']) {
    const d = h.send({ type: DECLINE, clientId: M0F1, mac: EVIL_MAC, requested: F1, ...(serverId ? { serverId } : {}) });
    t.same(d.ops, [], `no lease operation (server id ${serverId ?? 'absent'})`);
    t.equal(d.log.result, 'decline-not-held');
    t.match(d.log.detail, /leased to this identifier on another hardware address/);
  }
  t.equal(liveLease(h, F1), before, 'the lease is untouched');
  t.equal(h.table.quarantinedUntil(toNumber(F1), h.now), undefined, 'nothing quarantined');
  const renew = h.send({ type: REQUEST, clientId: M0F1, mac: FILER_MAC, ciaddr: F1 });
  t.equal(wireReply(renew)?.options.get(OPTION.MESSAGE_TYPE), ACK, 'the filer renews its address');
});

t.test('a reservation without a lease has nothing to decline or release', async (t) => {
  const h = new Harness(exampleConfig());
  const decline = h.send({ type: DECLINE, clientId: M0F1, mac: FILER_MAC, requested: F1 });
  t.same(decline.ops, [], 'DECLINE: no operation');
  t.match(decline.log.detail, /reserved for .*mgmt0:Filer1 but not leased here: nothing to give up/);
  const release = h.send({ type: RELEASE, clientId: M0F1, mac: FILER_MAC, ciaddr: F1 });
  t.same(release.ops, [], 'RELEASE: no operation');
  t.equal(h.table.quarantinedUntil(toNumber(F1), h.now), undefined);
  t.equal(wireReply(h.send({ type: DISCOVER, clientId: M0F1, mac: FILER_MAC }))?.yiaddr, F1, 'the filer is offered its address at once');
});

t.test("the holder's DECLINE of a reserved address: logged at error level, lease given up, no quarantine", async (t) => {
  const h = boundFiler();
  const d = h.send({ type: DECLINE, clientId: M0F1, mac: FILER_MAC, requested: F1, serverId: '10.1.1.1' });
  t.same(d.ops, [{ op: 'release', address: toNumber(F1), client: `id:${M0F1}` }], 'the lease is released, not quarantined');
  t.match(d.log, { level: 'error', result: 'reserved-address-conflict', address: F1 });
  t.match(d.log.detail, /found its reserved address 10\.1\.1\.2 in use by another host on the LAN.*find that host/);
  t.equal(liveLease(h, F1), undefined);
  t.equal(h.table.quarantinedUntil(toNumber(F1), h.now), undefined, 'not quarantined');
  h.advance(10); // RFC 2131 §3.1.5: the client waits at least 10 s before it starts again
  const { offer, ack } = h.dora({ clientId: M0F1, mac: FILER_MAC });
  t.equal(wireReply(offer)?.options.get(OPTION.MESSAGE_TYPE), OFFER, 'offered again when it asks again');
  t.equal(wireReply(ack!)?.yiaddr, F1, 'and acknowledged');
});

t.test('a quarantine of a reserved address from an older lease log does not lock the filer out', async (t) => {
  const h = new Harness(exampleConfig());
  h.table.apply({ op: 'decline', address: toNumber(F1), client: '', until: h.now + 600_000 });
  t.equal(wireReply(h.send({ type: DISCOVER, clientId: M0F1, mac: FILER_MAC }))?.yiaddr, F1, 'offered');
  t.equal(wireReply(h.send({ type: REQUEST, clientId: M0F1, mac: FILER_MAC, requested: F1 }))?.options.get(OPTION.MESSAGE_TYPE), ACK, 'acknowledged');
});

t.test('a forged RELEASE from another MAC leaves the lease; the holder can release it', async (t) => {
  const h = boundFiler();
  const before = liveLease(h, F1);
  for (const from of [F1, '0.0.0.0']) {
    const d = h.send({ type: RELEASE, clientId: M0F1, mac: EVIL_MAC, ciaddr: F1, serverId: '10.1.1.1', from });
    t.same(d.ops, [], `no operation (sent from ${from})`);
    t.equal(d.log.result, 'release-not-held');
  }
  const other = h.send({ type: RELEASE, clientId: id('mgmt1:Filer1'), mac: FILER_MAC, ciaddr: F1, serverId: '10.1.1.1' });
  t.same(other.ops, [], 'another identifier on the same MAC: no operation');
  t.equal(liveLease(h, F1), before, 'the lease is untouched');
  const own = h.send({ type: RELEASE, clientId: M0F1, mac: FILER_MAC, ciaddr: F1, serverId: '10.1.1.1' });
  t.same(own.ops, [{ op: 'release', address: toNumber(F1), client: `id:${M0F1}` }], 'its holder releases it');
  t.equal(liveLease(h, F1), undefined);
});

t.test('a relayed lease: DECLINE and RELEASE only through the same relay, or RELEASE from the leased address', async (t) => {
  const h = new Harness(exampleConfig({ pools: POOL }));
  const mac = '52:54:00:00:00:07';
  const relay = '10.2.2.9';
  const { ack } = h.dora({ mac, giaddr: relay }, ETH0);
  const address = wireReply(ack!)!.yiaddr;
  t.equal(address, '10.2.2.100', 'a pool lease through the relay');
  t.equal(h.table.at(toNumber(address))?.relay, relay, 'the lease records its relay');

  const viaOther = h.send({ type: DECLINE, mac, giaddr: '10.2.2.10', requested: address }, ETH0);
  t.same(viaOther.ops, [], 'DECLINE through another relay: nothing');
  t.match(viaOther.log.detail, /through relay 10\.2\.2\.9, not relay 10\.2\.2\.10/);
  const direct = h.send({ type: DECLINE, mac, requested: address }, ETH1);
  t.same(direct.ops, [], 'DECLINE on the link without the relay: nothing');
  const strangerSource = h.send({ type: RELEASE, mac, ciaddr: address, from: '10.2.2.66' }, ETH1);
  t.same(strangerSource.ops, [], 'RELEASE without the relay from another address: nothing');
  t.ok(liveLease(h, address), 'still leased');
  const fromAddress = h.send({ type: RELEASE, mac, ciaddr: address, from: address }, ETH1);
  t.same(fromAddress.ops.map((o) => o.op), ['release'], 'RELEASE unicast from the leased address (RFC 2131 §4.4.6): taken');

  const again = wireReply(h.dora({ mac, giaddr: relay }, ETH0).ack!)!.yiaddr;
  t.ok(liveLease(h, again), `leased again: ${again}`);
  const viaSame = h.send({ type: DECLINE, mac, giaddr: relay, requested: again }, ETH0);
  t.same(viaSame.ops.map((o) => o.op), ['decline'], 'DECLINE through the same relay: taken (a pool address is quarantined)');
});

t.test('a lease on a served link is not given up by a relayed packet', async (t) => {
  const h = new Harness(exampleConfig({ pools: POOL }));
  const mac = '52:54:00:00:00:07';
  const { ack } = h.dora({ mac }, ETH1);
  const address = wireReply(ack!)!.yiaddr;
  t.equal(h.table.at(toNumber(address))?.relay, undefined, 'no relay recorded');
  t.same(h.send({ type: RELEASE, mac, ciaddr: address, giaddr: '10.2.2.9' }, ETH0).ops, [], 'relayed RELEASE: nothing');
  t.same(h.send({ type: DECLINE, mac, requested: address, giaddr: '10.2.2.9' }, ETH0).ops, [], 'relayed DECLINE: nothing');
  t.same(h.send({ type: RELEASE, mac, ciaddr: address }, ETH1).ops.map((o) => o.op), ['release'], 'direct RELEASE: taken');
});

t.test("an expired lease or another client's offer is nothing to give up", async (t) => {
  const h = boundFiler();
  h.advance(86_400 + 1);
  t.same(h.send({ type: DECLINE, clientId: M0F1, mac: FILER_MAC, requested: F1 }).ops, [], 'expired: nothing');
  const o = new Harness(exampleConfig({ pools: POOL }));
  o.send({ type: DISCOVER, mac: '52:54:00:00:00:07' }, ETH1);
  t.same(o.send({ type: RELEASE, mac: '52:54:00:00:00:07', ciaddr: '10.2.2.100' }, ETH1).ops, [], 'an offer is not a lease: nothing to release');
});

t.test('the relay survives the lease log; a line from before it existed still reads', async (t) => {
  const op = { op: 'bind' as const, address: toNumber('10.2.2.100'), client: 'hw:1:52:54:00:00:00:07', expires: 2_000_000_000_000, label: 'x', hw: '52:54:00:00:00:07', relay: '10.2.2.9' };
  const line = formatLine(recordOf(op, 1_900_000_000_000, (n) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`));
  const parsed = parseLine(line.trimEnd());
  t.ok(parsed.ok);
  if (parsed.ok) t.same(opOf(parsed.record), op, 'round trip with the relay');
  const old = formatLine({ op: 'bind', address: '10.2.2.100', client: 'c', label: 'c', hw: 'aa', expires: 5, at: 1 }).trimEnd();
  const oldParsed = parseLine(old);
  t.ok(oldParsed.ok && oldParsed.record.op === 'bind' && oldParsed.record.relay === undefined, 'an old line: no relay');
  t.notOk(parseLine(formatLine({ op: 'bind', address: '10.2.2.100', client: 'c', label: 'c', hw: 'aa', expires: 5, at: 1, relay: 'nope' }).trimEnd()).ok, 'a relay that is not an address: the line is refused');
});

t.test('RFC 1542: more than 16 hops, or a giaddr that cannot be a relay, is dropped', async (t) => {
  const h = new Harness(exampleConfig({ pools: POOL }));
  const ask = (hops: number, giaddr: string): ReturnType<Harness['send']> => h.send({ type: DISCOVER, mac: '52:54:00:00:00:09', hops, giaddr }, ETH0);
  t.equal(wireReply(ask(16, '10.2.2.9'))?.options.get(OPTION.MESSAGE_TYPE), OFFER, '16 hops: answered');
  const loop = ask(17, '10.2.2.9');
  t.equal(loop.reply, undefined, '17 hops: dropped');
  t.match(loop.log, { level: 'debug', result: 'bad-relay', detail: /hops 17 > 16/ });
  t.equal(ask(255, '10.2.2.9').reply, undefined, '255 hops: dropped');
  for (const giaddr of ['10.2.2.255', '10.2.2.0', '255.255.255.255', '127.0.0.1', '224.0.0.1']) {
    const d = ask(1, giaddr);
    t.equal(d.reply, undefined, `giaddr ${giaddr}: dropped`);
    t.equal(d.log.result, 'bad-relay');
    t.same(d.ops, []);
  }
  t.equal(h.send({ type: DISCOVER, clientId: M0F1, giaddr: '10.1.1.255', hops: 1 }).reply, undefined, 'a cluster client behind a broadcast giaddr: dropped too');
  t.equal(wireReply(h.send({ type: DISCOVER, clientId: M0F1, hops: 17 }))?.options.get(OPTION.MESSAGE_TYPE), undefined, 'hops > 16 without a relay: dropped');
});
