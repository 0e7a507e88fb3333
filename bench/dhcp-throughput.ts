// Side-by-side DHCPv4 benchmark (performance and reliability): rackstrap serve against
// Kea, ISC dhcpd and dnsmasq, one after another in the same namespaces in one run. For each server:
// max DORA/s under a saturating offered load, drops, average and p99 latency (DO and RA), drops
// at a fixed fraction of the best peer's rate, RSS idle and after the run, time to ready.
// A benchmark, not a test: run by hand (`npm run bench:dhcp`), never by `npm test`.
// How perfdhcp must be driven here, and why: /work/shared/notes/perf-baselines.md, bench/README.md.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RackstrapError, UsageError } from '../src/errors.js';
import { DEFAULTS, LADDER, USAGE, estimateSeconds, parseBenchArgs, type BenchOptions } from './lib/args.js';
import { BenchError } from './lib/errors.js';
import {
  benchNetworkLayout,
  createBenchNetwork,
  deleteNamespaceSync,
  destroyBenchNetworkSync,
  findStaleBenchNamespaces,
  NETNS_PREFIX,
  type BenchNetwork,
} from './lib/netns.js';
import { CLIENT_CPU, perfdhcpArgs, type PerfdhcpLoad } from './lib/perfdhcp.js';
import { killTrackedSync } from './lib/proc.js';
import { renderTable, summarizeServer, withRatios, bestPeer, type ServerInfo } from './lib/report.js';
import { runServerOnce, SERVER_CPU, type RunFailure, type RunResult, type RunSettings } from './lib/run-server.js';
import { SERVERS, dhcpdSyslogWarning, findInPath, firstLine, type ServerSpec } from './lib/servers.js';

/** Longer than the drop time (1 s), so every exchange is either answered or counted as a drop. */
const EXIT_WAIT_MS = 1000;
/** Longer than any run, so no lease expires or renews mid-run. */
const LEASE_TIME_S = 4000;
const READY_TIMEOUT_MS = 15_000;

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

