// From per-run results to one summary per server and one side-by-side table. Pure.
import type { RunFailure, RunResult } from './run-server.js';
import { median, medianOf } from './stats.js';

export interface ServerInfo {
  id: string;
  label: string;
  peer: boolean;
  durable: { short: string; why: string };
  version: string | null;
  /** Why it did not run at all (not installed, rackstrap without `serve`). */
  skipped: string | null;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export interface PhaseSummary {
  offeredRate: number;
  acksPerS: Spread | null;
  drops: number | null;
  dropsDO: number | null;
  dropsRA: number | null;
  avgMs: { DO: number | null; RA: number | null };
  p99Ms: { DO: number | null; RA: number | null };
  /** Server CPU time per ACK, µs (includes the work spent on requests that were dropped). */
  cpuUsPerAck: number | null;
  /** Server CPU time / period: near 100 % means the server, not perfdhcp, was the limit. */
  cpuPercent: number | null;
  /** Lowest timestamp coverage among the runs (1 = a timestamp for every answer, as expected). */
  timestampCoverage: number | null;
  /** Most answers perfdhcp's own socket dropped in one run (kernel RcvbufErrors, client namespace). */
  clientRcvbufErrors: number | null;
}

export interface ServerSummary extends ServerInfo {
  /** Best offered rate's runs (when several rates were offered, the one with the highest median). */
  max: PhaseSummary | null;
  fixed: PhaseSummary | null;
  rssIdleKb: number | null;
  rssAfterMaxKb: number | null;
  readyMs: number | null;
  /** max.acksPerS.median / best peer's; null for the best-peer reference itself only if no peer ran. */
  ratioToBestPeer: number | null;
  failures: RunFailure[];
}

export function spread(values: readonly number[]): Spread | null {
  const m = median(values);
  if (m === null) return null;
  return { median: m, min: Math.min(...values), max: Math.max(...values), n: values.length };
}

export function summarizePhase(runs: readonly RunResult[]): PhaseSummary | null {
  const first = runs[0];
  if (first === undefined) return null;
  return {
    offeredRate: first.offeredRate,
    acksPerS: spread(runs.map((r) => r.acksPerS)),
    drops: medianOf(runs.map((r) => r.drops)),
    dropsDO: medianOf(runs.map((r) => r.DO.drops)),
    dropsRA: medianOf(runs.map((r) => r.RA.drops)),
    avgMs: { DO: medianOf(runs.map((r) => r.DO.avgMs)), RA: medianOf(runs.map((r) => r.RA.avgMs)) },
    p99Ms: { DO: medianOf(runs.map((r) => r.latency.DO?.p99Ms)), RA: medianOf(runs.map((r) => r.latency.RA?.p99Ms)) },
    cpuUsPerAck: medianOf(runs.map((r) => (r.cpuS !== null && r.RA.received > 0 ? (r.cpuS / r.RA.received) * 1e6 : null))),
    cpuPercent: medianOf(runs.map((r) => (r.cpuS !== null ? (r.cpuS / r.periodS) * 100 : null))),
    timestampCoverage: Math.min(...runs.map((r) => r.timestampCoverage)),
    clientRcvbufErrors: maxOf(runs.map((r) => r.udp.client?.RcvbufErrors ?? null)),
  };
}

function maxOf(values: ReadonlyArray<number | null>): number | null {
  const v = values.filter((x): x is number => x !== null);
  return v.length ? Math.max(...v) : null;
}

/** Of the runs at several offered rates, the rate whose median ACK rate is highest. */
export function bestOfferedRate(runs: readonly RunResult[]): RunResult[] {
  const byRate = new Map<number, RunResult[]>();
  for (const r of runs) byRate.set(r.offeredRate, [...(byRate.get(r.offeredRate) ?? []), r]);
  let best: RunResult[] = [];
  let bestMedian = -1;
  for (const group of byRate.values()) {
    const m = median(group.map((r) => r.acksPerS)) ?? -1;
    if (m > bestMedian) {
      best = group;
      bestMedian = m;
    }
  }
  return best;
}

export function summarizeServer(info: ServerInfo, results: ReadonlyArray<RunResult | RunFailure>): Omit<ServerSummary, 'ratioToBestPeer'> {
  const ok = results.filter((r): r is RunResult => !('error' in r));
  const maxRuns = bestOfferedRate(ok.filter((r) => r.phase === 'max'));
  const fixedRuns = ok.filter((r) => r.phase === 'fixed');
  return {
    ...info,
    max: summarizePhase(maxRuns),
    fixed: summarizePhase(fixedRuns),
    rssIdleKb: medianOf(ok.map((r) => r.rssIdleKb)),
    rssAfterMaxKb: medianOf(maxRuns.map((r) => r.rssAfterKb)),
    readyMs: medianOf(ok.map((r) => r.readyMs)),
    failures: results.filter((r): r is RunFailure => 'error' in r),
  };
}

/** The best peer by median max ACK rate, or null when no peer produced a result. */
export function bestPeer(summaries: ReadonlyArray<Omit<ServerSummary, 'ratioToBestPeer'>>): { id: string; rate: number } | null {
  let best: { id: string; rate: number } | null = null;
  for (const s of summaries) {
    const rate = s.max?.acksPerS?.median;
    if (s.peer && rate !== undefined && (best === null || rate > best.rate)) best = { id: s.id, rate };
  }
  return best;
}

export function withRatios(summaries: ReadonlyArray<Omit<ServerSummary, 'ratioToBestPeer'>>): ServerSummary[] {
  const best = bestPeer(summaries);
  return summaries.map((s) => {
    const rate = s.max?.acksPerS?.median;
    return { ...s, ratioToBestPeer: best && best.rate > 0 && rate !== undefined ? rate / best.rate : null };
  });
}

// ---- the table ----------------------------------------------------------------------------------

const fmtInt = (n: number | null | undefined): string => (n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US'));
const fmtMs = (n: number | null | undefined): string => (n === null || n === undefined ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(0));
const pair = (a: string, b: string): string => `${a} / ${b}`;

export interface TableContext {
  fraction: number;
  fixedRate: number | null;
}

/**
 * Metrics as rows, servers as columns (side by side), as a Markdown table so the printed output
 * can be pasted into bench/README.md unchanged.
 */
export function renderTable(summaries: readonly ServerSummary[], ctx: TableContext): string {
  const cell = (s: ServerSummary, f: (s: ServerSummary) => string): string => {
    if (s.skipped) return 'skipped';
    if (s.max === null && s.fixed === null) return 'failed';
    return f(s);
  };
  const maxOf = (s: ServerSummary) => s.max;
  const fixedOf = (s: ServerSummary) => s.fixed;
  const fixedLabel = ctx.fixedRate === null ? 'fixed rate' : `${fmtInt(ctx.fixedRate)}/s`;
  const rows: Array<[string, (s: ServerSummary) => string]> = [
    ['max DORA/s, median [range]', (s) => {
      const a = maxOf(s)?.acksPerS;
      if (!a) return '–';
      return a.n > 1 ? `${fmtInt(a.median)} [${fmtInt(a.min)}–${fmtInt(a.max)}]` : fmtInt(a.median);
    }],
    ['offered for max, DORA/s', (s) => fmtInt(maxOf(s)?.offeredRate)],
    ['drops at max, DO / RA', (s) => pair(fmtInt(maxOf(s)?.dropsDO), fmtInt(maxOf(s)?.dropsRA))],
    ['latency at max, avg DO / RA ms', (s) => pair(fmtMs(maxOf(s)?.avgMs.DO), fmtMs(maxOf(s)?.avgMs.RA))],
    ['latency at max, p99 DO / RA ms', (s) => pair(fmtMs(maxOf(s)?.p99Ms.DO), fmtMs(maxOf(s)?.p99Ms.RA))],
    ['server CPU at max, % · µs/ACK', (s) => `${fmtInt(maxOf(s)?.cpuPercent)}% · ${fmtInt(maxOf(s)?.cpuUsPerAck)}`],
    [`drops at ${Math.round(ctx.fraction * 100)}% of best peer (${fixedLabel}), DO / RA`, (s) => pair(fmtInt(fixedOf(s)?.dropsDO), fmtInt(fixedOf(s)?.dropsRA))],
    [`ACKs/s at ${fixedLabel}`, (s) => fmtInt(fixedOf(s)?.acksPerS?.median)],
    [`latency at ${fixedLabel}, avg DO / RA ms`, (s) => pair(fmtMs(fixedOf(s)?.avgMs.DO), fmtMs(fixedOf(s)?.avgMs.RA))],
    [`latency at ${fixedLabel}, p99 DO / RA ms`, (s) => pair(fmtMs(fixedOf(s)?.p99Ms.DO), fmtMs(fixedOf(s)?.p99Ms.RA))],
    ['RSS idle → after max run, MB', (s) => `${fmtMb(s.rssIdleKb)} → ${fmtMb(s.rssAfterMaxKb)}`],
    ['ready (UDP 67 bound), ms', (s) => fmtMs(s.readyMs)],
    ['leases on disk before ACK', (s) => s.durable.short],
    ['max rate / best peer', (s) => (s.ratioToBestPeer === null ? '–' : `${s.ratioToBestPeer.toFixed(2)}×`)],
  ];
  const header = ['', ...summaries.map((s) => s.id)];
  const body = rows.map(([label, f]) => [label, ...summaries.map((s) => cell(s, f))]);
  return markdownTable([header, ...body]);
}

function fmtMb(kb: number | null): string {
  return kb === null ? '–' : (kb / 1024).toFixed(0);
}

export function markdownTable(rows: readonly string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 3, c.length)));
  const line = (row: readonly string[]): string => `| ${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const [head, ...rest] = rows;
  if (head === undefined) return '';
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rest.map(line)].join('\n');
}
