// respond() for every message type and its edges (RFC 2131 §4.3), pure: a lease table, a fake
// clock and the example cluster; no sockets. The replies are checked as decoded from the bytes
// that would go on the wire.

import t from 'tap';
import { MESSAGE_TYPE, OPTION, decodeMessage, encodeMessage } from '../../src/dhcp-packet/index.js';
import { toNumber } from '../../src/dhcp-server/address.js';
import { addressFactsByFiler, topologyFor } from '../../src/options/resolve.js';
import { decodeTopology, encodeTopology, exchangeSigner } from '../../src/options/wire/index.js';
import { CLUSTER_ID, ETH0, ETH1, Harness, KEY, PRL, exampleCluster, exampleConfig, id, ingress, wireReply } from './helpers/fixtures.js';

const M0F1 = id('mgmt0:Filer1');
const TOPO1 = id('00:07:34:10:00:01');
const TOPO2 = id('00:07:34:20:00:01');
const POOL = { 1: { start: '10.2.2.100', end: '10.2.2.102' } };
const { DISCOVER, REQUEST, DECLINE, RELEASE, INFORM, OFFER, ACK, NAK } = MESSAGE_TYPE;
const FILER1 = { clusterId: CLUSTER_ID, baseMac: '00:07:34:10:00:01' };

/** Filer1's topology as the wire writer signs it for one exchange: bound to its request and the xid. */
function filer1ForExchange(xid: number): Buffer {
  const loaded = exampleCluster();
  const objs = encodeTopology(topologyFor(loaded, 'Filer1'), { key: KEY, addresses: addressFactsByFiler(loaded).get('Filer1')!, binding: FILER1 });
  return exchangeSigner(objs, KEY, FILER1)(xid);
}

t.test('DISCOVER from a reserved identifier: OFFER of its address with the scope options', async (t) => {
  for (const typeByte of [false, true]) {
    const h = new Harness(exampleConfig());
    const d = h.send({ type: DISCOVER, clientId: M0F1, typeByte });
    const m = wireReply(d)!;
    t.ok(m, `answered (type byte: ${typeByte})`);
    t.equal(m.options.get(OPTION.MESSAGE_TYPE), OFFER);
    t.equal(m.yiaddr, '10.1.1.2', 'its reserved address');
    t.equal(m.xid, 0x1234abcd);
    t.same(
      {
        server: m.options.get(OPTION.SERVER_ID), lease: m.options.get(OPTION.LEASE_TIME), t1: m.options.get(OPTION.RENEWAL_TIME), t2: m.options.get(OPTION.REBINDING_TIME),
        mask: m.options.get(OPTION.SUBNET_MASK), bcast: m.options.get(OPTION.BROADCAST_ADDRESS), routers: m.options.get(OPTION.ROUTERS),
        dns: m.options.get(OPTION.DNS_SERVERS), domain: m.options.get(OPTION.DOMAIN_NAME), ntp: m.options.get(OPTION.NTP_SERVERS), host: m.options.get(OPTION.HOSTNAME),
      },
      {
        server: '10.1.1.1', lease: 86400, t1: 43200, t2: 75600, mask: '255.255.255.0', bcast: '10.1.1.255', routers: ['10.1.1.254'],
        dns: ['10.1.1.53'], domain: 'lab.example', ntp: ['10.1.1.123'], host: 'Filer1',
      },
      'scope options (no option 55: everything configured)',
    );
    t.ok(m.options.get(OPTION.CLIENT_ID)!.equals(decodeMessage(encodeMessage(m)).options.get(OPTION.CLIENT_ID)!), 'client id echoed (RFC 6842)');
    t.notOk(m.options.has(OPTION.VENDOR_SPECIFIC), 'no option 43 for an address request');
    t.same(d.reply!.to, { address: '10.1.1.2', port: 68, arp: { ip: '10.1.1.2', mac: '52:54:00:00:00:01' } }, 'unicast to yiaddr through an ARP entry');
    t.same(d.ops.map((o) => o.op), ['offer']);
    t.equal(h.table.ofClient(`id:${M0F1}`)?.state, 'offered', 'the address is held for the client');
    t.match(d.log, { level: 'info', type: 'DISCOVER', reply: 'OFFER', result: 'offered', identifier: M0F1, kind: 'filer', address: '10.1.1.2', interface: 'eth0', xid: '0x1234abcd' });
  }
});

