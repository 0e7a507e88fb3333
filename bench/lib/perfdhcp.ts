// Running perfdhcp in the client namespace, pinned to CPU1, always bounded: `-p` or `-n` plus an
// outer `timeout` (without them perfdhcp never stops — perf-baselines.md). Output goes to a file
// and is parsed as a stream (a long run prints ~1M timestamp lines).
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { BenchNetwork } from './netns.js';
import { PerfdhcpOutputParser, type PerfdhcpReport } from './perfdhcp-output.js';
import { spawnTracked, type ExitInfo } from './proc.js';

export const CLIENT_CPU = 1;

export interface PerfdhcpLoad {
  /** Offered DORA exchanges per second (-r). */
  rate: number;
  /** Test period in whole seconds (-p; perfdhcp refuses fractions). Omit when `exchanges` is set. */
  periodS?: number;
  /** Number of exchanges (-n), for the short readiness probe. */
  exchanges?: number;
  /** Distinct client MACs, cycled (-R). */
  clients: number;
  /**
   * Time perfdhcp keeps receiving after it stops sending (-W). Without it the exchanges still in
   * flight when the period ends count as drops, which would make "zero drops" unreachable.
   */
  exitWaitMs: number;
  /** First client MAC (-b mac=…), so the probe's clients differ from the load's. */
  macBase?: string;
  /** Per-exchange timestamps (-x t) for percentiles. */
  timestamps: boolean;
}

/** perfdhcp's own arguments (the part a reader of the README would type). */
export function perfdhcpArgs(net: BenchNetwork, load: PerfdhcpLoad): string[] {
  const args = ['-4', '-l', net.clientIf, '-g', 'single', '-r', String(load.rate), '-R', String(load.clients)];
  if (load.periodS !== undefined) args.push('-p', String(load.periodS), '-t', '1');
  if (load.exchanges !== undefined) args.push('-n', String(load.exchanges));
  args.push('-W', String(Math.round(load.exitWaitMs * 1000)));
  if (load.macBase !== undefined) args.push('-b', `mac=${load.macBase}`);
  if (load.timestamps) args.push('-x', 't');
  args.push(net.serverIp);
  return args;
}

/** Seconds the outer `timeout` allows: the run, the exit wait, and printing ~1M lines. */
export function perfdhcpTimeLimitS(load: PerfdhcpLoad): number {
  const runS = load.periodS ?? Math.ceil((load.exchanges ?? 1) / Math.max(load.rate, 1));
  return Math.ceil(runS + load.exitWaitMs / 1000) + 30;
}

/** The full command line: timeout → ip netns exec → taskset → perfdhcp. */
export function perfdhcpArgv(net: BenchNetwork, load: PerfdhcpLoad): string[] {
  return [
    'timeout', '--signal=INT', '--kill-after=5', String(perfdhcpTimeLimitS(load)),
    'ip', 'netns', 'exec', net.clientNs,
    'taskset', '-c', String(CLIENT_CPU),
    'perfdhcp', ...perfdhcpArgs(net, load),
  ];
}

export interface PerfdhcpRun {
  exit: ExitInfo;
  /** The outer timeout fired (exit 124): the report, if any, is from perfdhcp's SIGINT handler. */
  timedOut: boolean;
  wallS: number;
  outFile: string;
  /** Parsed output, or the parse error (callers print the raw output with it). */
  report: PerfdhcpReport | null;
  parseError: Error | null;
}

export async function runPerfdhcp(net: BenchNetwork, load: PerfdhcpLoad, outFile: string): Promise<PerfdhcpRun> {
  const t0 = performance.now();
  const p = spawnTracked(perfdhcpArgv(net, load), { outFile });
  const exit = await p.exited;
  const wallS = (performance.now() - t0) / 1000;
  let report: PerfdhcpReport | null = null;
  let parseError: Error | null = null;
  try {
    report = await parsePerfdhcpFile(outFile);
  } catch (e) {
    parseError = e instanceof Error ? e : new Error(String(e));
  }
  return { exit, timedOut: exit.code === 124, wallS, outFile, report, parseError };
}

export async function parsePerfdhcpFile(file: string): Promise<PerfdhcpReport> {
  const parser = new PerfdhcpOutputParser();
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) parser.push(line);
  return parser.finish();
}

/**
 * The raw output for a human, with long runs of timestamp lines folded to their first and last
 * few (a full run would be a million lines). Everything else is printed as is.
 */
export function condenseRawOutput(text: string, keep = 3): string {
  const out: string[] = [];
  let run: string[] = [];
  const flush = (): void => {
    if (run.length > 2 * keep + 1) {
      out.push(...run.slice(0, keep), `[… ${run.length - 2 * keep} more timestamp lines …]`, ...run.slice(-keep));
    } else {
      out.push(...run);
    }
    run = [];
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('sent / received: ')) {
      run.push(line);
    } else {
      flush();
      out.push(line);
    }
  }
  flush();
  return out.join('\n');
}

export function readCondensed(file: string): string {
  try {
    return condenseRawOutput(readFileSync(file, 'utf8'));
  } catch (e) {
    return `(could not read ${file}: ${e instanceof Error ? e.message : String(e)})`;
  }
}
