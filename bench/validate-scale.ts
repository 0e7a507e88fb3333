// Validation at scale: how long `rackstrap validate` takes as the description grows, to show it
// is linear in servers, tables and addresses (a measurement, not a test: prints its figures).
//
//   npx tsc -p . && node dist/bench/validate-scale.js [repeats=3]
//
// Cases: N virtual servers all sharing one routing table on two filers (N = 2,500 .. 20,000:
// doubling N should double the time, not quadruple it); the 64 x 252 cluster of gen-scale at 1x,
// 2x and 4x its filers; a description of about 16 MiB (the cap) and one of 50 MB (refused by
// the cap, from its size). Each case is also run in a child process for its peak RSS.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { loadClusterText } from '../src/options/load.js';
import { describeScaleCluster } from './gen-scale.js';

const REPEATS = Number(process.argv[2] ?? 3);

/** ip(base, n): the address n after base, dotted. */
function ip(base: number, n: number): string {
  const v = (base + n) >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/**
 * Two filers of one template and `servers` virtual servers, all in table 7, on both filers.
 * `gateways` > 1 gives server i gateway i mod gateways (servers then conflict); `sameAddress`
 * gives every server one address (each a duplicate); `subnets` adds that many /30 subnets, each
 * holding one server's address, with a one-address pool.
 */
export function describeSharedTable(servers: number, opts: { gateways?: number; sameAddress?: boolean; subnets?: number } = {}): string {
  const data = ((10 << 24) | (128 << 16)) >>> 0;
  const vservers: Record<string, unknown> = {};
  const gateways = opts.gateways ?? 1;
  const small = ((10 << 24) | (64 << 16)) >>> 0; // 10.64.0.0/12: the /30 subnets
  const extra = Array.from({ length: opts.subnets ?? 0 }, (_, k) => ({ prefix: `${ip(small, 4 * k)}/30`, routers: [ip(small, 4 * k + 1)], pool: { start: ip(small, 4 * k + 2), end: ip(small, 4 * k + 2) } }));
  for (let i = 0; i < servers; i++) {
    const address = opts.sameAddress ? ip(data, 10) : i < extra.length ? ip(small, 4 * i + 2) : ip(data, 10 + i);
    vservers[`V${i}`] = { table: 7, gateway: ip(data, 1 + (i % gateways)), filers: ['F0', 'F1'], addresses: { data0: { 0: address } } };
  }
  return stringify({
    cluster: { name: 'shared', id: '00:07:34:AA:00:02', generation: 1 },
    scope: {
      domain: 'shared.example',
      leaseTime: 86400,
      subnets: [
        { prefix: '10.0.0.0/16', routers: ['10.0.0.1'], bootstrap: { start: '10.0.255.1', end: '10.0.255.250' } },
        { prefix: '10.128.0.0/12', routers: ['10.128.0.1'] },
        ...extra,
      ],
    },
    templates: { std: { aliases: { mgmt0: 'eth0', data0: 'eth1' } } },
    filers: {
      F0: { baseMac: '00:07:34:00:00:00', nics: { eth0: '00:07:34:00:00:00', eth1: '00:07:34:00:00:01' }, template: 'std', addresses: { mgmt0: '10.0.0.10' } },
      F1: { baseMac: '00:07:34:01:00:00', nics: { eth0: '00:07:34:01:00:00', eth1: '00:07:34:01:00:01' }, template: 'std', addresses: { mgmt0: '10.0.0.11' } },
    },
    vservers,
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median wall and CPU ms of loadClusterText over REPEATS runs (CPU: this process, GC threads included). */
function timeValidate(text: string): { ms: number; cpuMs: number; runs: number[] } {
  const runs: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    loadClusterText(text, 'bench.yaml');
    runs.push(Math.round(performance.now() - t0));
    const c = process.cpuUsage(c0);
    cpu.push(Math.round((c.user + c.system) / 1000));
  }
  return { ms: median(runs), cpuMs: median(cpu), runs };
}

/** `rackstrap validate FILE` as a child: wall ms and peak RSS (GNU time). */
function child(file: string): { ms: number; rssMb: number; code: number; out: string } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'RSS %M', process.execPath, 'bin/rackstrap.js', 'validate', file], { encoding: 'utf8' });
  const ms = Math.round(performance.now() - t0);
  const out = `${r.stdout}${r.stderr}`;
  const m = /RSS (\d+)/.exec(r.stderr);
  return { ms, rssMb: m ? Math.round(Number(m[1]) / 1024) : NaN, code: r.status ?? -1, out };
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'rackstrap-validate-scale-'));
  const rows: string[] = [];
  const row = (name: string, text: string, note = ''): void => {
    const file = join(dir, 'd.yaml');
    writeFileSync(file, text);
    const t = timeValidate(text);
    const c = child(file);
    // A child that failed says so: its time is then not a validation time.
    const failed = c.code === 0 ? '' : `child exit ${c.code}: ${c.out.split('\n')[0]}`;
    rows.push(`| ${name} | ${(Buffer.byteLength(text) / 2 ** 20).toFixed(1)} MiB | ${t.ms} ms wall, ${t.cpuMs} ms CPU | ${c.ms} ms, ${c.rssMb} MB | ${[note, failed].filter(Boolean).join('; ')}`);
    console.log(rows.at(-1));
  };
  try {
    console.log(`load average at start: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    console.log('| case | size | loadClusterText (median) | `rackstrap validate` (child): wall, peak RSS | note');
    for (const n of [2_500, 5_000, 10_000, 20_000]) row(`${n.toLocaleString('en')} servers sharing one table`, describeSharedTable(n));
    for (const f of [64, 128, 256]) row(`${f} filers x 252 servers`, describeScaleCluster(f, 252));
    // Near the cap: as many filers of 252 servers as fit in 16 MiB.
    const per = Buffer.byteLength(describeScaleCluster(8, 252)) / 8;
    // Names grow with the filer count, so shrink the estimate until the text really fits.
    let fit = Math.floor((16 * 2 ** 20 * 0.97) / per);
    let near = describeScaleCluster(fit, 252);
    while (Buffer.byteLength(near) > 16 * 2 ** 20 * 0.99) near = describeScaleCluster((fit = Math.floor(fit * 0.98)), 252);
    row(`${fit} filers x 252 servers (near the 16 MiB cap)`, near);
    // 50 MB: refused from its size by the child (loadClusterFile); loadClusterText is not timed.
    const big = join(dir, 'big.yaml');
    writeFileSync(big, `${describeScaleCluster(64, 252)}${'#'.repeat(1000)}\n`.repeat(1));
    execFileSync('truncate', ['-s', String(50 * 10 ** 6), big]);
    const c = child(big);
    console.log(`| 50 MB description | 47.7 MiB | (refused) | ${c.ms} ms, ${c.rssMb} MB | exit ${c.code}: ${c.out.split('\n')[0]}`);
    console.log(`load average at end: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
