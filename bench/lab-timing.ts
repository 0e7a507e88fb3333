// Wall time of `rackstrap lab` per description: for each file, one user-mode Linux guest running
// the lab's DHCP step (the step CI runs on the corpus), with where the time goes:
//   whole run      host spawns the guest -> guest powered off (what a user waits for)
//   boot+off       that minus the lab's own steps: UML boot, module loading, Node start, power-off
//   build          namespaces, switch, partner bonds, server trunk (step 1)
//   serve          `rackstrap serve` spawn -> its "ready" line (step 2)
//   agents         every agent started -> every filer addressed, tree printed, checked (step 3)
//   addressed      per filer: agent spawn -> every alias of the description in its kernel
// The aim is under 60 s per description. A benchmark, not a test (the lab corpus test checks the
// kernels); the machine is shared, so the load average is printed with every figure. As root:
//   npm run build && node dist/bench/lab-timing.js [--parallel 1] [--full] [--no-bundle | --compare] [FILE ...]
// Default files: examples/cluster.yaml and every description of test/fixtures/corpus. --full runs
// the cache step and the live change too (the example's whole demo). The guest runs the lab's
// bundle (src/lab/bundle.ts) unless --no-bundle (programs from dist/); --compare runs each file
// both ways, one after the other, so the two figures share the machine's load.
import { readdirSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { labUnavailable, runLab, type LabRun } from '../src/lab/host.js';

const CORPUS = 'test/fixtures/corpus';
const AIM_MS = 60_000;

const load = (): string => loadavg().map((x) => x.toFixed(1)).join(' ');
const s = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

interface Row {
  file: string;
  programs: string;
  ok: boolean;
  wallMs: number;
  bootMs: number;
  steps: Array<{ title: string; ms: number }>;
  filers: Array<{ filer: string; addressedMs: number | undefined; agentUpMs: number | undefined; lacpMs: number | undefined }>;
  loadBefore: string;
  loadAfter: string;
  problems: string[];
}

function rowOf(file: string, run: LabRun, loadBefore: string): Row {
  const res = run.results;
  const steps = (res?.steps ?? []).map((x) => ({ title: x.title, ms: x.ms }));
  const inSteps = steps.reduce((n, x) => n + x.ms, 0);
  return {
    file,
    programs: run.programs.bundle ? `bundle (${run.programs.built ? 'built' : 'reused'} in ${s(run.programs.ms)})` : `dist/ (${run.programs.why})`,
    ok: run.exitCode === 0 && res?.ok === true,
    wallMs: run.elapsedMs,
    bootMs: run.elapsedMs - inSteps,
    steps,
    filers: (res?.runs.dhcp ?? []).map((f) => ({ filer: f.filer, addressedMs: f.addressedMs, agentUpMs: f.agentUpMs, lacpMs: f.lacpMs })),
    loadBefore,
    loadAfter: load(),
    problems: res?.problems ?? [`the guest wrote no results (exit ${run.exitCode})`],
  };
}

async function pool<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
  }));
  return out;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { parallel: { type: 'string', default: '1' }, full: { type: 'boolean', default: false }, 'no-bundle': { type: 'boolean', default: false }, compare: { type: 'boolean', default: false } } });
  if (process.getuid?.() !== 0) {
    process.stderr.write('lab-timing: run as root (the lab builds namespaces, bonds and VLANs in its guest)\n');
    return 1;
  }
  const missing = labUnavailable();
  if (missing !== undefined) {
    process.stderr.write(`lab-timing: ${missing}\n`);
    return 1;
  }
  const given = positionals.length > 0 ? positionals : ['examples/cluster.yaml', ...readdirSync(CORPUS).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(CORPUS, f))];
  const runs: Array<{ file: string; noBundle: boolean }> = given.flatMap((file) =>
    values.compare ? [{ file, noBundle: true }, { file, noBundle: false }] : [{ file, noBundle: values['no-bundle'] }],
  );
  const files = given;
  const parallel = Math.max(1, Number(values.parallel));
  const started = new Date();
  process.stdout.write(`lab timing, ${started.toISOString()}, ${files.length} descriptions, ${parallel} guest(s) at a time, ${values.full ? 'DHCP + cache + live steps' : 'DHCP step'}; load average ${load()}\n`);
  const t0 = performance.now();
  const rows = await pool(runs, parallel, async ({ file, noBundle }) => {
    const before = load();
    const run = await runLab({ cluster: file, skipCache: !values.full, skipLiveUpdate: !values.full, timeoutMs: 900_000, noBundle });
    const row = rowOf(file, run, before);
    const step = (re: RegExp) => row.steps.find((x) => re.test(x.title))?.ms;
    const slowest = Math.max(...row.filers.map((f) => f.addressedMs ?? Infinity));
    process.stdout.write(
      `${row.ok ? 'ok  ' : 'FAIL'} ${file.replace(/^.*\//, '').padEnd(36)} whole ${s(row.wallMs).padStart(7)} ${!row.ok ? '' : row.wallMs < AIM_MS ? '(< 60 s)' : '(over 60 s)'}` +
        `  boot+off ${s(row.bootMs)}  build ${s(step(/^Boot/))}  serve ${s(step(/DHCP server/))}  agents ${s(step(/^Start (the agent|both agents|all)/))}` +
        `  addressed ${row.filers.map((f) => `${f.filer} ${s(f.addressedMs)} (own log ${s(f.agentUpMs)})`).join(', ')}${Number.isFinite(slowest) ? '' : ' (a filer never)'}` +
        `  ${row.programs}  load ${row.loadBefore} -> ${row.loadAfter}\n`,
    );
    if (!row.ok) for (const p of row.problems.slice(0, 5)) process.stdout.write(`       ${p}\n`);
    return row;
  });
  const wall = performance.now() - t0;
  const under = rows.filter((r) => r.ok && r.wallMs < AIM_MS).length;
  process.stdout.write(`all: ${s(wall)} wall for ${rows.length} runs of ${files.length} descriptions; ${under} of ${rows.length} ran ok under 60 s; ${rows.filter((r) => r.ok).length} ok; load average now ${load()}\n`);
  const out = join(tmpdir(), `lab-timing-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, `${JSON.stringify({ started: started.toISOString(), parallel, full: values.full, wallMs: wall, rows }, null, 1)}\n`);
  process.stdout.write(`details: ${out}\n`);
  return rows.every((r) => r.ok) ? 0 : 1;
}

process.exitCode = await main();
