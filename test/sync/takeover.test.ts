// kill -9 the active server of a pair under load: the standby answers within a second of the
// kill, every lease a client was ACKed is in the new active's table, no address is ACKed to two
// clients; the killed server comes back, copies the table before it serves and settles as the
// standby.

import t from 'tap';
import { Rng } from '../dhcp-packet/helpers/fuzz.js';
import { BIN } from '../dhcp-server/helpers/serve.js';
import { checkWire, LoadClient, pairLab, roleOf, startNode, tableOf, waitRole, CLIENT_ADDRESS, SERVICE, serveArgs } from './helpers/pair-lab.js';

const POOL = { start: '10.3.10.1', end: '10.3.10.250' };

t.test('kill -9 of the active under load: the standby takes over within a second, nothing acknowledged is lost', async (t) => {
  const l = await pairLab(t, 'qpa', POOL);
  const a = await startNode(l, 'a');
  const b = await startNode(l, 'b');
  await waitRole(a, 'active');
  await waitRole(b, 'standby');
  t.pass(`A active, B standby (${a.lines.find((x) => x.event === 'pair-resynced')?.ms} ms to exchange tables)`);

  const load = await LoadClient.open(l.lab, l.ns.ca, { server: SERVICE, giaddr: CLIENT_ADDRESS.a, side: 1, rng: new Rng(0x5a11), clients: 160, concurrency: 12, stepTimeoutMs: 250 });
  t.teardown(() => load.stop());
  await a.waitFor((x) => x.event === 'service-address-taken', 15_000, 'the service address on A');
  load.start();
  // Load for at least 1.5 s and until the active has answered a few dozen clients (a busy machine
  // may need longer), then the kill.
  const loadStart = Date.now();
  await new Promise((r) => setTimeout(r, 1500));
  while (load.stats.acks <= 20 && Date.now() - loadStart < 15_000) await new Promise((r) => setTimeout(r, 100));
  const acksBefore = load.stats.acks;
  const killedAt = performance.now();
  a.signal('SIGKILL');
  await a.exited;
  await waitRole(b, 'active-alone', 5000);
  await new Promise((r) => setTimeout(r, 1500));
  const first = load.firstAckAfter(killedAt);
  await load.stop();

  t.ok(acksBefore > 20, `load before the kill: ${acksBefore} ACKs`);
  t.ok(first, 'the standby answered after the kill');
  const takeoverMs = first ? first.at - killedAt : Infinity;
  t.ok(takeoverMs < 1000, `first ACK ${Math.round(takeoverMs)} ms after kill -9 (bound: 1000 ms)`);

  const st = await l.lab.exec(l.ns.b, process.execPath, [BIN, 'pair-status', '--lease-file', serveArgs(l, 'b').leaseFile], { reject: false });
  t.match(st.stdout, /^node-b: active-alone since .*\n {2}partner {5}node-a · not heard/, `pair-status shows the takeover:\n${st.stdout}`);
  t.match(st.stdout, /service {5}10\.3\.0\.1\/16 on lan0 · held here/);

  // Rejoin: A returns, copies B's table before answering, and settles as the standby.
  const a2 = await startNode(l, 'a');
  await waitRole(a2, 'standby');
  t.equal(roleOf(b), 'active', 'B is the active after A rejoined');
  const resync = a2.lines.find((x) => x.event === 'pair-resynced');
  t.ok(resync, `A copied B's table (${resync?.leases} leases in ${resync?.ms} ms)`);

  b.signal('SIGTERM');
  a2.signal('SIGTERM');
  t.same(await b.exited, { code: 0, signal: null }, 'B stops cleanly');
  t.same(await a2.exited, { code: 0, signal: null }, 'A stops cleanly');

  const { violations, holders } = checkWire(load.events);
  t.same(violations.slice(0, 10), [], `no address ACKed to two clients (${violations.length} violations, ${load.stats.acks} ACKs)`);
  const tableB = await tableOf(serveArgs(l, 'b').leaseFile);
  const lost = [...holders].filter(([address, client]) => tableB.get(address) !== client);
  t.same(lost.slice(0, 10), [], `every lease held on the wire is in B's table (${holders.size} held, ${lost.length} missing)`);
  const tableA = await tableOf(serveArgs(l, 'a').leaseFile);
  t.same([...tableA].sort(), [...tableB].sort(), 'the rejoined standby holds the same table');
  t.comment(`load ${JSON.stringify(load.stats)}`);
});
