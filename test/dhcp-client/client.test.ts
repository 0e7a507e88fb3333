// The driver (client.ts) on a fake clock and an in-memory link to a tiny server: the lease life
// cycle end to end (bound, renewed, expired, NAK, RELEASE, DECLINE), with real encoding on the
// way, and the things only the driver does: timers, queued events, the address-check hook.

import t from 'tap';
import { MESSAGE_TYPE, OPTION } from '../../src/dhcp-packet/index.js';
import { DhcpClient } from '../../src/dhcp-client/client.js';
import type { DhcpLease } from '../../src/dhcp-client/lease.js';
import type { LogLevel } from '../../src/dhcp-client/log.js';
import { InterfaceTransport } from '../../src/dhcp-client/transport.js';
import { FakeClock } from './helpers/fake-clock.js';
import { FakeEndpoint, FakeServer, settle } from './helpers/fake-server.js';

const CID = '00:07:34:04:12:0E';
const MGMT = `${CID}:mgmt0:Filer1`;
const MYSQL = `${CID}:mgmt0:MySQLMgmtNode`;
const MAC = Buffer.from('020000000101', 'hex');

interface Rig {
  clock: FakeClock;
  ep: FakeEndpoint;
  server: FakeServer;
  transport: InterfaceTransport;
  lines: string[];
  client(identifier?: string, extra?: Partial<ConstructorParameters<typeof DhcpClient>[0]>): DhcpClient;
}

function rig(leaseSeconds = 60): Rig {
  const clock = new FakeClock();
  const ep = new FakeEndpoint();
  const server = new FakeServer({ leaseSeconds, reservations: { [MGMT]: '10.0.0.2', [MYSQL]: '10.0.0.3' } });
  server.attach(ep);
  const lines: string[] = [];
  const log = (level: LogLevel, line: string): void => void lines.push(`${level}: ${line}`);
  const transport = new InterfaceTransport('mgmt0', { chaddr: MAC, htype: 1 }, ep, log);
  return {
    clock, ep, server, transport, lines,
    client: (identifier = MGMT, extra = {}) =>
      new DhcpClient({ identifier, vendorClass: 'rackstrap', transport, clock, log, timing: { retransmitBaseMs: 100, minRenewRetransmitMs: 1000 }, ...extra }),
  };
}

/** Events a client emitted, by name, in order. */
function record(c: DhcpClient): string[] {
  const seen: string[] = [];
  c.on('bound', (l) => seen.push(`bound ${l.address}`));
  c.on('renewed', (l) => seen.push(`renewed ${l.address}`));
  c.on('changed', (l, p) => seen.push(`changed ${p.address} -> ${l.address}`));
  c.on('expired', (l) => seen.push(`expired ${l.address}`));
  c.on('nak', (n) => seen.push(`nak ${n.address ?? ''}`));
  c.on('declined', (d) => seen.push(`declined ${d.address}`));
  return seen;
}

t.test('DORA over the link: bound with the reserved address, chaddr = MAC, identifier as text', async (t) => {
  const r = rig();
  const c = r.client();
  const events = record(c);
  c.start();
  await settle();
  t.same(events, ['bound 10.0.0.2']);
  t.equal(c.state, 'bound');
  t.equal(c.lease?.address, '10.0.0.2');
  t.equal(c.lease?.interface, 'mgmt0');
  t.equal(c.lease?.identifier, MGMT);
  const [discover] = r.ep.ofType(MESSAGE_TYPE.DISCOVER);
  t.equal(discover?.address, '255.255.255.255');
  t.equal(discover?.port, 67);
  t.ok(discover?.message.chaddr.equals(MAC));
  t.equal(discover?.message.options.get(OPTION.CLIENT_ID)?.toString('latin1'), MGMT);
  t.ok(r.lines.some((l) => l === `debug: mgmt0 ${MGMT}: selecting -> requesting`), 'logs name interface and identifier');
  await c.stop();
  t.same(r.clock.pending(), [], 'no timer left after stop');
  t.equal(r.transport.subscribers, 0, 'unsubscribed');
});

