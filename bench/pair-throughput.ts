// Throughput of a server pair with sync on, side by side in one run: DORA/s and latency (avg,
// p99) under perfdhcp for one `rackstrap serve` alone, a rackstrap pair in sync mode (a reply
// waits for the lease on both disks), the pair in async mode (a reply waits for this server's
// disk only), and a Kea hot-standby pair from `rackstrap gen kea --ha` (Kea's primary waits for
// the standby's acknowledgment of each lease update before it answers). Each server set starts
// fresh in the pair lab's namespaces (as in test/sync); perfdhcp relays from the client side
// (10.3.0.2) to the service address (rackstrap pair), the server (alone) or Kea's primary.
// Two loads per set: a saturating rate (what it can do: ACKs/s) and a fixed moderate rate
// (latency where nothing queues). perfdhcp and its output parser are bench/lib's.
// `npm run build && node dist/bench/pair-throughput.js [--rate N] [--fixed N] [--period S]`.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_ADDRESS, NODE_ADDRESS, pairLab, SERVICE, serveArgs, startNode, waitRole, type PairLab } from '../test/sync/helpers/pair-lab.js';
import { ServeProcess } from '../test/dhcp-server/helpers/serve.js';
import type { BenchNetwork } from './lib/netns.js';
import { runPerfdhcp, type PerfdhcpLoad } from './lib/perfdhcp.js';
import { summarizeLatencies } from './lib/stats.js';
import { KEA_ADDRESS, KeaServer, keaPairFile } from './pair-kea.js';

const args = process.argv.slice(2);
const flag = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 && Number(args[i + 1]) > 0 ? Number(args[i + 1]) : def;
};
const RATE = flag('--rate', 6000);
const FIXED = flag('--fixed', 300);
const PERIOD_S = flag('--period', 10);
// 61,000 addresses: more than both loads' clients together, so no run finds the pool used up.
const POOL = { start: '10.3.16.1', end: '10.3.254.254' };
const CLIENTS = 25_000;
const teardowns: Array<() => unknown> = [];
const host = {
  teardown: (fn: () => unknown) => void teardowns.push(fn),
  testdir: () => {
    const d = mkdtempSync(join(tmpdir(), 'rq-pair-tput-'));
    teardowns.push(() => rmSync(d, { recursive: true, force: true }));
    return d;
  },
};
const load = (): string => loadavg().map((x) => x.toFixed(1)).join(' ');
const log = (s: string): void => void process.stderr.write(`${s}\n`);

interface SetUp {
  id: string;
  label: string;
  /** Starts the servers in a fresh lab; returns the address perfdhcp sends to. */
  start(l: PairLab): Promise<string>;
}

const SETS: SetUp[] = [
  {
    id: 'single', label: 'rackstrap serve, one server',
    start: async (l) => {
      const a = serveArgs(l, 'a');
      const s = await ServeProcess.ready(l.lab, l.ns.a, { config: a.config, interfaces: a.interfaces, leaseFile: a.leaseFile, logLevel: 'warn' }, 60_000);
      teardowns.push(() => s.signal('SIGTERM'));
      return NODE_ADDRESS.a;
    },
  },
  ...(['sync', 'async'] as const).map((mode): SetUp => ({
    id: `pair-${mode}`, label: `rackstrap pair, ${mode} mode`,
    start: async (l) => {
      const a = await startNode(l, 'a', ['--pair-mode', mode]);
      const b = await startNode(l, 'b', ['--pair-mode', mode]);
      teardowns.push(() => a.signal('SIGTERM'), () => b.signal('SIGTERM'));
      await waitRole(a, 'active', 60_000);
      await waitRole(b, 'standby', 60_000);
      await a.waitFor((x) => x.event === 'service-address-taken', 15_000, 'the service address');
      return SERVICE;
    },
  })),
  {
    id: 'kea-ha', label: 'Kea HA hot-standby pair (memfile persist=true)',
    start: async (l) => {
      const run = join(l.dir, 'kea');
      mkdirSync(run, { recursive: true });
      const p = new KeaServer(l, 'primary', (await keaPairFile(l, l.dir, 'primary', 'fast')).file, join(run, 'p'));
      const s = new KeaServer(l, 'standby', (await keaPairFile(l, l.dir, 'standby', 'fast')).file, join(run, 's'));
      teardowns.push(() => p.stop(), () => s.stop());
      await p.waitState('HOT-STANDBY', 60_000);
      await s.waitState('HOT-STANDBY', 60_000);
      return KEA_ADDRESS.primary;
    },
  },
];

