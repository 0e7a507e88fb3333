// kill -9 under load: a load client (a relay agent in its own namespace, many concurrent DORAs
// and RELEASEs over a small pool) runs while `rackstrap serve` is killed with SIGKILL at random
// moments and restarted, several times. Every ACK seen on the wire is collected across restarts;
// no address may be ACKed to a client while another client holds it (ACKed, not released), and
// every lease the clients hold at the end is in the server's lease log.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { readLeaseLog } from '../../src/dhcp-server/lease-log.js';
import { makeLab } from '../helpers/netns.js';
import { Rng } from '../dhcp-packet/helpers/fuzz.js';
import { exampleText } from './helpers/fixtures.js';
import { ServeProcess } from './helpers/serve.js';
import { checkWire, LoadClient } from './helpers/load-client.js';

const SEED = 0x6b1119;
const CLIENTS = 96;
const POOL = { start: '10.3.10.1', end: '10.3.10.64' }; // 64 addresses for 96 clients: reuse is forced
const CONCURRENCY = 16;
const KILLS = 5;
/** ACKs each server gives before it may be killed (bounded wait): 5 × 100 is the traffic asserted below. */
const ACKS_PER_LIFE = 100;

t.test('kill -9 at random moments under load: no address is ever ACKed to two clients', async (t) => {
  const lab = await makeLab(t, { prefix: 'rssrv' });
  const dir = t.testdir();
  const config = join(dir, 'cluster.yaml');
  writeFileSync(config, exampleText({ pools: { 2: POOL } }));
  const srv = await lab.ns('ksrv');
  const cli = await lab.ns('kcli');
  await lab.veth(srv, 'srv0', cli, 'c0');
  await lab.ip(srv, 'addr', 'add', '10.3.0.1/16', 'dev', 'srv0');
  await lab.ip(cli, 'addr', 'add', '10.3.0.2/16', 'dev', 'c0');
  const leaseFile = join(dir, 'leases.log');
  const serveArgs = { config, interfaces: ['srv0'], leaseFile, logLevel: 'warn' };

  const rng = new Rng(SEED);
  const load = await LoadClient.open(lab, cli, { server: '10.3.0.1', giaddr: '10.3.0.2', side: 0, rng, clients: CLIENTS, concurrency: CONCURRENCY });

  let server = await ServeProcess.ready(lab, srv, serveArgs);
  t.teardown(() => load.stop());
  load.start();
  const acksAtKill: number[] = [];
  for (let k = 0; k < KILLS; k++) {
    // A random moment, once this server has answered a share of the traffic (a fast restart on a
    // busy machine would otherwise leave too little load between the kills to mean something).
    const since = load.stats.acks;
    await new Promise((r) => setTimeout(r, 300 + rng.int(900)));
    for (const until = performance.now() + 10_000; load.stats.acks - since < ACKS_PER_LIFE && performance.now() < until; ) await new Promise((r) => setTimeout(r, 20));
    acksAtKill.push(load.stats.acks);
    server.signal('SIGKILL');
    const exit = await server.exited;
    t.equal(exit.signal, 'SIGKILL', `kill ${k + 1}: killed mid-load after ${load.stats.acks} ACKs`);
    server = await ServeProcess.ready(lab, srv, serveArgs);
  }
  await new Promise((r) => setTimeout(r, 800));
  await load.stop();
  server.signal('SIGTERM');
  t.same(await server.exited, { code: 0, signal: null }, 'last server stops cleanly');

  t.comment(`load: ${JSON.stringify(load.stats)}; ACKs before each kill: ${acksAtKill.join(', ')}`);
  t.ok(load.stats.acks > 500, `enough traffic to mean something (${load.stats.acks} ACKs)`);
  t.ok(acksAtKill.every((n, i) => i === 0 || n > acksAtKill[i - 1]!), 'every restarted server answered before it was killed again');
  t.ok(load.stats.naks > 0 || load.stats.acks > 0, 'the pool was contended');

  const { violations, holders } = checkWire(load.events);
  t.same(violations.slice(0, 10), [], `no address ACKed to two clients (${violations.length} violations)`);
  t.ok(holders.size > 0, `${holders.size} addresses held at the end`);

  // Every address a client still holds is in the lease log the last server left.
  const replay = await readLeaseLog(leaseFile);
  t.same(replay.skipped, [], 'the log the last server left has no bad line');
  const onDisk = new Map<string, string>();
  for (const r of replay.records) if (r.op === 'bind') onDisk.set(r.address, r.client);
  const missing = [...holders].filter(([address, client]) => onDisk.get(address) !== client);
  t.same(missing, [], 'every held lease is on disk, with its holder');
});