t.test('broadcast flag: the reply is broadcast; option 55 limits the options', async (t) => {
  const h = new Harness(exampleConfig());
  const d = h.send({ type: DISCOVER, clientId: M0F1, broadcast: true, prl: [3, 1] });
  t.same(d.reply!.to, { address: '255.255.255.255', port: 68 });
  const m = wireReply(d)!;
  t.equal(m.flags & 0x8000, 0x8000, 'flags copied');
  t.same(m.options.codes().sort((a, b) => a - b), [1, 3, 51, 53, 54, 58, 59, 61], 'mask and routers, lease and server options only');
});

t.test('REQUEST (selecting) for the offer: ACK after a durable bind', async (t) => {
  const h = new Harness(exampleConfig());
  const { offer, ack } = h.dora({ clientId: M0F1 });
  t.ok(offer.reply);
  const m = wireReply(ack!)!;
  t.equal(m.options.get(OPTION.MESSAGE_TYPE), ACK);
  t.equal(m.yiaddr, '10.1.1.2');
  t.equal(ack!.log.state, 'selecting');
  t.same(ack!.ops, [{ op: 'bind', address: toNumber('10.1.1.2'), client: `id:${M0F1}`, expires: h.now + 86400_000, label: M0F1, hw: '52:54:00:00:00:01' }]);
  t.equal(h.table.at(toNumber('10.1.1.2'))?.state, 'bound');
});

t.test('REQUEST naming another server: silent, and our offer is withdrawn', async (t) => {
  const h = new Harness(exampleConfig({ pools: POOL }));
  const offer = h.send({ type: DISCOVER, mac: '52:54:00:00:00:09' }, ETH1);
  t.equal(wireReply(offer)?.yiaddr, '10.2.2.100');
  const d = h.send({ type: REQUEST, mac: '52:54:00:00:00:09', serverId: '10.2.2.7', requested: '10.2.2.100' }, ETH1);
  t.equal(d.reply, undefined);
  t.same(d.ops, [{ op: 'drop-offer', client: 'hw:1:52:54:00:00:00:09' }]);
  t.equal(d.log.result, 'chose-other-server');
  t.equal(h.table.at(toNumber('10.2.2.100')), undefined, 'address free again');
});

t.test('INIT-REBOOT: ACK for the right address, NAK for a wrong one, silence for strangers', async (t) => {
  const h = new Harness(exampleConfig({ pools: POOL }));
  const ok = h.send({ type: REQUEST, clientId: M0F1, requested: '10.1.1.2' });
  t.equal(wireReply(ok)?.options.get(OPTION.MESSAGE_TYPE), ACK);
  t.equal(ok.log.state, 'init-reboot');

  const wrong = h.send({ type: REQUEST, clientId: M0F1, requested: '10.1.1.99' });
  const nak = wireReply(wrong)!;
  t.equal(nak.options.get(OPTION.MESSAGE_TYPE), NAK);
  t.equal(nak.yiaddr, '0.0.0.0');
  t.equal(nak.options.get(OPTION.SERVER_ID), '10.1.1.1');
  t.match(nak.options.get(OPTION.MESSAGE), /reserved 10\.1\.1\.2, not 10\.1\.1\.99/);
  t.notOk(nak.options.has(OPTION.LEASE_TIME), 'a NAK carries no lease');
  t.same(wrong.reply!.to, { address: '255.255.255.255', port: 68 }, 'NAK is broadcast (RFC 2131 §4.3.2)');
  t.same(wrong.ops, []);

  // A reserved client on the wrong network: NAK, so it starts over where it is.
  const moved = h.send({ type: REQUEST, clientId: M0F1, requested: '10.1.1.2' }, ETH1);
  t.equal(wireReply(moved)?.options.get(OPTION.MESSAGE_TYPE), NAK);
  t.equal(moved.log.result, 'wrong-subnet');

  // A pool client this server has no record of: silence (RFC 2131 §4.3.2), even with a pool.
  const stranger = h.send({ type: REQUEST, mac: '52:54:00:00:00:42', requested: '10.2.2.101' }, ETH1);
  t.equal(stranger.reply, undefined);
  t.equal(stranger.log.result, 'no-record');
  // And no pool: a LAN client of another server is never NAKed, whatever it asks for.
  const lan = h.send({ type: REQUEST, mac: '52:54:00:00:00:43', requested: '10.1.1.77' });
  t.equal(lan.reply, undefined);
  t.equal(lan.log.result, 'not-ours');
  t.equal(lan.log.level, 'debug');
});

