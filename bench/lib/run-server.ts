// One measurement: start a server fresh in the server namespace (pinned to CPU0), wait until it
// is ready, put one perfdhcp load on it, read its RSS and CPU before and after, stop it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BenchError } from './errors.js';
import type { BenchNetwork } from './netns.js';
import { perfdhcpTimeLimitS, readCondensed, runPerfdhcp, type PerfdhcpLoad } from './perfdhcp.js';
import type { ExchangeCounters, PeriodicSample } from './perfdhcp-output.js';
import { firstChild, hasUdpSocket, isInNetns, netnsInode, pollUntil, readCpuSeconds, readMemory, spawnTracked, stopProcess, type Spawned } from './proc.js';
import type { ServerSpec } from './servers.js';
import { summarizeLatencies, type LatencySummary } from './stats.js';
import { diffUdpCounters, readUdpCounters, type UdpCounters } from './udp-counters.js';

export const SERVER_CPU = 0;
/** RFC 2131 §4.1: servers receive on UDP 67. Ready = a socket bound there in the server namespace. */
const DHCP_SERVER_PORT = 67;

/** ladder: short calibration runs of `--rate auto`; max: saturating load; fixed: the fraction of the best peer. */
export type Phase = 'ladder' | 'max' | 'fixed';

export interface RunSettings {
  net: BenchNetwork;
  /** Parent of the per-run private folders. */
  workDir: string;
  projectRoot: string;
  leaseTimeS: number;
  readyTimeoutMs: number;
  keepFiles: boolean;
}

export interface RunResult {
  server: string;
  phase: Phase;
  rep: number;
  offeredRate: number;
  periodS: number;
  /** Spawn → UDP 67 bound in the server namespace (includes ip netns exec + taskset, ~2 ms). */
  readyMs: number;
  rssIdleKb: number | null;
  rssAfterKb: number | null;
  peakRssKb: number | null;
  /** Server CPU (user+sys, all threads) used during the load. */
  cpuS: number | null;
  /** ACKs received per second of the period (perfdhcp's own "Rate" also divides by the exit wait). */
  acksPerS: number;
  perfdhcpRate: number;
  DO: ExchangeCounters;
  RA: ExchangeCounters;
  /** Requests that got no answer in time: DO drops + RA drops (NAKs count here: perfdhcp ignores them). */
  drops: number;
  latency: { DO: LatencySummary | null; RA: LatencySummary | null };
  /** perfdhcp's per-second cumulative counters (-t 1): shows when in the run losses happened. */
  periodic: PeriodicSample[];
  /** Share of received answers perfdhcp printed a timestamp for: 1, or p99 rests on fewer samples. */
  timestampCoverage: number;
  perfdhcpExit: number | null;
  perfdhcpWallS: number;
  /**
   * Kernel UDP counter deltas over the load. Client RcvbufErrors > 0: perfdhcp lost answers itself.
   * Server side: only meaningful for servers that receive on their UDP socket (not Kea raw, not
   * dhcpd's LPF, whose unused UDP sockets overflow by design).
   */
  udp: { client: UdpCounters | null; server: UdpCounters | null };
}

export interface RunFailure {
  server: string;
  phase: Phase;
  rep: number;
  offeredRate: number;
  error: string;
}