t.test('T1 renews with the same address; a silent server leads to REBINDING and expiry; it comes back', async (t) => {
  const r = rig(60);
  const c = r.client();
  const events = record(c);
  const states: string[] = [];
  c.on('state', (_from, to) => states.push(to));
  c.start();
  await settle();
  const first = c.lease!;
  r.clock.advance(30_000); // T1
  await settle();
  t.same(events, ['bound 10.0.0.2', 'renewed 10.0.0.2']);
  const renew = r.ep.ofType(MESSAGE_TYPE.REQUEST).at(-1)!;
  t.equal(renew.address, '10.0.0.1', 'RENEW is unicast to the server');
  t.equal(renew.message.ciaddr, '10.0.0.2');
  t.ok(c.lease!.expiresAt! > first.expiresAt!, 'expiry moved on');

  r.server.silent = true;
  const renewedAt = c.lease!.obtainedAt;
  r.clock.advance(renewedAt + 30_000 - r.clock.now());
  await settle();
  t.equal(c.state, 'renewing');
  r.clock.advance(renewedAt + 52_500 - r.clock.now());
  await settle();
  t.equal(c.state, 'rebinding');
  t.equal(r.ep.sent.at(-1)?.address, '255.255.255.255', 'REBIND broadcasts');
  r.clock.advance(renewedAt + 60_000 - r.clock.now());
  await settle();
  t.same(events.slice(2), ['expired 10.0.0.2']);
  t.equal(c.state, 'selecting', 'asks again at once');
  t.equal(c.lease, undefined);
  t.same(states.slice(0, 8), ['selecting', 'requesting', 'bound', 'renewing', 'bound', 'renewing', 'rebinding', 'selecting']);

  r.server.silent = false;
  r.clock.advance(2000); // next DISCOVER retransmission
  await settle();
  t.same(events.slice(3), ['bound 10.0.0.2'], 'bound again once the server answers');
  await c.stop();
});

t.test('a failed unicast RENEW is logged; REBINDING broadcast still renews', async (t) => {
  const r = rig(60);
  const c = r.client();
  const events = record(c);
  c.start();
  await settle();
  r.ep.failTo.add('10.0.0.1');
  r.clock.advance(30_000);
  await settle();
  t.equal(c.state, 'renewing');
  t.ok(r.lines.some((l) => /warn: .*send to 10\.0\.0\.1 failed: .*ENETUNREACH/.test(l)), 'send failure logged');
  r.clock.advance(22_500);
  await settle();
  t.same(events, ['bound 10.0.0.2', 'renewed 10.0.0.2'], 'renewed through REBINDING');
  await c.stop();
});

t.test('INIT-REBOOT with a wrong cached address: NAK, then DISCOVER gets the reserved one', async (t) => {
  const r = rig();
  const c = r.client();
  const events = record(c);
  c.start({ cachedAddress: '10.0.0.99' });
  await settle();
  t.same(events, ['nak 10.0.0.99', 'bound 10.0.0.2']);
  const [reboot] = r.ep.ofType(MESSAGE_TYPE.REQUEST);
  t.equal(reboot?.message.options.get(OPTION.REQUESTED_ADDRESS), '10.0.0.99');
  await c.stop();

  const ok = r.client();
  const okEvents = record(ok);
  ok.start({ cachedAddress: '10.0.0.2' });
  await settle();
  t.same(okEvents, ['bound 10.0.0.2'], 'the right cached address is simply confirmed');
  t.equal(r.ep.ofType(MESSAGE_TYPE.DISCOVER).length, 1, 'no DISCOVER for the confirmed one');
  await ok.stop();
});

t.test('stop({ release: true }) sends RELEASE before it resolves, also when called from a listener', async (t) => {
  const r = rig();
  const c = r.client();
  c.start();
  await settle();
  await c.stop({ release: true });
  t.same(r.server.released, ['10.0.0.2']);
  t.equal(c.state, 'stopped');
  t.equal(c.lease, undefined);

  const r2 = rig();
  const c2 = r2.client();
  let stopped: Promise<void> | undefined;
  c2.on('bound', () => {
    stopped = c2.stop({ release: true });
  });
  c2.start();
  await settle();
  t.ok(stopped, 'listener ran');
  await stopped;
  t.same(r2.server.released, ['10.0.0.2'], 'queued stop still released');
  t.same(r2.clock.pending(), []);
});