t.test('RENEWING: unicast ACK to ciaddr; a wrong ciaddr is NAKed', async (t) => {
  const h = new Harness(exampleConfig());
  h.dora({ clientId: M0F1 });
  h.advance(43200);
  const d = h.send({ type: REQUEST, clientId: M0F1, ciaddr: '10.1.1.2' });
  const m = wireReply(d)!;
  t.equal(m.options.get(OPTION.MESSAGE_TYPE), ACK);
  t.equal(m.ciaddr, '10.1.1.2');
  t.equal(d.log.state, 'renewing');
  t.equal(d.log.result, 'renewed');
  t.same(d.reply!.to, { address: '10.1.1.2', port: 68 }, 'to ciaddr, no ARP entry needed');
  t.equal(h.table.at(toNumber('10.1.1.2'))?.expires, h.now + 86400_000, 'lease extended from now');

  const bad = h.send({ type: REQUEST, clientId: M0F1, ciaddr: '10.1.1.3' });
  t.equal(wireReply(bad)?.options.get(OPTION.MESSAGE_TYPE), NAK);
});

t.test('a reservation outside the ingress subnet is ignored on DISCOVER', async (t) => {
  const h = new Harness(exampleConfig());
  const d = h.send({ type: DISCOVER, clientId: M0F1 }, ETH1);
  t.equal(d.reply, undefined);
  t.equal(d.log.result, 'wrong-subnet');
  t.match(d.log.detail, /10\.1\.1\.2 is in 10\.1\.1\.0\/24, not on the network of eth1 \(10\.2\.2\.250\/24\)/);
  // A shared network (two subnets on one interface) serves both.
  const both = ingress('eth0', ['10.1.1.1/24', '10.2.2.250/24']);
  t.equal(wireReply(h.send({ type: DISCOVER, clientId: id('san0:Filer1') }, both))?.yiaddr, '10.2.2.2');
  t.equal(wireReply(h.send({ type: DISCOVER, clientId: id('san0:Filer1') }, both))?.options.get(OPTION.SERVER_ID), '10.2.2.250', 'server id on that subnet');
});

t.test('DECLINE of a pool address quarantines it, loudly; it comes back afterwards', async (t) => {
  const h = new Harness(exampleConfig({ pools: { 1: { start: '10.2.2.100', end: '10.2.2.100' } } }), { policy: { declineQuarantineS: 600 } });
  const mac = '52:54:00:00:00:07';
  h.dora({ mac }, ETH1);
  const d = h.send({ type: DECLINE, mac, requested: '10.2.2.100', serverId: '10.2.2.250' }, ETH1);
  t.equal(d.reply, undefined);
  t.same(d.ops, [{ op: 'decline', address: toNumber('10.2.2.100'), client: `hw:1:${mac}`, until: h.now + 600_000 }]);
  t.equal(d.log.level, 'warn');
  t.match(d.log.detail, /found 10\.2\.2\.100 already in use on the LAN \(duplicate address\)/);
  t.equal(h.table.at(toNumber('10.2.2.100')), undefined, 'lease gone');

  const again = h.send({ type: DISCOVER, mac: '52:54:00:00:00:08' }, ETH1);
  t.equal(again.reply, undefined, 'not offered while quarantined (the one-address pool is empty)');
  t.equal(again.log.result, 'pool-exhausted');
  h.advance(601);
  t.equal(wireReply(h.send({ type: DISCOVER, mac: '52:54:00:00:00:08' }, ETH1))?.yiaddr, '10.2.2.100', 'offered again after the quarantine');

  t.equal(h.send({ type: DECLINE, mac, requested: '10.2.2.100', serverId: '10.9.9.9' }, ETH1).log.result, 'for-other-server');
});

