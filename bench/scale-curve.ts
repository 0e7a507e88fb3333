// The scale curve: DORA/s, start-up (spawn → first OFFER for the last reservation) and peak RSS
// of rackstrap serve and Kea (memfile persist=true) for 1k, 10k, 30k and 100k reservations with a
// 64k-address pool, and for a 64k and a ~1M-address pool with 1k reservations, one run, side by
// side; prints a table, writes the figures (JSON) and bench/scale-curve.svg.
// rackstrap starts twice per case in the same folder: first with full validation (which leaves
// the compiled form of the description), then from that compiled form.
// A benchmark, not a test: `npx tsc -p . && node dist/bench/scale-curve.js [--quick]` (as root).

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openInterfaceSocket } from '../src/net/interface-socket.js';
import { BenchError } from './lib/errors.js';
import type { BenchNetwork } from './lib/netns.js';
import { runPerfdhcp } from './lib/perfdhcp.js';
import { killTrackedSync, readCpuSeconds, readMemory, stopProcess } from './lib/proc.js';
import { renderSvg, type Panel } from './lib/svg-plot.js';
import {
  COMPILED_LABEL, makeScaleNetwork, scaleWorkspace, mb, RELAY_IP, scaleDescription, scaleReservations, SERVER_IP, SPECS, startServer, type Layout,
} from './serve-scale.js';

const PREFIX = '10.64.0.0/12';
const ROUTER = '10.79.255.254';
/** 65,536 addresses, above every reservation case (100k reservations end near 10.65.134.x). */
const POOL_64K = { start: '10.72.0.0', end: '10.72.255.255' };
/** 1,044,475 addresses: the rest of the /12 above 1k reservations. */
const POOL_1M = { start: '10.64.16.0', end: '10.79.255.250' };

interface Case {
  name: string;
  reservations: number;
  pool: { start: string; end: string };
  poolSize: number;
}

const CASES: Case[] = [
  { name: '1k res, 64k pool', reservations: 1_000, pool: POOL_64K, poolSize: 65_536 },
  { name: '10k res, 64k pool', reservations: 10_000, pool: POOL_64K, poolSize: 65_536 },
  { name: '30k res, 64k pool', reservations: 30_000, pool: POOL_64K, poolSize: 65_536 },
  { name: '100k res, 64k pool', reservations: 100_000, pool: POOL_64K, poolSize: 65_536 },
  { name: '1k res, 1M pool', reservations: 1_000, pool: POOL_1M, poolSize: 1_044_475 },
];

