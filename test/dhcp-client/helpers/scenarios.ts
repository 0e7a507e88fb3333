// The client against a real server in namespaces. One LAN per test file:
//
//   filer (no addresses)            sw                       srv
//   mgmt0 ────────────────────────── br0 ──────────────────── eth0 10.20.0.1/24 (Kea or dnsmasq)
//   eth1  ────────────────────────── br1   (nothing there)
//
// Each scenario uses its own identifiers, so they do not disturb each other's leases.

import { once } from 'node:events';
import type { Test } from 'tap';
import { createMessage, encodeMessage, MESSAGE_TYPE, OP } from '../../../src/dhcp-packet/index.js';
import { openDhcpClient, type DhcpClient, type OpenDhcpClientOptions } from '../../../src/dhcp-client/client.js';
import type { DhcpLease } from '../../../src/dhcp-client/lease.js';
import type { LogLevel } from '../../../src/dhcp-client/log.js';
import { requestTopology } from '../../../src/dhcp-client/topology-request.js';
import { TransportPool } from '../../../src/dhcp-client/transport.js';
import { openInterfaceSocket } from '../../../src/net/interface-socket.js';
import { parseSubOptions } from '../../../src/options/wire/index.js';
import { makeLab, type Lab } from '../../helpers/netns.js';
import { startServer, type RunningServer, type ServerKind, type ServerSetup } from './servers.js';

export const PREFIX = 'rscli';
const CID = '02:00:00:00:C1:00';
const BASE_MAC = '02:00:00:00:01:00';
const VENDOR_CLASS = 'rackstrap';
const SERVER = '10.20.0.1';
const SUB_OPTIONS = [
  { code: 1, text: 'rackstrap/1.0 gen=7' },
  { code: 10, text: 'eth0 mtu=1500' },
  { code: 11, text: 'mgmt0 on=eth0' },
];

export const ID = {
  filer: `${CID}:mgmt0:Filer1`,
  mysqlData: `${CID}:mgmt0:MySQLDataNode1`,
  mysqlApp: `${CID}:mgmt0:MySQLAppNode1`,
  renew: `${CID}:san0:Filer1`,
  nak: `${CID}:data0:VsvrA:0`,
  expiry: `${CID}:data0:VsvrA:1`,
  topology: `${CID}:${BASE_MAC}`,
} as const;

const RESERVED: Record<string, string> = {
  [ID.filer]: '10.20.0.2',
  [ID.mysqlData]: '10.20.0.3',
  [ID.mysqlApp]: '10.20.0.4',
  [ID.renew]: '10.20.0.5',
  [ID.nak]: '10.20.0.6',
  [ID.expiry]: '10.20.0.7',
};

export interface Env {
  lab: Lab;
  filer: string;
  srv: string;
  server: RunningServer;
  pool: TransportPool;
  lines: string[];
  client(identifier: string, extra?: Partial<OpenDhcpClientOptions>): Promise<DhcpClient>;
}

/** Builds the LAN and starts `kind` with short lease times (T1 2 s, T2 3 s). */
export async function makeEnv(t: Test, kind: ServerKind, leaseSeconds: number): Promise<Env> {
  const lab = await makeLab(t, { prefix: PREFIX });
  const sw = await lab.ns('sw');
  const srv = await lab.ns('srv');
  const filer = await lab.ns('filer');
  await lab.bridge(sw, 'br0');
  await lab.bridge(sw, 'br1');
  await lab.link(srv, 'eth0', sw, 'br0');
  await lab.link(filer, 'mgmt0', sw, 'br0', { mac: '02:00:00:00:01:01' });
  await lab.link(filer, 'eth1', sw, 'br1', { mac: '02:00:00:00:01:02' });
  await lab.ip(srv, 'addr', 'add', `${SERVER}/24`, 'dev', 'eth0');
  const setup: ServerSetup = {
    ns: srv, ifname: 'eth0', address: SERVER, prefix: '10.20.0.0/24', netmask: '255.255.255.0', router: SERVER,
    reservations: Object.entries(RESERVED).map(([identifier, address]) => ({ identifier, address })),
    pool: { start: '10.20.0.100', end: '10.20.0.110' },
    leaseSeconds, t1: 2, t2: 3, vendorClass: VENDOR_CLASS, subOptions: SUB_OPTIONS,
  };
  const server = await startServer(t, lab, kind, setup);
  const lines: string[] = [];
  const log = (level: LogLevel, line: string): void => void lines.push(`${level}: ${line}`);
  const pool = new TransportPool({ log });
  const clients: DhcpClient[] = [];
  t.teardown(async () => {
    for (const c of clients) await c.stop();
  });
  return {
    lab, filer, srv, server, pool, lines,
    client: async (identifier, extra = {}) => {
      const c = await openDhcpClient({
        interface: 'mgmt0', netns: filer, identifier, vendorClass: VENDOR_CLASS, pool, log,
        timing: { retransmitBaseMs: 200, minRenewRetransmitMs: 500 }, ...extra,
      });
      clients.push(c);
      return c;
    },
  };
}

