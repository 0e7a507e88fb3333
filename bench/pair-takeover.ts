// Takeover of a server pair, side by side in one run: kill -9 of the active under load, time from
// the kill to the first ACK the other server sends (as the load's relay sees it), over N trials:
//  - a rackstrap pair (two `rackstrap serve`, the relay sends to the service address);
//  - a Kea hot-standby pair from `rackstrap gen kea --ha` with `--ha-timing fast` (the fastest
//    settings that keep Kea's split-brain guard: src/generate/kea-ha.ts says why), N trials;
//  - the same with Kea's defaults (partner-down after a minute and more than 10 unanswered
//    clients), fewer trials (--kea-default-trials, default 2): each takes over a minute.
// The relay sends each request to both Kea servers, as a relay in front of a Kea pair does, and
// fills in `secs` as real clients do (Kea's failure detection reads it). The killed server comes
// back after each trial (a rackstrap server as the standby, so the trials alternate; Kea's
// primary as the primary again, after it has copied the leases). Then the table copy (resync) of
// 10,000 leases: a server with 10,000 leases on disk, its partner started empty, the partner's
// `pair-resynced` figure (several rounds). Namespaces as in test/sync.
// One command: `npm run build && node dist/bench/pair-takeover.js [--trials N] [--kea-default-trials M] [--no-kea]`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../test/dhcp-packet/helpers/fuzz.js';
import { CLIENT_ADDRESS, LoadClient, pairLab, roleOf, SERVICE, serveArgs, startNode, waitRole, type PairLab } from '../test/sync/helpers/pair-lab.js';
import type { ServeProcess } from '../test/dhcp-server/helpers/serve.js';
import { toText } from '../src/dhcp-server/address.js';
import { formatLine, LEASE_LOG_FORMAT } from '../src/dhcp-server/lease-line.js';
import { KEA_ADDRESS, KeaServer, keaPairFile, type KeaSelf, type KeaTiming } from './pair-kea.js';
import { RelayLoad } from './pair-relay.js';

const args = process.argv.slice(2);
const flag = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 && Number(args[i + 1]) > 0 ? Number(args[i + 1]) : def;
};
const TRIALS = flag('--trials', 20);
const KEA_DEFAULT_TRIALS = flag('--kea-default-trials', 2);
const RESYNC_ROUNDS = flag('--resync-rounds', 3);
const WITH_KEA = !args.includes('--no-kea');
/** --only rackstrap,kea-fast,kea-default,resync: a part of the run (to try one out). */
const ONLY = args.includes('--only') ? new Set(args[args.indexOf('--only') + 1]!.split(',')) : undefined;
const runs = (part: string): boolean => ONLY === undefined || ONLY.has(part);
/** The rackstrap pair's load: `relay` (the Kea rows' relay, default) or `project` (the CI takeover test's load client). */
const CLIENT = args.includes('--client') ? args[args.indexOf('--client') + 1]! : 'relay';
const RESYNC_LEASES = 10_000;
const POOL = { start: '10.3.10.1', end: '10.3.10.250' };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const teardowns: Array<() => unknown> = [];
const host = {
  teardown: (fn: () => unknown) => void teardowns.push(fn),
  testdir: () => {
    const d = mkdtempSync(join(tmpdir(), 'rq-pair-bench-'));
    teardowns.push(() => rmSync(d, { recursive: true, force: true }));
    return d;
  },
};
const load = (): string => loadavg().map((x) => x.toFixed(1)).join(' ');
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))]!;
const log = (s: string): void => void process.stderr.write(`${s}\n`);

interface Row {
  server: string;
  settings: string;
  trials: number[];
  capS: number;
}

async function relay(l: PairLab, servers: string[], side: number): Promise<RelayLoad> {
  const r = await RelayLoad.open(l.lab.netnsPath(l.ns.ca), 'c0', { servers, giaddr: CLIENT_ADDRESS.a, side, clients: 200, workers: 24, retransmitMs: 250 });
  teardowns.push(() => r.stop());
  r.start();
  return r;
}

