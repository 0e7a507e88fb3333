// A server that is alive but held up — its process not scheduled for a while, as on a loaded
// machine — is not taken for dead: the active is not taken over and the standby is not dropped,
// as long as the hold-up is shorter than the connection and acknowledgment timeouts (by default
// the dead time less three heartbeats: 700 ms). SIGSTOP/SIGCONT hold a process up exactly.
// The same hold-up with the old 300 ms timeouts drops the connection: the check can fail.

import t from 'tap';
import { Rng } from '../dhcp-packet/helpers/fuzz.js';
import type { ServeProcess } from '../dhcp-server/helpers/serve.js';
import { checkWire, LoadClient, pairLab, startNode, waitRole, CLIENT_ADDRESS, SERVICE } from './helpers/pair-lab.js';

const POOL = { start: '10.3.10.1', end: '10.3.10.250' };
const HOLD_MS = 400;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function holdUp(s: ServeProcess, ms: number): Promise<void> {
  s.signal('SIGSTOP');
  await sleep(ms);
  s.signal('SIGCONT');
}

const changes = (s: ServeProcess, from: number): string[] =>
  s.lines.slice(from).filter((x) => x.event === 'pair-role' || x.event === 'pair-disconnected').map((x) => `${x.event} ${String(x.role ?? '')} ${String(x.reason ?? '')}`);

t.test(`held up for ${HOLD_MS} ms again and again under load, neither server is taken for dead`, async (t) => {
  const l = await pairLab(t, 'qpl', POOL);
  const a = await startNode(l, 'a');
  const b = await startNode(l, 'b');
  await waitRole(a, 'active');
  await waitRole(b, 'standby');
  await a.waitFor((x) => x.event === 'service-address-taken', 15_000, 'the service address on A');
  const load = await LoadClient.open(l.lab, l.ns.ca, { server: SERVICE, giaddr: CLIENT_ADDRESS.a, side: 1, rng: new Rng(0x10ad), clients: 160, concurrency: 8, stepTimeoutMs: 1500 });
  t.teardown(() => load.stop());
  load.start();
  await sleep(1000);
  const from = { a: a.lines.length, b: b.lines.length };
  for (let i = 0; i < 3; i++) {
    await holdUp(a, HOLD_MS);
    await sleep(800);
    await holdUp(b, HOLD_MS);
    await sleep(800);
  }
  const acks = load.stats.acks;
  await sleep(1000);
  t.ok(load.stats.acks > acks, `the active still answers after the last hold-up (${load.stats.acks - acks} ACKs in the last second)`);
  await load.stop();
  t.same(changes(a, from.a), [], 'A: no role change, no connection dropped');
  t.same(changes(b, from.b), [], 'B: no takeover, no connection dropped');
  t.same(checkWire(load.events).violations.slice(0, 5), [], `no address ACKed to two clients (${load.stats.acks} ACKs)`);
  a.signal('SIGTERM');
  b.signal('SIGTERM');
  await Promise.all([a.exited, b.exited]);
});

t.test(`with 300 ms timeouts the same ${HOLD_MS} ms hold-up of the active drops the connection`, async (t) => {
  const l = await pairLab(t, 'qpm', POOL);
  const old = ['--pair-connection-timeout-ms', '300', '--pair-ack-timeout-ms', '300'];
  const a = await startNode(l, 'a', old);
  const b = await startNode(l, 'b', old);
  await waitRole(a, 'active');
  await waitRole(b, 'standby');
  const from = { a: a.lines.length, b: b.lines.length };
  await holdUp(a, HOLD_MS);
  await sleep(1000);
  const dropped = [...changes(a, from.a), ...changes(b, from.b)].filter((x) => x.startsWith('pair-disconnected'));
  t.ok(dropped.length > 0, `the connection was dropped: ${dropped.join('; ')}`);
  a.signal('SIGTERM');
  b.signal('SIGTERM');
  await Promise.all([a.exited, b.exited]);
});
