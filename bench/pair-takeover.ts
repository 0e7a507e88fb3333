// Takeover of a rackstrap server pair: kill -9 of the active under load, time from the kill to the
// first ACK the standby sends (seen on the wire by the load's relay), over N trials (default 20);
// the killed server comes back, copies the table and is the standby for the next trial. Then the
// table copy (resync) of 10,000 leases: a server with 10,000 leases on disk, its partner started
// empty, the partner's `pair-resynced` figure. Namespaces as in test/sync (two servers, a client
// network, a sync link). One command: `npm run build && node dist/bench/pair-takeover.js [--trials N]`.
// Kea HA is measured by bench/pair-kea-ha.ts when present (see bench/README.md: what is not yet run).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../test/dhcp-packet/helpers/fuzz.js';
import { CLIENT_ADDRESS, LoadClient, pairLab, roleOf, SERVICE, serveArgs, startNode, waitRole } from '../test/sync/helpers/pair-lab.js';
import type { ServeProcess } from '../test/dhcp-server/helpers/serve.js';
import { toText } from '../src/dhcp-server/address.js';
import { formatLine, LEASE_LOG_FORMAT } from '../src/dhcp-server/lease-line.js';

const args = process.argv.slice(2);
const TRIALS = Number(args[args.indexOf('--trials') + 1] ?? 20) || 20;
const RESYNC_LEASES = 10_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const teardowns: Array<() => unknown> = [];
const host = { teardown: (fn: () => unknown) => void teardowns.push(fn), testdir: () => mkdtempSync(join(tmpdir(), 'rs-pair-bench-')) };
const load = (): string => loadavg().map((x) => x.toFixed(1)).join(' ');
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))]!;

async function takeover(): Promise<number[]> {
  const l = await pairLab(host, 'qpz', { start: '10.3.10.1', end: '10.3.10.250' });
  const nodes: Record<'a' | 'b', ServeProcess> = { a: await startNode(l, 'a'), b: await startNode(l, 'b') };
  await waitRole(nodes.a, 'active', 60_000);
  await waitRole(nodes.b, 'standby', 60_000);
  const client = await LoadClient.open(l.lab, l.ns.ca, { server: SERVICE, giaddr: CLIENT_ADDRESS.a, side: 1, rng: new Rng(0x7a4e), clients: 200, concurrency: 12, stepTimeoutMs: 250 });
  teardowns.push(() => client.stop());
  client.start();
  const out: number[] = [];
  let active: 'a' | 'b' = 'a';
  for (let i = 0; i < TRIALS; i++) {
    const standby: 'a' | 'b' = active === 'a' ? 'b' : 'a';
    const before = client.stats.acks;
    const t0 = Date.now();
    while (client.stats.acks < before + 20 && Date.now() - t0 < 10_000) await sleep(50);
    const killedAt = performance.now();
    nodes[active].signal('SIGKILL');
    await nodes[active].exited;
    await waitRole(nodes[standby], 'active-alone', 10_000);
    let first = client.firstAckAfter(killedAt);
    const deadline = Date.now() + 10_000;
    while (!first && Date.now() < deadline) {
      await sleep(20);
      first = client.firstAckAfter(killedAt);
    }
    const ms = first ? first.at - killedAt : Number.NaN;
    out.push(ms);
    process.stderr.write(`trial ${i + 1}: first ACK from the standby ${Math.round(ms)} ms after kill -9 (load ${load()})\n`);
    nodes[active] = await startNode(l, active);
    await waitRole(nodes[active], 'standby', 60_000);
    if (roleOf(nodes[standby]) !== 'active') await waitRole(nodes[standby], 'active', 30_000);
    active = standby;
  }
  await client.stop();
  for (const n of Object.values(nodes)) n.signal('SIGTERM');
  await Promise.all(Object.values(nodes).map((n) => n.exited));
  return out;
}

async function resync(): Promise<{ leases: number; ms: number; drops: string[] }> {
  const l = await pairLab(host, 'qpy', { start: '10.3.64.1', end: '10.3.127.254' });
  // A's lease log: 10,000 live leases (what its lease log would hold after a day of clients).
  const now = Date.now();
  const lines: string[] = [];
  for (let i = 0; i < RESYNC_LEASES; i++) {
    const mac = `02:11:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:01`;
    lines.push(formatLine({ op: 'bind', address: toText(0x0a034001 + i), client: `hw:1:${mac}`, label: mac, hw: mac, expires: now + 86_400_000, at: now }));
  }
  writeFileSync(serveArgs(l, 'a').leaseFile, `${formatLine({ op: 'header', format: LEASE_LOG_FORMAT, at: now })}\n${lines.join('\n')}\n`);
  const a = await startNode(l, 'a');
  await waitRole(a, 'active-alone', 60_000);
  const b = await startNode(l, 'b');
  const line = await b.waitFor((x) => x.event === 'pair-resynced', 60_000, 'the table copy');
  const drops = b.lines.filter((x) => x.event === 'pair-disconnected').map((x) => String(x.reason));
  a.signal('SIGTERM');
  b.signal('SIGTERM');
  await Promise.all([a.exited, b.exited]);
  return { leases: Number(line.leases), ms: Number(line.ms), drops };
}

async function main(): Promise<void> {
  const loadBefore = load();
  const trials = await takeover();
  const ok = trials.filter((x) => Number.isFinite(x));
  const r = await resync();
  const loadAfter = load();
  process.stdout.write([
    `pair takeover, kill -9 of the active under load -> first ACK from the standby (${trials.length} trials; load average ${loadBefore} before, ${loadAfter} after; shared machine)`,
    '',
    '| server | trials | median ms | p90 ms | worst ms | no ACK within 10 s |',
    '|---|---|---|---|---|---|',
    `| rackstrap pair (heartbeat 100 ms, dead 500 ms) | ${ok.length} | ${Math.round(pct(ok, 0.5))} | ${Math.round(pct(ok, 0.9))} | ${Math.round(Math.max(...ok))} | ${trials.length - ok.length} |`,
    '',
    `resync: ${r.leases} leases copied to a returning standby in ${r.ms} ms (from its hello to the table on its disk)${r.drops.length ? `; before it, ${r.drops.length} connection(s) dropped: ${r.drops.join('; ')}` : ''}`,
    '',
  ].join('\n'));
}

main()
  .catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const fn of teardowns.reverse()) await Promise.resolve(fn()).catch(() => undefined);
    void rmSync;
  });