async function waitAcks(r: RelayLoad, n: number, servers?: string[]): Promise<void> {
  const from = r.acks.length;
  const t0 = Date.now();
  while (r.acks.slice(from).filter((a) => !servers || servers.includes(a.server)).length < n && Date.now() - t0 < 30_000) await sleep(50);
}

async function firstAck(r: RelayLoad, after: number, capMs: number, servers?: string[]): Promise<number> {
  const deadline = Date.now() + capMs;
  for (;;) {
    const a = r.firstAckAfter(after, servers);
    if (a) return a.at - after;
    if (Date.now() > deadline) return Number.NaN;
    await sleep(20);
  }
}

async function takeoverRackstrap(): Promise<Row> {
  const l = await pairLab(host, 'rqt', POOL);
  const nodes: Record<'a' | 'b', ServeProcess> = { a: await startNode(l, 'a'), b: await startNode(l, 'b') };
  await waitRole(nodes.a, 'active', 60_000);
  await waitRole(nodes.b, 'standby', 60_000);
  const project = CLIENT === 'project' ? await LoadClient.open(l.lab, l.ns.ca, { server: SERVICE, giaddr: CLIENT_ADDRESS.a, side: 1, rng: new Rng(0x7a4e), clients: 200, concurrency: 12, stepTimeoutMs: 250 }) : undefined;
  if (project) {
    teardowns.push(() => project.stop());
    project.start();
  }
  const r = project ? undefined : await relay(l, [SERVICE], 1);
  const acks = (): number => (project ? project.stats.acks : r!.acks.length);
  const out: number[] = [];
  let active: 'a' | 'b' = 'a';
  for (let i = 0; i < TRIALS; i++) {
    const standby: 'a' | 'b' = active === 'a' ? 'b' : 'a';
    const before = acks();
    for (const t0 = Date.now(); acks() < before + 20 && Date.now() - t0 < 30_000;) await sleep(50);
    const killedAt = performance.now();
    nodes[active].signal('SIGKILL');
    await nodes[active].exited;
    let ms = Number.NaN;
    if (project) {
      for (const t0 = Date.now(); Date.now() - t0 < 10_000; await sleep(20)) {
        const first = project.firstAckAfter(killedAt);
        if (first) {
          ms = first.at - killedAt;
          break;
        }
      }
    } else ms = await firstAck(r!, killedAt, 10_000);
    out.push(ms);
    log(`rackstrap trial ${i + 1}: first ACK from the standby ${Math.round(ms)} ms after kill -9 (load ${load()})`);
    nodes[active] = await startNode(l, active);
    await waitRole(nodes[active], 'standby', 60_000);
    if (roleOf(nodes[standby]) !== 'active') await waitRole(nodes[standby], 'active', 30_000);
    active = standby;
  }
  await (project ?? r!).stop();
  for (const n of Object.values(nodes)) n.signal('SIGTERM');
  await Promise.all(Object.values(nodes).map((n) => n.exited));
  return { server: `rackstrap pair (${project ? 'the takeover test\'s load client' : 'the relay'})`, settings: 'heartbeat 100 ms, partner dead 1000 ms (kill -9 is seen sooner: the kernel closes the sync connection)', trials: out, capS: 10 };
}