interface Figures {
  acksPerS: number;
  drops: number;
  avgMs: number | undefined;
  p99Ms: number | undefined;
}

async function measure(l: PairLab, target: string, rate: number, tag: string): Promise<Figures> {
  const net = { clientNs: l.ns.ca, clientIf: 'c0', serverIp: target, clientIp: CLIENT_ADDRESS.a } as BenchNetwork;
  const spec: PerfdhcpLoad = { rate, periodS: PERIOD_S, clients: CLIENTS, exitWaitMs: 1000, timestamps: true, macBase: tag === 'max' ? '02:aa:00:00:00:01' : '02:ab:00:00:00:01' };
  const r = await runPerfdhcp(net, spec, join(l.dir, `perfdhcp-${tag}.out`));
  if (!r.report || !r.report.RA) throw new Error(`perfdhcp: ${r.parseError?.message ?? 'no REQUEST-ACK statistics'}`);
  const lat = summarizeLatencies(r.report.latenciesMs.RA);
  return { acksPerS: r.report.RA.received / PERIOD_S, drops: r.report.DO.drops + r.report.RA.drops, avgMs: lat?.avgMs, p99Ms: lat?.p99Ms };
}

async function main(): Promise<void> {
  const loadBefore = load();
  const rows: string[] = [];
  // --only single,pair-sync,pair-async,kea-ha: some of the sets.
  const only = args.includes('--only') ? new Set(args[args.indexOf('--only') + 1]!.split(',')) : undefined;
  for (const set of SETS.filter((x) => only === undefined || only.has(x.id))) {
    const l = await pairLab(host, `rqh${String.fromCharCode(97 + SETS.indexOf(set))}`, POOL);
    try {
      const target = await set.start(l);
      const max = await measure(l, target, RATE, 'max');
      const fixed = await measure(l, target, FIXED, 'fixed');
      const f = (x: number | undefined): string => (x === undefined ? '–' : x.toFixed(2));
      log(`${set.id}: ${Math.round(max.acksPerS)} ACK/s offered ${RATE}/s (drops ${max.drops}, RA p99 ${f(max.p99Ms)} ms); at ${FIXED}/s: drops ${fixed.drops}, RA avg ${f(fixed.avgMs)} p99 ${f(fixed.p99Ms)} ms (load ${load()})`);
      rows.push(`| ${set.label} | ${Math.round(max.acksPerS)} | ${max.drops} | ${f(max.p99Ms)} ms | ${fixed.drops} | ${f(fixed.avgMs)} ms | ${f(fixed.p99Ms)} ms |`);
    } catch (err) {
      rows.push(`| ${set.label} | failed: ${(err as Error).message.split('\n')[0]} | | | | | |`);
    } finally {
      for (const fn of teardowns.splice(0).reverse()) await Promise.resolve(fn()).catch(() => undefined);
    }
  }
  process.stdout.write([
    `pair throughput under perfdhcp (${PERIOD_S} s per load, ${CLIENTS} client MACs per load, a 61,000-address pool; load average ${loadBefore} before, ${load()} after; shared machine, no CPU pinning)`,
    '',
    `| servers | ACKs/s offered ${RATE}/s | drops | REQUEST→ACK p99 | drops at ${FIXED}/s | REQUEST→ACK avg | p99 |`,
    '|---|---|---|---|---|---|---|',
    ...rows,
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