async function main(argv: readonly string[]): Promise<number> {
  const opts = parseBenchArgs(argv, SERVERS.map((s) => s.id));
  if (opts.help) {
    out(USAGE + `\nServers: ${SERVERS.map((s) => `${s.id} (${s.label})`).join(', ')}`);
    return 0;
  }
  const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  preflight();

  const selected = opts.servers === null ? [...SERVERS] : opts.servers.map((id) => SERVERS.find((s) => s.id === id) as ServerSpec);
  const infos = new Map<string, ServerInfo>();
  for (const spec of selected) {
    const skipped = await spec.unavailable(projectRoot);
    infos.set(spec.id, { id: spec.id, label: spec.label, peer: spec.peer, durable: spec.durable, version: skipped ? null : spec.version(projectRoot), skipped });
  }
  const runnable = selected.filter((s) => infos.get(s.id)?.skipped === null);

  for (const stale of findStaleBenchNamespaces()) {
    out(`removing namespace ${stale} left by an earlier run that was killed`);
    deleteNamespaceSync(stale);
  }
  removeStaleWorkDirs();

  const started = new Date();
  const machine = {
    nproc: availableParallelism(),
    kernel: release(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryMb: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    perfdhcp: firstLine('perfdhcp', ['-v']),
    loadavgStart: loadavg(),
    loadavgEnd: [] as number[],
  };
  const net = benchNetworkLayout(process.pid);
  const workDir = mkdtempSync(join(tmpdir(), `${NETNS_PREFIX}${process.pid}-`));
  if (opts.keepFiles) writeFileSync(join(workDir, KEEP_MARKER), 'kept by --keep\n');
  let cleaned = false;
  const cleanupSync = (): void => {
    if (cleaned) return;
    cleaned = true;
    killTrackedSync();
    destroyBenchNetworkSync(net);
    if (!opts.keepFiles) rmSync(workDir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals, code: number) => (): void => {
    process.stderr.write(`\n${signal}: stopping the servers and perfdhcp, removing ${net.serverNs} and ${net.clientNs}\n`);
    cleanupSync();
    process.exit(code); // the bench's one exit point besides returning from main
  };
  process.once('SIGINT', onSignal('SIGINT', 130));
  process.once('SIGTERM', onSignal('SIGTERM', 143));
  process.once('SIGHUP', onSignal('SIGHUP', 129));
  process.once('exit', cleanupSync);

  try {
    createBenchNetwork(net);
    printHeader(opts, started, machine, selected, infos, runnable.length, net);
    const settings: RunSettings = { net, workDir, projectRoot, leaseTimeS: LEASE_TIME_S, readyTimeoutMs: READY_TIMEOUT_MS, keepFiles: opts.keepFiles };
    const results = new Map<string, Array<RunResult | RunFailure>>(runnable.map((s) => [s.id, []]));
    const record = (r: RunResult | RunFailure): void => {
      results.get(r.server)?.push(r);
      out(progressLine(r, opts.reps));
    };

    // Phase 0 (--rate auto): find, per server, an offered rate just past its capacity.
    const offered = new Map<string, number[]>();
    for (const spec of runnable) {
      if (opts.rates !== 'auto') {
        offered.set(spec.id, opts.rates);
        continue;
      }
      const rate = await calibrate(spec, settings, opts, record);
      if (rate !== null) offered.set(spec.id, [rate]);
    }

    // Phase 1: saturating load. Repetitions interleave the servers so slow drift of the machine
    // (other work, thermal) spreads over all of them instead of landing on one.
    for (let rep = 1; rep <= opts.reps; rep++) {
      for (const spec of runnable) {
        for (const rate of offered.get(spec.id) ?? []) record(await runServerOnce(spec, settings, 'max', rep, load(opts, rate)));
      }
    }

    // Phase 2: the issue's bar — zero drops at a fixed fraction of the best peer's rate.
    const interim = runnable.map((s) => summarizeServer(infos.get(s.id) as ServerInfo, results.get(s.id) ?? []));
    const best = bestPeer(interim);
    const fixedRate = opts.fixedRate ?? (best ? Math.max(1, Math.round(best.rate * opts.fraction)) : null);
    if (fixedRate === null) {
      out('no peer produced a max rate, so there is no fixed-load rate to test (give --fixed-rate)');
    } else {
      out(`\nfixed load: ${fixedRate}/s = ${opts.fixedRate !== null ? '--fixed-rate' : `${opts.fraction} × ${Math.round(best?.rate ?? 0)}/s (${best?.id})`}`);
      for (let rep = 1; rep <= opts.reps; rep++) {
        for (const spec of runnable) record(await runServerOnce(spec, settings, 'fixed', rep, load(opts, fixedRate)));
      }
    }

    const summaries = withRatios(selected.map((s) => summarizeServer(infos.get(s.id) as ServerInfo, results.get(s.id) ?? [])));
    machine.loadavgEnd = loadavg();
    const finished = new Date();
    out(`\n${finished.toISOString()} · ${machine.nproc} CPUs (${machine.cpu}) · Linux ${machine.kernel} · load avg ${machine.loadavgStart.map((l) => l.toFixed(2)).join(' ')} → ${machine.loadavgEnd.map((l) => l.toFixed(2)).join(' ')}`);
    out(`period ${opts.periodS} s · ${opts.reps} rep(s) · ${opts.clients} client MACs · server on CPU${SERVER_CPU}, perfdhcp on CPU${CLIENT_CPU} · wall ${((finished.getTime() - started.getTime()) / 1000).toFixed(0)} s\n`);
    out(renderTable(summaries, { fraction: opts.fraction, fixedRate }));
    out();
    for (const s of summaries) {
      if (s.skipped) out(`${s.id}: skipped — ${s.skipped}`);
      for (const f of s.failures) out(`${s.id} (${f.phase} run ${f.rep}, offered ${f.offeredRate}/s) failed: ${f.error}`);
      for (const [phase, p] of [['max', s.max], ['fixed', s.fixed]] as const) {
        if (p?.timestampCoverage != null && p.timestampCoverage < 0.99) {
          out(`${s.id}: perfdhcp printed timestamps for only ${(p.timestampCoverage * 100).toFixed(0)}% of the answers in a ${phase} run; its p99 rests on those`);
        }
        if (p?.clientRcvbufErrors) {
          out(`${s.id}: in a ${phase} run perfdhcp's own socket overflowed (${p.clientRcvbufErrors} datagrams): part of those drops are the load generator's`);
        }
      }
    }
    const rackstrap = summaries.find((s) => s.id === 'rackstrap');
    const rackstrapRatio = rackstrap?.ratioToBestPeer ?? null;
    if (rackstrapRatio !== null) out(`rackstrap / best peer (${best?.id}): ${rackstrapRatio.toFixed(2)}×`);

    // The default lands in the project's bench/results (gitignored) wherever we are run from.
    const dir = opts.outDir === DEFAULTS.outDir ? resolve(projectRoot, opts.outDir) : resolve(opts.outDir);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `dhcp-throughput-${started.toISOString().replace(/[:.]/g, '-')}.json`);
    const json = {
      bench: 'dhcp-throughput',
      started: started.toISOString(),
      finished: finished.toISOString(),
      machine,
      options: { ...opts, ladder: opts.rates === 'auto' ? LADDER : null, exitWaitMs: EXIT_WAIT_MS, leaseTimeS: LEASE_TIME_S, perfdhcpArgs: perfdhcpArgs(net, load(opts, 0)) },
      offeredForMax: Object.fromEntries(offered),
      network: net,
      bestPeer: best,
      fixedRate,
      rackstrapRatio,
      servers: summaries.map((s) => ({ ...s, runs: results.get(s.id) ?? [] })),
    };
    writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
    out(`\nraw figures: ${relative(process.cwd(), file) || file}`);
    if (opts.keepFiles) out(`each run's config, leases and perfdhcp output: ${workDir}`);
    return summaries.some((s) => s.max !== null) ? 0 : 1;
  } finally {
    cleanupSync();
  }
}

function load(opts: BenchOptions, rate: number): PerfdhcpLoad & { periodS: number } {
  return { rate, periodS: opts.periodS, clients: opts.clients, exitWaitMs: EXIT_WAIT_MS, timestamps: true };
}

/**
 * Short runs on a fresh server at LADDER.startRate, doubling while doubling the offer still buys
 * LADDER.gain more ACKs/s than the best step so far (up to LADDER.maxRate). Returns the offered
 * rate that gave the most ACKs/s — high enough to saturate the server, not so high that it
 * drowns in stale requests — or null if no step ran. Climbing "while it helps" rather than
 * stopping at the first step below the offer keeps one noisy step from ending the climb early.
 */
async function calibrate(
  spec: ServerSpec,
  settings: RunSettings,
  opts: BenchOptions,
  record: (r: RunResult | RunFailure) => void,
): Promise<number | null> {
  let best: { rate: number; acks: number } | null = null;
  for (let rate: number = LADDER.startRate, step = 1; rate <= LADDER.maxRate; rate *= 2, step++) {
    const r = await runServerOnce(spec, settings, 'ladder', step, { ...load(opts, rate), periodS: LADDER.periodS, timestamps: false });
    record(r);
    if ('error' in r) break;
    const gained = best === null || r.acksPerS >= LADDER.gain * best.acks;
    if (best === null || r.acksPerS > best.acks) best = { rate, acks: r.acksPerS };
    if (!gained || r.acksPerS === 0) break;
  }
  return best?.rate ?? null;
}

/** Marks a work folder the user asked to keep, so later runs do not take it for debris. */
const KEEP_MARKER = '.kept-by-bench';

/** Private folders of earlier runs killed with SIGKILL: `<tmp>/rsbench<pid>-*` whose pid is gone. */
function removeStaleWorkDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    const m = new RegExp(`^${NETNS_PREFIX}(\\d+)-`).exec(name);
    if (!m || existsSync(`/proc/${m[1]}`) || existsSync(join(tmpdir(), name, KEEP_MARKER))) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

function preflight(): void {
  if (process.getuid?.() !== 0) throw new BenchError('run as root: the bench creates network namespaces');
  if (availableParallelism() < 2) throw new BenchError('needs 2 CPUs: the server is pinned to CPU0 and perfdhcp to CPU1');
  const missing = ['ip', 'taskset', 'timeout', 'perfdhcp'].filter((c) => findInPath(c) === null);
  if (missing.length) throw new BenchError(`missing ${missing.join(', ')} (scripts/setup-system.sh installs them; perfdhcp is in kea-admin)`);
}

function printHeader(
  opts: BenchOptions,
  started: Date,
  machine: { nproc: number; kernel: string; cpu: string; loadavgStart: number[] },
  selected: readonly ServerSpec[],
  infos: ReadonlyMap<string, ServerInfo>,
  runnable: number,
  net: BenchNetwork,
): void {
  out(`dhcp-throughput · ${started.toISOString()} · ${machine.nproc} CPUs · Linux ${machine.kernel}`);
  for (const s of selected) {
    const info = infos.get(s.id);
    out(`  ${s.id.padEnd(14)} ${info?.skipped ? `skipped: ${info.skipped}` : info?.version ?? s.label}`);
  }
  const warning = dhcpdSyslogWarning();
  if (warning && selected.some((s) => s.id === 'dhcpd')) out(`  warning: ${warning}`);
  if ((machine.loadavgStart[0] ?? 0) > 0.5) {
    out(`  warning: load average ${machine.loadavgStart[0]?.toFixed(2)} — other work on this machine will show in the figures`);
  }
  const estimate = estimateSeconds(opts, runnable, EXIT_WAIT_MS / 1000);
  const loads = opts.rates === 'auto' ? `auto rate (ladder ${LADDER.startRate}/s ×2…) + 2 loads` : `${opts.rates.length + 1} loads`;
  out(`  ${runnable} server(s) × ${opts.reps} rep(s) × ${loads}, ~${Math.ceil(estimate / 60)} min`);
  out(`  perfdhcp ${perfdhcpArgs(net, load(opts, 0)).join(' ').replace(' -r 0 ', ' -r RATE ')}\n`);
}

function progressLine(r: RunResult | RunFailure, reps: number): string {
  const step = r.phase === 'ladder' ? `ladder step ${r.rep}` : `${r.phase} ${r.rep}/${reps}`;
  const head = `[${step}] ${r.server.padEnd(14)} offered ${String(r.offeredRate).padStart(6)}/s`;
  if ('error' in r) return `${head} → FAILED: ${r.error.split('\n')[0]}`;
  const p99 = (x: { p99Ms: number } | null): string => (x ? x.p99Ms.toFixed(2) : '–');
  return (
    `${head} → ${Math.round(r.acksPerS).toString().padStart(6)} ACK/s, drops ${r.DO.drops}/${r.RA.drops}, ` +
    `p99 ${p99(r.latency.DO)}/${p99(r.latency.RA)} ms, RSS ${kbToMb(r.rssIdleKb)}→${kbToMb(r.rssAfterKb)} MB, ready ${r.readyMs.toFixed(0)} ms`
  );
}

function kbToMb(kb: number | null): string {
  return kb === null ? '?' : (kb / 1024).toFixed(0);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`dhcp-throughput: ${e.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (e instanceof RackstrapError) {
      process.stderr.write(`dhcp-throughput: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`dhcp-throughput: internal error (a bug in the bench):\n${e instanceof Error ? e.stack : String(e)}\n`);
      process.exitCode = 70;
    }
  },
);