t.test('DECLINE of a pool address: another address is offered next', async (t) => {
  const h = new Harness(exampleConfig({ pools: POOL }));
  const { ack } = h.dora({ mac: '52:54:00:00:00:07' }, ETH1);
  t.equal(wireReply(ack!)?.yiaddr, '10.2.2.100');
  h.send({ type: DECLINE, mac: '52:54:00:00:00:07', requested: '10.2.2.100', serverId: '10.2.2.250' }, ETH1);
  t.equal(wireReply(h.send({ type: DISCOVER, mac: '52:54:00:00:00:07' }, ETH1))?.yiaddr, '10.2.2.101');
});

t.test('RELEASE frees the lease; only its holder can release it', async (t) => {
  const h = new Harness(exampleConfig({ pools: POOL }));
  h.dora({ mac: '52:54:00:00:00:07' }, ETH1);
  const other = h.send({ type: RELEASE, mac: '52:54:00:00:00:08', ciaddr: '10.2.2.100', serverId: '10.2.2.250' }, ETH1);
  t.same(other.ops, [], "another client's RELEASE is ignored");
  const d = h.send({ type: RELEASE, mac: '52:54:00:00:00:07', ciaddr: '10.2.2.100', serverId: '10.2.2.250' }, ETH1);
  t.equal(d.reply, undefined);
  t.same(d.ops, [{ op: 'release', address: toNumber('10.2.2.100'), client: 'hw:1:52:54:00:00:00:07' }]);
  t.match(d.log, { result: 'released', address: '10.2.2.100' });
  t.equal(h.table.at(toNumber('10.2.2.100')), undefined);
});

t.test('INFORM: options only, no address or lease, unicast to ciaddr', async (t) => {
  const h = new Harness(exampleConfig());
  const d = h.send({ type: INFORM, clientId: M0F1, ciaddr: '10.1.1.2' });
  const m = wireReply(d)!;
  t.equal(m.options.get(OPTION.MESSAGE_TYPE), ACK);
  t.equal(m.yiaddr, '0.0.0.0');
  t.equal(m.ciaddr, '10.1.1.2');
  t.notOk(m.options.has(OPTION.LEASE_TIME) || m.options.has(OPTION.RENEWAL_TIME), 'no lease time (RFC 2131 §4.3.5)');
  t.same(m.options.get(OPTION.ROUTERS), ['10.1.1.254']);
  t.same(d.reply!.to, { address: '10.1.1.2', port: 68 });
  t.same(d.ops, []);
  t.equal(h.send({ type: INFORM, mac: '52:54:00:00:00:44', ciaddr: '10.1.1.44' }).log.result, 'not-ours', 'a stranger without a pool gets nothing');
});