async function takeoverKea(timing: KeaTiming, trials: number): Promise<Row> {
  const l = await pairLab(host, timing === 'fast' ? 'rqf' : 'rqd', POOL);
  const files = { primary: await keaPairFile(l, l.dir, 'primary', timing), standby: await keaPairFile(l, l.dir, 'standby', timing) };
  const start = (self: KeaSelf): KeaServer => {
    const k = new KeaServer(l, self, files[self].file, join(l.dir, `run-${self}`));
    teardowns.push(() => k.stop());
    return k;
  };
  const settle = timing === 'fast' ? 60_000 : 180_000;
  let primary = start('primary');
  const standby = start('standby');
  await primary.waitState('HOT-STANDBY', settle);
  await standby.waitState('HOT-STANDBY', settle);
  const r = await relay(l, [KEA_ADDRESS.primary, KEA_ADDRESS.standby], 2);
  const capMs = timing === 'fast' ? 30_000 : 240_000;
  const out: number[] = [];
  for (let i = 0; i < trials; i++) {
    await waitAcks(r, 20, [KEA_ADDRESS.primary]);
    const killedAt = performance.now();
    primary.kill();
    await primary.exited;
    const ms = await firstAck(r, killedAt, capMs, [KEA_ADDRESS.standby]);
    out.push(ms);
    log(`kea ${timing} trial ${i + 1}: first ACK from the standby ${Math.round(ms)} ms after kill -9 (standby ${standby.state}; load ${load()})`);
    if (i === trials - 1) break;
    const back = performance.now();
    primary = start('primary');
    await primary.waitState('HOT-STANDBY', settle, back);
    await standby.waitState('HOT-STANDBY', settle, back);
  }
  await r.stop();
  primary.stop();
  standby.stop();
  await Promise.all([primary.exited, standby.exited]);
  const h = files.primary.ha;
  return {
    server: `Kea HA hot-standby, ${timing === 'fast' ? 'fastest safe settings' : 'defaults'}`,
    settings: `heartbeat-delay ${h['heartbeat-delay']}, max-response-delay ${h['max-response-delay']}, max-ack-delay ${h['max-ack-delay']}, max-unacked-clients ${h['max-unacked-clients']}`,
    trials: out,
    capS: capMs / 1000,
  };
}

async function resync(round: number): Promise<{ leases: number; ms: number; drops: string[] }> {
  const l = await pairLab(host, `rqy${String.fromCharCode(97 + round)}`, { start: '10.3.64.1', end: '10.3.127.254' });
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

function row(r: Row): string {
  const ok = r.trials.filter((x) => Number.isFinite(x));
  const f = (x: number): string => (ok.length ? `${Math.round(x)} ms` : '–');
  return `| ${r.server} | ${r.settings} | ${r.trials.length} | ${f(pct(ok, 0.5))} | ${f(pct(ok, 0.9))} | ${f(Math.max(...ok))} | ${r.trials.length - ok.length} (cap ${r.capS} s) |`;
}

async function main(): Promise<void> {
  const loadBefore = load();
  const rows: Row[] = [];
  if (runs('rackstrap')) rows.push(await takeoverRackstrap());
  if (WITH_KEA && runs('kea-fast')) rows.push(await takeoverKea('fast', TRIALS));
  if (WITH_KEA && runs('kea-default')) rows.push(await takeoverKea('default', KEA_DEFAULT_TRIALS));
  const loadMid = load();
  const copies: Array<{ leases: number; ms: number; drops: string[] }> = [];
  for (let i = 0; i < (runs('resync') ? RESYNC_ROUNDS : 0); i++) {
    copies.push(await resync(i));
    log(`resync ${i + 1}: ${copies[i]!.leases} leases in ${copies[i]!.ms} ms${copies[i]!.drops.length ? ` (dropped: ${copies[i]!.drops.join('; ')})` : ''} (load ${load()})`);
  }
  const loadAfter = load();
  const ms = copies.map((c) => c.ms);
  process.stdout.write([
    `pair takeover, kill -9 of the active under load -> first ACK from the other server (load average ${loadBefore} before, ${loadMid} after the takeovers, ${loadAfter} at the end; shared machine)`,
    '',
    '| pair | settings | trials | median | p90 | worst | no ACK within the cap |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(row),
    '',
    ...(copies.length === 0 ? [] : [`resync: ${copies.map((c) => c.leases).join(', ')} leases copied to a returning standby in ${ms.join(', ')} ms (median ${pct(ms, 0.5)} ms; from its hello to the table on its disk)`]),
    ...copies.filter((c) => c.drops.length).map((c) => `  connections dropped before a copy: ${c.drops.join('; ')}`),
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
  });
