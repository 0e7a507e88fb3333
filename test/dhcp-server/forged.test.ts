// Forged DECLINE and RELEASE against `rackstrap serve` in namespaces: a host with another MAC
// sends them with a filer's identifier (and for a pool client's address), broadcast and unicast,
// directly and as a forged relay. Nothing changes: no lease record is written, the filer keeps
// and confirms its address, a reservation without a lease is offered at once.
//
//   sw: br0 ── srv   (srv0 10.1.1.1/24, rackstrap serve)
//           ├─ filer (eth0, no address: the real Filer1 mgmt0)
//           ├─ pool  (eth0, no address: a client of the pool)
//           └─ evil  (eth0 10.1.1.66/24: the forger)

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { MESSAGE_TYPE } from '../../src/dhcp-packet/index.js';
import { readLeaseLog } from '../../src/dhcp-server/lease-log.js';
import { makeLab } from '../helpers/netns.js';
import { exampleText, id } from './helpers/fixtures.js';
import { Relay, typeOf } from './helpers/relay.js';
import { ServeProcess } from './helpers/serve.js';

const { DISCOVER, REQUEST, DECLINE, RELEASE, OFFER, ACK } = MESSAGE_TYPE;
const FILER_MAC = '02:00:00:00:aa:01';
const POOL_MAC = '02:00:00:00:aa:02';
const EVIL_MAC = '02:00:00:00:ee:01';
const M0 = id('mgmt0:Filer1');
const M1 = id('mgmt1:Filer1');

t.test('forged DECLINE and RELEASE from another MAC change nothing', async (t) => {
  const lab = await makeLab(t, { prefix: 'qva' });
  const dir = t.testdir();
  const config = join(dir, 'cluster.yaml');
  const leaseFile = join(dir, 'leases.log');
  writeFileSync(config, exampleText({ pools: { 0: { start: '10.1.1.100', end: '10.1.1.110' } } }));
  const sw = await lab.ns('sw');
  await lab.bridge(sw, 'br0');
  const srv = await lab.ns('srv');
  await lab.link(srv, 'srv0', sw, 'br0');
  await lab.ip(srv, 'addr', 'add', '10.1.1.1/24', 'dev', 'srv0');
  const hosts: Record<string, string> = {};
  for (const [name, mac] of [['filer', FILER_MAC], ['pool', POOL_MAC], ['evil', EVIL_MAC]] as const) {
    hosts[name] = await lab.ns(name);
    await lab.link(hosts[name]!, 'eth0', sw, 'br0', { mac });
  }
  await lab.ip(hosts.evil!, 'addr', 'add', '10.1.1.66/24', 'dev', 'eth0');
  const filer = await Relay.direct(lab.netnsPath(hosts.filer!), 'eth0');
  const pool = await Relay.direct(lab.netnsPath(hosts.pool!), 'eth0');
  const evil = await Relay.direct(lab.netnsPath(hosts.evil!), 'eth0');
  t.teardown(() => Promise.all([filer.close(), pool.close(), evil.close()]));
  const args = { config, interfaces: ['srv0'], leaseFile, logLevel: 'debug' };
  const server = await ServeProcess.ready(lab, srv, args);

  const f = await filer.dora(FILER_MAC, M0);
  t.equal(f.reply?.yiaddr, '10.1.1.2', 'Filer1 mgmt0 holds its reserved address');
  const p = await pool.dora(POOL_MAC);
  const poolAddress = p.reply?.yiaddr;
  t.equal(typeOf(p.reply), ACK, `the pool client holds ${poolAddress}`);
  const recordsBefore = (await readLeaseLog(leaseFile)).records.length;

  // The forgeries: each is answered by silence, and each must show in the log as not held.
  const forged: Array<Parameters<Relay['ask']>[0]> = [
    { type: DECLINE, mac: EVIL_MAC, clientId: M0, requested: '10.1.1.2', serverId: '10.1.1.1' },
    { type: DECLINE, mac: EVIL_MAC, clientId: M0, requested: '10.1.1.2' },
    { type: DECLINE, mac: EVIL_MAC, clientId: M0, requested: '10.1.1.2', serverId: '10.1.1.1', giaddr: '10.1.1.66' },
    { type: DECLINE, mac: FILER_MAC, clientId: M1, requested: '10.1.1.3', serverId: '10.1.1.1' },
    { type: DECLINE, mac: EVIL_MAC, requested: poolAddress!, serverId: '10.1.1.1' },
    { type: RELEASE, mac: EVIL_MAC, clientId: M0, ciaddr: '10.1.1.2', serverId: '10.1.1.1', to: '10.1.1.1' },
    { type: RELEASE, mac: EVIL_MAC, clientId: M0, ciaddr: '10.1.1.2', serverId: '10.1.1.1' },
    { type: RELEASE, mac: EVIL_MAC, clientId: M0, ciaddr: '10.1.1.2', serverId: '10.1.1.1', giaddr: '10.1.1.66', to: '10.1.1.1' },
    { type: RELEASE, mac: FILER_MAC, clientId: M1, ciaddr: '10.1.1.3', serverId: '10.1.1.1', to: '10.1.1.1' },
    { type: RELEASE, mac: EVIL_MAC, ciaddr: poolAddress!, serverId: '10.1.1.1', to: '10.1.1.1' },
  ];
  const seen = server.exchanges().length;
  await Promise.all(forged.map((r) => evil.ask(r, 300)));
  await server.waitFor(() => server.exchanges().length >= seen + forged.length, 5000, 'the forged packets in the log');
  const results = server.exchanges().slice(seen).map((l) => `${String(l.type)} ${l.result}`).sort();
  t.same(results, [...Array(5).fill('DECLINE decline-not-held'), ...Array(5).fill('RELEASE release-not-held')], 'every forgery refused as not held by its sender');

  const after = (await readLeaseLog(leaseFile)).records;
  t.equal(after.length, recordsBefore, 'no lease record written');
  t.same(after.filter((r) => r.op === 'release' || r.op === 'decline'), [], 'no release or quarantine on disk');

  const reboot = await filer.ask({ type: REQUEST, mac: FILER_MAC, clientId: M0, requested: '10.1.1.2' });
  t.equal(typeOf(reboot), ACK, 'Filer1 mgmt0 confirms its address');
  const m1 = await filer.ask({ type: DISCOVER, mac: FILER_MAC, clientId: M1 });
  t.equal(typeOf(m1), OFFER, 'mgmt1, never leased, is offered its address at once');
  t.equal(m1?.yiaddr, '10.1.1.3');
  const poolRenew = await pool.ask({ type: REQUEST, mac: POOL_MAC, requested: poolAddress! });
  t.equal(typeOf(poolRenew), ACK, 'the pool client keeps its address');
  t.equal(poolRenew?.yiaddr, poolAddress);

  server.signal('SIGTERM');
  t.equal((await server.exited).code, 0);
});