t.test('topology request: OFFER from the bootstrap range with the filer topology in option 43', async (t) => {
  const loaded = exampleCluster();
  const h = new Harness(exampleConfig({}, KEY));
  const spec = { clientId: TOPO1, vendorClass: 'rackstrap', prl: PRL, maxSize: 1500, mac: '00:07:34:10:00:01' };
  const d = h.send({ type: DISCOVER, ...spec });
  const m = wireReply(d)!;
  t.equal(m.options.get(OPTION.MESSAGE_TYPE), OFFER);
  t.equal(m.yiaddr, '10.1.1.200', 'first bootstrap address');
  t.equal(m.options.get(OPTION.LEASE_TIME), 300, 'short lease');
  t.equal(m.options.get(OPTION.VENDOR_CLASS), 'rackstrap', 'option 60 echoed');
  t.equal(m.options.get(OPTION.HOSTNAME), 'Filer1');
  const o43 = m.options.get(OPTION.VENDOR_SPECIFIC)!;
  t.ok(o43.equals(filer1ForExchange(m.xid)), 'the wire encoder output, signed for this exchange');
  const back = decodeTopology(o43, { key: KEY, requireSignature: true, expectFiler: 'Filer1', binding: { ...FILER1, xid: m.xid } });
  t.ok(back.signed);
  t.equal(back.binding, 'exchange', 'bound to the xid: a recorded answer is no good in another exchange');
  t.throws(() => decodeTopology(o43, { key: KEY, binding: { ...FILER1, xid: m.xid + 1 } }), { code: 'RS_WIRE_WRONG_REQUEST' });
  t.same(back.topology, decodeTopology(o43).topology);
  t.equal(back.topology.vservers[0]!.gateway, loaded.description.vservers.VsvrA!.gateway, 'the gateway travels');
  t.same(back.topology.vservers.map((v) => v.name), ['VsvrA']);
  t.match(d.log, { kind: 'topology', filer: 'Filer1', identifier: TOPO1 });
  t.notMatch(JSON.stringify(d.log), /hmac|mac=/, 'the log carries nothing derived from the key');

  const nic2 = h.send({ type: DISCOVER, ...spec, mac: '00:07:34:10:00:02' });
  t.equal(wireReply(nic2)?.yiaddr, '10.1.1.201', 'another NIC of the same filer gets its own address');
  t.equal(wireReply(h.send({ type: DISCOVER, ...spec }))?.yiaddr, '10.1.1.200', 'the same NIC again: the same address');

  const req = h.send({ type: REQUEST, ...spec, serverId: '10.1.1.1', requested: '10.1.1.200' });
  const ack = wireReply(req)!;
  t.equal(ack.options.get(OPTION.MESSAGE_TYPE), ACK, 'a client that REQUESTs it (dhclient) gets an ACK');
  t.equal(ack.options.get(OPTION.LEASE_TIME), 300);
  t.ok(ack.options.get(OPTION.VENDOR_SPECIFIC)?.equals(filer1ForExchange(ack.xid)));
  t.equal(req.ops[0]?.op, 'bind');

  const filer2 = h.send({ type: DISCOVER, ...spec, clientId: TOPO2, mac: '00:07:34:20:00:01' });
  t.equal(decodeTopology(wireReply(filer2)!.options.get(OPTION.VENDOR_SPECIFIC)!, { key: KEY }).topology.filer, 'Filer2');
});

t.test('topology request: 43 only when asked for, only with the vendor class, only where a bootstrap range is', async (t) => {
  const h = new Harness(exampleConfig());
  const noPrl = wireReply(h.send({ type: DISCOVER, clientId: TOPO1, vendorClass: 'rackstrap', prl: [1, 3], maxSize: 1500 }))!;
  t.equal(noPrl.options.get(OPTION.MESSAGE_TYPE), OFFER);
  t.notOk(noPrl.options.has(OPTION.VENDOR_SPECIFIC), 'not in option 55: not sent (like dhcpd, Kea, dnsmasq)');
  const noVc = h.send({ type: DISCOVER, clientId: TOPO1, prl: PRL, maxSize: 1500 });
  t.equal(noVc.reply, undefined);
  t.match(noVc.log, { result: 'unknown-identifier', detail: /without vendor class "rackstrap"/ });
  const otherVc = h.send({ type: DISCOVER, clientId: TOPO1, vendorClass: 'PXEClient', prl: PRL, maxSize: 1500 });
  t.equal(otherVc.reply, undefined);
  const noRange = h.send({ type: DISCOVER, clientId: TOPO1, vendorClass: 'rackstrap', prl: PRL, maxSize: 1500 }, ETH1);
  t.equal(noRange.reply, undefined);
  t.equal(noRange.log.result, 'no-bootstrap-range');
});

t.test('the reply must fit option 57 and the MTU: a topology that does not is refused, naming filer and sizes', async (t) => {
  const h = new Harness(exampleConfig({}, KEY));
  const o43 = filer1ForExchange(0x1234abcd);
  t.ok(o43.length > 400, `precondition: Filer1's signed topology is ${o43.length} bytes, more than 576 bytes hold with the other options`);
  const no57 = h.send({ type: DISCOVER, clientId: TOPO1, vendorClass: 'rackstrap', prl: PRL });
  t.equal(no57.reply, undefined);
  t.same(no57.ops, [], 'no offer held for a reply that was not sent');
  t.match(no57.log, { level: 'warn', result: 'reply-too-big', filer: 'Filer1' });
  t.match(no57.log.detail, new RegExp(`the topology of Filer1 \\(${o43.length} bytes of option 43\\) needs a \\d+-byte reply; the client sent no option 57`));

  const smallMtu = h.send({ type: DISCOVER, clientId: TOPO1, vendorClass: 'rackstrap', prl: PRL, maxSize: 1500 }, ingress('eth0', ['10.1.1.1/24'], 576));
  t.match(smallMtu.log, { result: 'reply-too-big', detail: /accepts 576 bytes \(option 57 = 1500, MTU 576\)/ });

  const fits = h.send({ type: DISCOVER, clientId: TOPO1, vendorClass: 'rackstrap', prl: PRL, maxSize: 1500 });
  t.ok(fits.reply!.bytes.length <= 1500 - 28, 'within option 57');
  // An address reply to a client without option 57 fits 576 (RFC 2131 §2).
  const addr = h.send({ type: DISCOVER, clientId: M0F1, prl: PRL });
  t.ok(addr.reply!.bytes.length <= 576 - 28);
});