/** Runs one load against a fresh server. Failures of the server or of perfdhcp come back as RunFailure. */
export async function runServerOnce(
  spec: ServerSpec,
  settings: RunSettings,
  phase: Phase,
  rep: number,
  load: PerfdhcpLoad & { periodS: number },
): Promise<RunResult | RunFailure> {
  const fail = (error: string): RunFailure => ({ server: spec.id, phase, rep, offeredRate: load.rate, error });
  const dir = mkdtempSync(join(settings.workDir, `${spec.id}-${phase}-${rep}-`));
  let server: Spawned | null = null;
  try {
    const launch = await spec.launch({ net: settings.net, dir, leaseTimeS: settings.leaseTimeS, projectRoot: settings.projectRoot });
    const serverOut = join(dir, 'server.out');
    const nsIno = netnsInode(settings.net.serverNs);
    const t0 = performance.now();
    // The outer timeout stops the server by itself even if the bench is killed with SIGKILL
    // (no exit handler runs then): it outlives the longest run this server can be part of.
    const lifetimeS = Math.ceil(settings.readyTimeoutMs / 1000 + perfdhcpTimeLimitS(load) + 30);
    server = spawnTracked(
      ['timeout', '--signal=TERM', '--kill-after=5', String(lifetimeS),
        'ip', 'netns', 'exec', settings.net.serverNs, 'taskset', '-c', String(SERVER_CPU), ...launch.argv],
      { env: { ...process.env, ...launch.env }, cwd: dir, outFile: serverOut },
    );
    const s = server;
    const found: { pid: number | null } = { pid: null }; // the server itself: timeout's child, after two execs
    const bound = await pollUntil(() => {
      found.pid ??= firstChild(s.pid);
      return s.exitInfo === null && found.pid !== null && isInNetns(found.pid, nsIno) && hasUdpSocket(found.pid, DHCP_SERVER_PORT);
    }, settings.readyTimeoutMs);
    const readyMs = performance.now() - t0;
    const serverPid = found.pid;
    if (!bound || serverPid === null) {
      const why = s.exitInfo ? `exited (${describeExit(s.exitInfo)})` : `did not bind UDP ${DHCP_SERVER_PORT} within ${settings.readyTimeoutMs} ms`;
      return fail(`${spec.id} ${why}\n${tail(serverOut)}`);
    }

    // Bound is not serving (a server may bind before it has loaded its state): check with DORAs.
    if (!(await probeUntilServing(s, settings, dir, t0))) {
      return fail(`${spec.id} bound UDP ${DHCP_SERVER_PORT} but answered no DORA within ${settings.readyTimeoutMs} ms\n${tail(serverOut)}`);
    }

    const idle = readMemory(serverPid);
    const cpuBefore = readCpuSeconds(serverPid);
    const udpBefore = { client: readUdpCounters(settings.net.clientNs), server: readUdpCounters(settings.net.serverNs) };
    const perf = await runPerfdhcp(settings.net, load, join(dir, 'perfdhcp.out'));
    const udpAfter = { client: readUdpCounters(settings.net.clientNs), server: readUdpCounters(settings.net.serverNs) };
    const after = readMemory(serverPid);
    const cpuAfter = readCpuSeconds(serverPid);
    if (s.exitInfo !== null) {
      return fail(`${spec.id} exited during the load (${describeExit(s.exitInfo)})\n${tail(serverOut)}`);
    }
    if (perf.report === null) {
      const raw = readCondensed(perf.outFile);
      return fail(`perfdhcp output could not be parsed: ${perf.parseError?.message ?? 'unknown'}\n--- raw perfdhcp output (${describeExit(perf.exit)}) ---\n${raw}\n--- end ---`);
    }
    const report = perf.report;
    if (report.RA === null) {
      return fail(`perfdhcp printed no REQUEST-ACK statistics\n${readCondensed(perf.outFile)}`);
    }
    const received = report.DO.received + report.RA.received;
    const stamped = report.latenciesMs.DO.length + report.latenciesMs.RA.length;
    const result: RunResult = {
      server: spec.id,
      phase,
      rep,
      offeredRate: load.rate,
      periodS: load.periodS,
      readyMs,
      rssIdleKb: idle?.rssKb ?? null,
      rssAfterKb: after?.rssKb ?? null,
      peakRssKb: after?.hwmKb ?? null,
      cpuS: cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null,
      acksPerS: report.RA.received / load.periodS,
      perfdhcpRate: report.rate,
      DO: report.DO,
      RA: report.RA,
      drops: report.DO.drops + report.RA.drops,
      latency: { DO: summarizeLatencies(report.latenciesMs.DO), RA: summarizeLatencies(report.latenciesMs.RA) },
      periodic: report.periodic,
      timestampCoverage: received === 0 ? 1 : stamped / received,
      perfdhcpExit: perf.exit.code,
      perfdhcpWallS: perf.wallS,
      udp: { client: diffUdpCounters(udpBefore.client, udpAfter.client), server: diffUdpCounters(udpBefore.server, udpAfter.server) },
    };
    if (perf.timedOut) return fail(`perfdhcp hit its outer timeout after ${perf.wallS.toFixed(1)} s`);
    return result;
  } catch (e) {
    if (e instanceof BenchError) return fail(e.message);
    throw e;
  } finally {
    if (server) await stopProcess(server);
    if (!settings.keepFiles) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A few full DORAs from one MAC outside the load's range until one is ACKed (the load starts on
 * a server that really answers). False at the ready timeout or if the server exits.
 */
async function probeUntilServing(server: Spawned, settings: RunSettings, dir: string, t0: number): Promise<boolean> {
  const deadline = t0 + settings.readyTimeoutMs;
  for (let attempt = 0; performance.now() < deadline && server.exitInfo === null; attempt++) {
    const probe = await runPerfdhcp(
      settings.net,
      { rate: 100, exchanges: 5, clients: 1, exitWaitMs: 200, macBase: '02:bb:00:00:00:01', timestamps: false },
      join(dir, `probe-${attempt}.out`),
    );
    if ((probe.report?.RA?.received ?? 0) > 0) return true;
  }
  return false;
}

function describeExit(e: { code: number | null; signal: string | null }): string {
  return e.signal ? `signal ${e.signal}` : `exit ${e.code ?? '?'}`;
}

function tail(file: string, lines = 15): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    return text === '' ? '(no output)' : text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output file)';
  }
}