interface Point {
  case: string;
  server: string;
  reservations: number;
  poolSize: number;
  startMs: number | null;
  acksPerS: number | null;
  cpuUsPerAck: number | null;
  rssIdleMb: number | null;
  peakMb: number | null;
  error?: string;
}

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, rate: { type: 'string' }, period: { type: 'string' }, out: { type: 'string' } } });
  const periodS = Number(values.period ?? (values.quick ? 3 : 5));
  const rate = Number(values.rate ?? 12_000);
  if (process.getuid?.() !== 0) throw new BenchError('run as root: the bench creates network namespaces');
  if (availableParallelism() < 2) throw new BenchError('needs 2 CPUs: the server on CPU0, perfdhcp on CPU1');
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const specs = SPECS.filter((s) => s.id === 'rackstrap' || s.id === 'kea').filter((s) => {
    const why = s.available();
    if (why) out(`${s.id}: skipped (${why})`);
    return why === null;
  });
  const { work, ns, cns, cleanup } = scaleWorkspace('rscurve');
  const started = new Date();
  const loadStart = loadavg();
  out(`scale-curve · ${started.toISOString()} · load average ${loadStart.map((l) => l.toFixed(2)).join(' ')} · ${specs.map((s) => s.id).join(', ')} · perfdhcp ${rate}/s offered for ${periodS} s per case (server on CPU0, perfdhcp on CPU1)`);
  const net: BenchNetwork = {
    serverNs: ns, clientNs: cns, serverIf: 's0', clientIf: 'c0', serverIp: SERVER_IP, clientIp: RELAY_IP,
    prefix: PREFIX, netmask: '255.240.0.0', poolStart: POOL_64K.start, poolEnd: POOL_64K.end,
  };
  const points: Point[] = [];
  try {
    makeScaleNetwork(ns, cns, PREFIX);
    for (const c of CASES) {
      const layout: Layout = { prefix: PREFIX, router: ROUTER, pool: c.pool };
      const text = scaleDescription(root, c.reservations, layout);
      const cluster = join(work, `cluster-${c.reservations}-${c.poolSize}.yaml`);
      writeFileSync(cluster, text);
      const { reserved } = scaleReservations(text, cluster);
      for (const spec of specs) {
        const dir = mkdtempSync(join(work, `${spec.id}-`));
        // A probe socket on the relay's port 67 only while no perfdhcp runs (perfdhcp binds it too).
        const probe = async <T>(f: (sock: Awaited<ReturnType<typeof openInterfaceSocket>>) => Promise<T>): Promise<T> => {
          const sock = await openInterfaceSocket({ ifname: 'c0', port: 67, netns: cns });
          try {
            return await f(sock);
          } finally {
            await sock.close();
          }
        };
        const point: Point = { case: c.name, server: spec.id, reservations: c.reservations, poolSize: c.poolSize, startMs: null, acksPerS: null, cpuUsPerAck: null, rssIdleMb: null, peakMb: null };
        const s = await probe((sock) => startServer(spec, ns, sock, cluster, reserved, root, dir, layout, 0));
        if (s.startMs === null) {
          point.error = s.error;
        } else {
          point.startMs = s.startMs;
          point.rssIdleMb = mb(readMemory(s.server.pid)?.rssKb);
          const cpu0 = readCpuSeconds(s.server.pid);
          const run = await runPerfdhcp(net, { rate, periodS, clients: 50_000, exitWaitMs: 1000, timestamps: false }, join(dir, 'perfdhcp.out'));
          const cpu1 = readCpuSeconds(s.server.pid);
          const acks = run.report?.RA?.received ?? null;
          point.acksPerS = acks === null ? null : acks / periodS;
          point.cpuUsPerAck = acks && cpu0 !== null && cpu1 !== null ? ((cpu1 - cpu0) * 1e6) / acks : null;
          point.peakMb = mb(readMemory(s.server.pid)?.hwmKb);
          if (run.parseError) point.error = `perfdhcp: ${run.parseError.message}`;
          await stopProcess(s.server);
        }
        points.push(point);
        out(line(point));
        if (spec.id === 'rackstrap' && s.startMs !== null) {
          const again = await probe((sock) => startServer(spec, ns, sock, cluster, reserved, root, dir, layout, 0));
          const warm: Point = { case: c.name, server: COMPILED_LABEL, reservations: c.reservations, poolSize: c.poolSize, startMs: again.startMs, acksPerS: null, cpuUsPerAck: null, rssIdleMb: null, peakMb: null, ...(again.error ? { error: again.error } : {}) };
          if (again.startMs !== null) {
            await new Promise((r) => setTimeout(r, 500));
            const m = readMemory(again.server.pid);
            warm.rssIdleMb = mb(m?.rssKb);
            warm.peakMb = mb(m?.hwmKb);
            await stopProcess(again.server);
          }
          points.push(warm);
          out(line(warm));
        }
      }
    }
  } finally {
    cleanup();
  }
  const loadEnd = loadavg();
  const finished = new Date();
  out(`\n${finished.toISOString()} · load average ${loadStart.map((l) => l.toFixed(2)).join(' ')} → ${loadEnd.map((l) => l.toFixed(2)).join(' ')} · wall ${Math.round((finished.getTime() - started.getTime()) / 1000)} s\n`);
  const servers = [...new Set(points.map((p) => p.server))];
  out(`| case | ${servers.map((s) => `${s}: DORA/s · µs/ACK · start · idle/peak RSS`).join(' | ')} |`);
  out(`|---|${servers.map(() => '---').join('|')}|`);
  const f = (v: number | null, unit = ''): string => (v === null ? '–' : `${Math.round(v).toLocaleString('en')}${unit}`);
  for (const c of CASES) {
    out(`| ${c.name} | ${servers.map((s) => {
      const p = points.find((x) => x.case === c.name && x.server === s);
      if (!p) return '–';
      if (p.error && p.startMs === null) return `failed: ${p.error}`;
      return `${f(p.acksPerS)} · ${f(p.cpuUsPerAck, ' µs')} · ${f(p.startMs, ' ms')} · ${f(p.rssIdleMb)}/${f(p.peakMb, ' MB')}`;
    }).join(' | ')} |`);
  }

  const by = (server: string, pick: (p: Point) => number | null, sel: (p: Point) => boolean, x: (p: Point) => number): Array<[number, number | null]> =>
    points.filter((p) => p.server === server && sel(p)).map((p) => [x(p), pick(p)]);
  const resCase = (p: Point): boolean => p.poolSize === 65_536;
  const poolCase = (p: Point): boolean => p.reservations === 1_000;
  const resTicks: Array<[number, string]> = [[1_000, '1k'], [10_000, '10k'], [30_000, '30k'], [100_000, '100k']];
  const poolTicks: Array<[number, string]> = [[65_536, '64k'], [1_044_475, '1M']];
  const panel = (title: string, yLabel: string, pick: (p: Point) => number | null, withCompiled: boolean, sel: (p: Point) => boolean, xLabel: string, xTicks: Array<[number, string]>, x: (p: Point) => number): Panel => ({
    title, xLabel, yLabel, xLog: true, xTicks,
    series: servers.filter((s) => withCompiled || s !== COMPILED_LABEL).map((s) => ({ name: s === 'rackstrap' ? 'rackstrap (full validation)' : s === 'kea' ? 'Kea 2.2 memfile persist=true' : s, points: by(s, pick, sel, x) })),
  });
  const res = (p: Point): number => p.reservations;
  const pool = (p: Point): number => p.poolSize;
  const panels: Panel[] = [
    panel('DORA/s, 64k pool', 'ACKs per second', (p) => p.acksPerS, false, resCase, 'reservations', resTicks, res),
    panel('start → first OFFER, 64k pool', 'ms', (p) => p.startMs, true, resCase, 'reservations', resTicks, res),
    panel('peak RSS, 64k pool', 'MB', (p) => p.peakMb, true, resCase, 'reservations', resTicks, res),
    panel('DORA/s, 1k reservations', 'ACKs per second', (p) => p.acksPerS, false, poolCase, 'pool addresses', poolTicks, pool),
    panel('start → first OFFER, 1k reservations', 'ms', (p) => p.startMs, true, poolCase, 'pool addresses', poolTicks, pool),
    panel('peak RSS, 1k reservations', 'MB', (p) => p.peakMb, true, poolCase, 'pool addresses', poolTicks, pool),
  ];
  const footnote = `${finished.toISOString().slice(0, 16)} UTC, 2 CPUs, load average ${loadStart[0]!.toFixed(1)} → ${loadEnd[0]!.toFixed(1)}; perfdhcp offered ${rate}/s for ${periodS} s; rackstrap leases on disk before each ACK, Kea's not.`;
  const svgFile = values.out ? resolve(values.out) : join(root, 'bench', 'scale-curve.svg');
  writeFileSync(svgFile, renderSvg('rackstrap serve and Kea at scale (one run, side by side)', footnote, panels, 3));
  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const json = join(resultsDir, `scale-curve-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(json, `${JSON.stringify({ bench: 'scale-curve', started, finished, loadStart, loadEnd, rate, periodS, points }, null, 2)}\n`);
  out(`\nplot: ${relative(process.cwd(), svgFile)} · raw figures: ${relative(process.cwd(), json)}`);
}

function line(p: Point): string {
  const f = (v: number | null, d = 0): string => (v === null ? '–' : v.toFixed(d));
  return `  ${p.case.padEnd(20)} ${p.server.padEnd(22)} ${p.error && p.startMs === null ? `FAILED: ${p.error}` : `start ${f(p.startMs)} ms · ${f(p.acksPerS)} ACK/s · ${f(p.cpuUsPerAck)} µs/ACK · RSS ${f(p.rssIdleMb)} MB, peak ${f(p.peakMb)} MB${p.error ? ` (${p.error})` : ''}`}`;
}

main().catch((e: unknown) => {
  process.stderr.write(`scale-curve: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  killTrackedSync();
  process.exitCode = 1;
});