t.test('a relayed request: subnet from giaddr, reply to the relay on port 67, option 82 echoed last', async (t) => {
  const h = new Harness(exampleConfig());
  const info = Buffer.from([1, 4, 0x65, 0x74, 0x68, 0x33]);
  const d = h.send({ type: DISCOVER, clientId: id('san0:Filer1'), giaddr: '10.2.2.9', relayInfo: info });
  const m = wireReply(d)!;
  t.equal(m.yiaddr, '10.2.2.2', 'served from the relay subnet, whatever interface it came in on');
  t.equal(m.giaddr, '10.2.2.9');
  t.same(d.reply!.to, { address: '10.2.2.9', port: 67 });
  t.equal(m.options.codes().at(-1), OPTION.RELAY_AGENT_INFO, 'option 82 is the last option (RFC 3046 §2.2)');
  t.ok(m.options.get(OPTION.RELAY_AGENT_INFO)!.equals(info));
  t.equal(d.log.relay, '10.2.2.9');

  const nak = h.send({ type: REQUEST, clientId: id('san0:Filer1'), giaddr: '10.2.2.9', requested: '10.2.2.77' });
  const nm = wireReply(nak)!;
  t.equal(nm.options.get(OPTION.MESSAGE_TYPE), NAK);
  t.equal(nm.flags & 0x8000, 0x8000, 'a NAK through a relay sets the broadcast bit (RFC 2131 §4.3.2)');
  t.same(nak.reply!.to, { address: '10.2.2.9', port: 67 });

  const wrongNet = h.send({ type: DISCOVER, clientId: M0F1, giaddr: '10.2.2.9' });
  t.equal(wrongNet.log.result, 'wrong-subnet');
  t.equal(h.send({ type: DISCOVER, clientId: M0F1, giaddr: '192.168.0.1' }).log.result, 'wrong-subnet');
});

t.test('pool: only where configured; requested address honoured; exhaustion; expiry frees', async (t) => {
  const h = new Harness(exampleConfig({ pools: POOL, leaseTime: 3600 }));
  const stranger = h.send({ type: DISCOVER, mac: '52:54:00:00:01:01' });
  t.equal(stranger.reply, undefined, 'no pool on the management subnet: the LAN is not served');
  t.same(stranger.ops, []);
  t.match(stranger.log, { level: 'debug', result: 'not-ours' });

  t.equal(wireReply(h.send({ type: DISCOVER, mac: '52:54:00:00:01:01', requested: '10.2.2.102' }, ETH1))?.yiaddr, '10.2.2.102', 'requested address (option 50) when free');
  const a = h.dora({ mac: '52:54:00:00:01:02' }, ETH1);
  t.equal(wireReply(a.ack!)?.yiaddr, '10.2.2.100');
  const b = h.dora({ mac: '52:54:00:00:01:03' }, ETH1);
  t.equal(wireReply(b.ack!)?.yiaddr, '10.2.2.101');
  // Full of two leases and one offer: a fourth client takes over the unanswered offer...
  t.equal(wireReply(h.send({ type: DISCOVER, mac: '52:54:00:00:01:04' }, ETH1))?.yiaddr, '10.2.2.102', 'an offer is only a promise');
  // ...and when the first one REQUESTs it after all, it is told no.
  const late = h.send({ type: REQUEST, mac: '52:54:00:00:01:01', serverId: '10.2.2.250', requested: '10.2.2.102' }, ETH1);
  t.equal(wireReply(late)?.options.get(OPTION.MESSAGE_TYPE), NAK);
  t.equal(late.log.result, 'address-in-use');
  h.send({ type: REQUEST, mac: '52:54:00:00:01:04', serverId: '10.2.2.250', requested: '10.2.2.102' }, ETH1);
  const full = h.send({ type: DISCOVER, mac: '52:54:00:00:01:05' }, ETH1);
  t.equal(full.reply, undefined);
  t.match(full.log, { level: 'warn', result: 'pool-exhausted' });
  t.equal(wireReply(h.send({ type: DISCOVER, mac: '52:54:00:00:01:02' }, ETH1))?.yiaddr, '10.2.2.100', 'a client with a lease is offered it again');
  h.advance(3601);
  t.match(wireReply(h.send({ type: DISCOVER, mac: '52:54:00:00:01:05' }, ETH1))?.yiaddr, /^10\.2\.2\.10[0-2]$/, 'expired leases are free');
});