t.test('checkAddress hook: in use -> DECLINE, wait, try again; a throwing check does not block', async (t) => {
  const r = rig();
  let calls = 0;
  const checked: DhcpLease[] = [];
  const c = r.client(MGMT, {
    checkAddress: async (lease) => {
      checked.push(lease);
      return ++calls === 1;
    },
    timing: { retransmitBaseMs: 100, declineRestartMs: 10_000 },
  });
  const events = record(c);
  c.start();
  await settle();
  t.same(events, ['declined 10.0.0.2']);
  t.same(r.server.declined, ['10.0.0.2']);
  t.equal(c.state, 'init');
  r.clock.advance(9_999);
  await settle();
  t.equal(r.ep.ofType(MESSAGE_TYPE.DISCOVER).length, 1, 'waits the decline pause');
  r.clock.advance(1);
  await settle();
  t.same(events, ['declined 10.0.0.2', 'bound 10.0.0.2']);
  t.equal(checked.length, 2);
  await c.stop();

  const r2 = rig();
  const c2 = r2.client(MGMT, {
    checkAddress: () => {
      throw new Error('arping missing');
    },
  });
  const e2 = record(c2);
  c2.start();
  await settle();
  t.same(e2, ['bound 10.0.0.2']);
  t.ok(r2.lines.some((l) => /address check for 10\.0\.0\.2 failed, using the address: arping missing/.test(l)));
  await c2.stop();
});

t.test('two identifiers on one transport: each its own xid, reply and address', async (t) => {
  const r = rig();
  const a = r.client(MGMT);
  const b = r.client(MYSQL);
  const ea = record(a);
  const eb = record(b);
  a.start();
  b.start();
  t.equal(r.transport.subscribers, 2);
  await settle();
  t.same(ea, ['bound 10.0.0.2']);
  t.same(eb, ['bound 10.0.0.3']);
  const xids = new Set(r.ep.ofType(MESSAGE_TYPE.DISCOVER).map((s) => s.message.xid));
  t.equal(xids.size, 2, 'different xids');
  t.equal(r.transport.stats.unmatched, 0, 'every reply found its client');
  await a.stop();
  t.equal(r.transport.subscribers, 1);
  await b.stop();
});

t.test('garbage and foreign replies on port 68 do not disturb the client', async (t) => {
  const r = rig();
  const c = r.client();
  const events = record(c);
  for (const junk of [Buffer.alloc(0), Buffer.from('hello'), Buffer.alloc(300, 0xff), Buffer.alloc(240)]) r.ep.inject(junk);
  r.ep.error(new Error('ECONNREFUSED'));
  c.start();
  await settle();
  t.same(events, ['bound 10.0.0.2']);
  t.equal(r.transport.stats.malformed, 4);
  t.ok(r.lines.some((l) => /receive error: ECONNREFUSED/.test(l)));
  await c.stop();
});

t.test('start twice is a usage error; a stopped client can start again', async (t) => {
  const r = rig();
  const c = r.client();
  c.start();
  t.throws(() => c.start(), { code: 'RS_DHCP_CLIENT' });
  await settle();
  await c.stop();
  c.start();
  await settle();
  t.equal(c.state, 'bound');
  await c.stop();
});

t.test('clientIdTypeByte puts a 0 type byte before the identifier text (RFC 2132 §9.14)', async (t) => {
  const r = rig();
  const c = r.client(MGMT, { clientIdTypeByte: true });
  c.start();
  await settle();
  const id = r.ep.ofType(MESSAGE_TYPE.DISCOVER)[0]?.message.options.get(OPTION.CLIENT_ID);
  t.equal(id?.[0], 0);
  t.equal(id?.subarray(1).toString('latin1'), MGMT);
  t.equal(c.state, 'bound', 'a server that reads it as text (clientIdText) finds the same reservation');
  await c.stop();
});