/** The next `event` of `emitter`, or a rejection naming what did not come. */
export async function next<T extends unknown[]>(emitter: DhcpClient, event: string, ms: number): Promise<T> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  try {
    return (await once(emitter, event, { signal: ac.signal })) as T;
  } catch (err) {
    if (ac.signal.aborted) throw new Error(`no '${event}' within ${ms} ms (client in ${emitter.state})`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Puts the lease's address on the interface, as the agent would (RENEW and RELEASE are unicast from it). */
async function configure(env: Env, lease: DhcpLease): Promise<void> {
  await env.lab.ip(env.filer, 'addr', 'add', `${lease.address}/${lease.prefixLength}`, 'broadcast', lease.broadcast, 'dev', lease.interface);
}
async function unconfigure(env: Env, lease: DhcpLease): Promise<void> {
  await env.lab.ip(env.filer, 'addr', 'del', `${lease.address}/${lease.prefixLength}`, 'dev', lease.interface);
}

async function inetAddresses(env: Env, ifname: string): Promise<string[]> {
  const links = await env.lab.ipJson<Array<{ addr_info: Array<{ family: string; local: string }> }>>(env.filer, 'addr', 'show', 'dev', ifname);
  return (links[0]?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => a.local);
}

export async function boundByTextIdentifier(t: Test, env: Env): Promise<void> {
  t.same(await inetAddresses(env, 'mgmt0'), [], 'mgmt0 has no IPv4 address');
  const handle = await env.pool.acquire('mgmt0', { netns: env.filer });
  t.teardown(() => handle.release());

  // Junk on port 68 first: not DHCP, a reply for nobody, a request. None of it may matter.
  const junk = await openInterfaceSocket({ ifname: 'eth0', port: 0, netns: env.srv });
  t.teardown(() => junk.close());
  const stray = (op: 1 | 2, xid: number): Buffer => encodeMessage(createMessage({ op, type: MESSAGE_TYPE.ACK, xid, yiaddr: '10.20.0.200' }));
  for (const buf of [Buffer.from('garbage'), Buffer.alloc(300, 0xee), Buffer.alloc(0), stray(OP.BOOTREPLY, 0x1234), stray(OP.BOOTREQUEST, 0x4321)]) {
    await junk.send(buf, 68, '255.255.255.255');
  }
  const until = Date.now() + 2000;
  while (handle.stats.received < 5 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  t.match(handle.stats, { received: 5, malformed: 3, unmatched: 1, notReplies: 1 }, 'junk counted, nothing thrown');

  const c = await env.client(ID.filer);
  const bound = next<[DhcpLease]>(c, 'bound', 5000);
  const started = performance.now();
  c.start();
  const [lease] = await bound;
  t.comment(`${env.server.kind}: DORA took ${(performance.now() - started).toFixed(1)} ms`);
  t.equal(lease.address, RESERVED[ID.filer], 'the reserved address, found by the text identifier');
  t.match(lease, { interface: 'mgmt0', identifier: ID.filer, prefixLength: 24, broadcast: '10.20.0.255', routers: [SERVER], serverId: SERVER });
  t.equal(lease.t1, 2);
  t.equal(lease.t2, 3);
  t.ok(lease.option43, 'option 43 came with the lease');
  t.same(await inetAddresses(env, 'mgmt0'), [], 'the client itself configures nothing');
  await c.stop();
}

export async function twoIdentifiersShareTheSocket(t: Test, env: Env): Promise<void> {
  const a = await env.client(ID.mysqlData);
  const b = await env.client(ID.mysqlApp);
  t.equal(env.pool.size, 1, 'one socket for mgmt0');
  const la = next<[DhcpLease]>(a, 'bound', 5000);
  const lb = next<[DhcpLease]>(b, 'bound', 5000);
  a.start();
  b.start();
  const [[leaseA], [leaseB]] = await Promise.all([la, lb]);
  t.equal(leaseA.address, RESERVED[ID.mysqlData]);
  t.equal(leaseB.address, RESERVED[ID.mysqlApp]);
  t.equal(env.pool.size, 1, 'still one socket');
  await a.stop();
  t.equal(env.pool.size, 1, 'kept while b uses it');
  await b.stop();
  t.equal(env.pool.size, 0, 'closed with the last client');
  t.throws(() => a.start(), { code: 'RS_DHCP_CLIENT' }, 'its socket is gone: no restart');
}

/** `releasedIn` reads the server's own record (lease file or log) for a RELEASE of the address. */
export async function renewKeepsTheAddressThenRelease(t: Test, env: Env, releasedIn: (server: RunningServer, address: string) => boolean): Promise<void> {
  const c = await env.client(ID.renew);
  const bound = next<[DhcpLease]>(c, 'bound', 5000);
  c.start();
  const [lease] = await bound;
  await configure(env, lease);
  const states: string[] = [];
  c.on('state', (_f, to) => states.push(to));
  const [renewed] = await next<[DhcpLease]>(c, 'renewed', 5000);
  t.equal(renewed.address, lease.address, 'RENEW keeps the address');
  t.same(states, ['renewing', 'bound'], 'renewed in RENEWING, by unicast');
  t.ok(renewed.obtainedAt - lease.obtainedAt >= 1900, `renewed at T1 (after ${renewed.obtainedAt - lease.obtainedAt} ms)`);
  t.ok(renewed.expiresAt! > lease.expiresAt!);
  t.notOk(releasedIn(env.server, lease.address), 'not released yet');
  await c.stop({ release: true });
  await unconfigure(env, lease);
  const until = Date.now() + 2000;
  while (!releasedIn(env.server, lease.address) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  t.ok(releasedIn(env.server, lease.address), 'the server recorded the RELEASE');
}

export async function nakOnWrongCachedAddress(t: Test, env: Env): Promise<void> {
  const c = await env.client(ID.nak);
  const nak = next<[{ address?: string; serverId?: string }]>(c, 'nak', 5000);
  const bound = next<[DhcpLease]>(c, 'bound', 5000);
  c.start({ cachedAddress: '10.20.0.66' });
  const [info] = await nak;
  t.equal(info.address, '10.20.0.66', 'NAK for the cached address');
  t.equal(info.serverId, SERVER);
  const [lease] = await bound;
  t.equal(lease.address, RESERVED[ID.nak], 'then DISCOVER finds the reserved one');
  await c.stop();
}

export async function topologyOnOneOfTwoInterfaces(t: Test, env: Env): Promise<void> {
  const started = performance.now();
  const offers = await requestTopology({
    interfaces: ['eth1', 'mgmt0', 'nosuch0'], netns: env.filer, vendorClass: VENDOR_CLASS, identifier: ID.topology,
    timeoutMs: 5000, timing: { retransmitBaseMs: 200 }, pool: env.pool, log: (l, s) => env.lines.push(`${l}: ${s}`),
  });
  t.comment(`${env.server.kind}: topology OFFER after ${(performance.now() - started).toFixed(1)} ms`);
  t.equal(offers.length, 1);
  const [offer] = offers;
  t.equal(offer?.interface, 'mgmt0', 'the interface that reaches the server');
  t.equal(offer?.serverId, SERVER);
  t.match(offer?.offeredAddress, /^10\.20\.0\.1(0\d|10)$/, 'offered from the bootstrap range');
  const subs = parseSubOptions(offer!.option43).sort((a, b) => a.code - b.code);
  t.same(subs, SUB_OPTIONS, 'option 43 sub-options as configured');
  t.ok(env.lines.some((l) => /skipping nosuch0/.test(l)), 'a missing interface is skipped, not fatal');
  t.equal(env.pool.size, 0, 'sockets released');
  // Never REQUESTed: nothing committed on the server.
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(env.server.leases().includes(offer!.offeredAddress), 'no lease for the bootstrap address');

  const quietStart = performance.now();
  const none = await requestTopology({
    interfaces: ['eth1'], netns: env.filer, vendorClass: VENDOR_CLASS, identifier: ID.topology, timeoutMs: 600,
    timing: { retransmitBaseMs: 100 }, pool: env.pool,
  });
  const took = performance.now() - quietStart;
  t.same(none, [], 'nothing on eth1: times out with no offer');
  t.ok(took >= 590 && took < 1500, `timed out cleanly after ${took.toFixed(0)} ms`);
  await t.rejects(
    requestTopology({ interfaces: ['nosuch0'], netns: env.filer, vendorClass: VENDOR_CLASS, identifier: ID.topology, timeoutMs: 100, pool: env.pool }),
    { code: 'RS_SOCKET' },
    'no interface at all is an error',
  );
}

export async function serverGoneRebindThenExpiry(t: Test, env: Env): Promise<void> {
  const c = await env.client(ID.expiry);
  const bound = next<[DhcpLease]>(c, 'bound', 5000);
  c.start();
  const [lease] = await bound;
  await configure(env, lease);
  const states: string[] = [];
  c.on('state', (_f, to) => states.push(to));
  await env.server.stop();
  const [expired] = await next<[DhcpLease]>(c, 'expired', lease.leaseTime * 1000 + 3000);
  const late = Date.now() - lease.expiresAt!;
  await unconfigure(env, expired);
  t.equal(expired.address, lease.address);
  t.same(states.slice(0, 3), ['renewing', 'rebinding', 'selecting'], 'RENEWING at T1, REBINDING at T2, then INIT -> SELECTING');
  t.ok(late >= -50 && late < 1000, `expired on time (${late} ms after the lease end)`);
  t.ok(env.lines.some((l) => l.includes(`${ID.expiry}: renewing -> rebinding`)), 'logged');
  await c.stop();
}