t.test('pool addresses never collide with reservations or routers', async (t) => {
  // 10.2.2.1-4 are reserved in the example; a pool over them is refused by the rules, so check
  // the server's own guard with a config whose table lists them.
  const config = exampleConfig({ pools: { 1: { start: '10.2.2.100', end: '10.2.2.101' } } });
  const reservedBy = new Map(config.reservedBy);
  reservedBy.set(toNumber('10.2.2.100'), 'pretend');
  const h = new Harness({ ...config, reservedBy });
  t.equal(wireReply(h.send({ type: DISCOVER, mac: '52:54:00:00:02:01', requested: '10.2.2.100' }, ETH1))?.yiaddr, '10.2.2.101');
  t.equal(wireReply(h.send({ type: REQUEST, mac: '52:54:00:00:02:02', serverId: '10.2.2.250', requested: '10.2.2.100' }, ETH1))?.options.get(OPTION.MESSAGE_TYPE), NAK);
});

t.test('a reserved address held by another client (a lease from before a change) is not handed out', async (t) => {
  const h = new Harness(exampleConfig());
  h.table.apply({ op: 'bind', address: toNumber('10.1.1.2'), client: 'hw:1:52:54:00:00:09:09', expires: h.now + 1000_000, label: 'old', hw: '52:54:00:00:09:09' });
  const d = h.send({ type: DISCOVER, clientId: M0F1 });
  t.equal(d.reply, undefined);
  t.match(d.log, { level: 'warn', result: 'address-in-use', detail: /leased to old/ });
});

t.test('strangers: unknown cluster identifiers, BOOTREPLYs, other message types', async (t) => {
  const h = new Harness(exampleConfig({ pools: POOL }));
  const unknown = h.send({ type: DISCOVER, clientId: id('mgmt7:Filer9') }, ETH1);
  t.equal(unknown.reply, undefined, 'not even from the pool');
  t.match(unknown.log, { level: 'warn', result: 'unknown-identifier' });
  t.equal(h.send({ type: DISCOVER, clientId: M0F1, op: 2 }).log.result, 'not-a-request');
  t.equal(h.send({ type: MESSAGE_TYPE.OFFER, clientId: M0F1 }).log.result, 'unsupported-type');
  t.equal(h.send({ type: REQUEST, clientId: M0F1 }).log.result, 'malformed-request', 'REQUEST with no address at all');
  const other = h.send({ type: DISCOVER, rawClientId: Buffer.from([1, 0x52, 0x54, 0, 0, 3, 3]) }, ETH1);
  t.equal(wireReply(other)?.yiaddr, '10.2.2.100', 'a hardware client id is a pool client');
  t.equal(h.table.ofClient('cid:01:52:54:00:00:03:03')?.state, 'offered', 'keyed by the client id bytes');
  t.equal(CLUSTER_ID, exampleConfig().clusterId);
});

t.test('no IPv4 address on the ingress interface: nothing to answer from', async (t) => {
  const h = new Harness(exampleConfig());
  const d = h.send({ type: DISCOVER, clientId: M0F1, giaddr: '10.1.1.9' }, ingress('eth9', []));
  t.equal(d.reply, undefined);
  t.equal(d.log.result, 'no-server-address');
});
