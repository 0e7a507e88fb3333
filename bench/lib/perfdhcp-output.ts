// Parser for what perfdhcp (Kea 2.2, package kea-admin) prints in DHCPv4 DORA mode with
// `-t 1 -x t`. Pure: text in, numbers out, so it is tested against captured outputs
// (test/bench/fixtures). Line-driven (`push` one line at a time) because a long run at a high
// rate prints close to a million timestamp lines; the runner streams them from a file.
//
// What perfdhcp prints, in order (measured on this machine kind):
//   Running: … / Scenario: … / WARNING: …              preamble, ignored
//   sent: 1999/1999; received: 1999/1998; drops: 0/1; rejected: 0/0     one per -t period (DO/RA)
//   ***Rate statistics***  Rate: 1999.6 4-way exchanges/second, expected rate: 2000
//   ***Malformed Packets***  Malformed packets: 0
//   ***Statistics for: DISCOVER-OFFER***  then REQUEST-ACK: `key: value` lines
//     (delays are `0.177 ms`; with nothing received perfdhcp prints `inf ms` and `n/a`, and one
//     garbled line `avg delay: min delay: n/a`)
//   ***Timestamps for packets: DISCOVER-OFFER***  then REQUEST-ACK:
//     sent / received: 000002.971197 / 000002.971308   (boost to_iso_string: HHMMSS[.ffffff] since start)
//     one line per *answered* exchange, or `Unavailable! No packets received.`
import { PerfdhcpParseError } from './errors.js';

export type ExchangeKind = 'DO' | 'RA';

/** perfdhcp's counters for one exchange type. Delays are ms; null where perfdhcp printed n/a. */
export interface ExchangeCounters {
  sent: number;
  received: number;
  /** Requests with no answer within the drop time (-d, 1 s) or before perfdhcp stopped. */
  drops: number;
  /** Answers that matched no outstanding request (late, duplicate or foreign). */
  orphans: number;
  rejectedLeases: number;
  nonUniqueAddresses: number;
  /** Requests perfdhcp expired while matching (part of `drops`). */
  collected: number;
  minMs: number | null;
  avgMs: number | null;
  maxMs: number | null;
  stdDevMs: number | null;
}

/** One `-t` periodic line: cumulative totals, DO then RA. */
export interface PeriodicSample {
  sent: number[];
  received: number[];
  drops: number[];
  rejected: number[];
}

export interface PerfdhcpReport {
  /** perfdhcp's own "Rate:" (completed exchanges / (period + exit wait)). */
  rate: number;
  expectedRate: number | null;
  malformed: number;
  DO: ExchangeCounters;
  /** Absent only when perfdhcp ran DO-only (-i); the bench always runs full DORA. */
  RA: ExchangeCounters | null;
  periodic: PeriodicSample[];
  /** Per-exchange round trip in ms, in printed order; empty when the section was empty or absent. */
  latenciesMs: Record<ExchangeKind, number[]>;
  /** Whether `-x t` timestamp sections were present at all. */
  timestampsPrinted: boolean;
}

const SECTION_NAMES: Record<string, ExchangeKind> = {
  'DISCOVER-OFFER': 'DO',
  'REQUEST-ACK': 'RA',
};

type Section =
  | { kind: 'none' }
  | { kind: 'rate' }
  | { kind: 'malformed' }
  | { kind: 'stats'; exchange: ExchangeKind | null }
  | { kind: 'timestamps'; exchange: ExchangeKind | null };

const HEADER = /^\*\*\*(.+)\*\*\*$/;
const RATE = /^Rate: (\S+) \d-way exchanges\/second(?:, expected rate: (\S+))?$/;
const PERIODIC = /^sent: ([\d/]+); received: ([\d/]+); drops: ([\d/]+); rejected: ([\d/]+)$/;
const KEY_VALUE = /^([a-z][a-z ]*[a-z]): (.*)$/;
// boost::posix_time::to_iso_string(time_duration): hours (2+ digits), minutes, seconds, and a
// fraction that is left out when it is zero (`000001` is exactly 1 s — seen in a real run).
const TIMESTAMP = /^sent \/ received: (\d{2,})(\d{2})(\d{2})(?:[.,](\d{1,9}))? \/ (\d{2,})(\d{2})(\d{2})(?:[.,](\d{1,9}))?$/;
const NUMBER = /^-?\d+(?:\.\d+)?(?:e[+-]?\d+)?$/;
const DELAY = /^(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?) ms$/;
/** What perfdhcp prints for a delay when nothing was received (see header comment). */
const DELAY_UNAVAILABLE = /(^|\s)(n\/a|-?inf ms|-?nan ms)$/;

type CountKey = 'sent' | 'received' | 'drops' | 'orphans' | 'rejectedLeases' | 'nonUniqueAddresses' | 'collected';
type DelayKey = 'minMs' | 'avgMs' | 'maxMs' | 'stdDevMs';

const COUNTER_KEYS: Record<string, CountKey> = {
  'sent packets': 'sent',
  'received packets': 'received',
  drops: 'drops',
  orphans: 'orphans',
  'rejected leases': 'rejectedLeases',
  'non unique addresses': 'nonUniqueAddresses',
  'collected packets': 'collected',
};
const DELAY_KEYS: Record<string, DelayKey> = {
  'min delay': 'minMs',
  'avg delay': 'avgMs',
  'max delay': 'maxMs',
  'std deviation': 'stdDevMs',
};
/** Keys printed in a statistics section that the bench does not need (ratios are derived). */
const IGNORED_KEYS = new Set(['drops ratio']);
const REQUIRED_COUNTERS: CountKey[] = ['sent', 'received', 'drops'];

/** Streaming parser: `push` every line, then `finish`. Throws PerfdhcpParseError with the line number. */
export class PerfdhcpOutputParser {
  private lineNo = 0;
  private section: Section = { kind: 'none' };
  private rate: number | null = null;
  private expectedRate: number | null = null;
  private malformed = 0;
  private readonly counters: Partial<Record<ExchangeKind, Partial<ExchangeCounters>>> = {};
  private readonly periodic: PeriodicSample[] = [];
  private readonly latencies: Record<ExchangeKind, number[]> = { DO: [], RA: [] };
  private timestampsPrinted = false;
  private errorLine: string | null = null;

  push(rawLine: string): void {
    this.lineNo += 1;
    const line = rawLine.trimEnd();
    if (line === '') return;

    const header = HEADER.exec(line);
    if (header) {
      this.section = sectionFor(header[1] ?? '');
      if (this.section.kind === 'timestamps') this.timestampsPrinted = true;
      return;
    }
    // perfdhcp reports command-line and socket errors as `ERROR: …` and exits; keep the first.
    if (line.startsWith('ERROR')) {
      this.errorLine ??= line;
      return;
    }
    const periodic = PERIODIC.exec(line);
    if (periodic) {
      this.periodic.push({
        sent: this.slashList(periodic[1]),
        received: this.slashList(periodic[2]),
        drops: this.slashList(periodic[3]),
        rejected: this.slashList(periodic[4]),
      });
      return;
    }

    switch (this.section.kind) {
      case 'none':
        return; // preamble and trailer lines ("Running:", warnings, "Interrupted", exit reasons)
      case 'rate':
        this.onRateLine(line);
        return;
      case 'malformed': {
        const m = /^Malformed packets: (\d+)$/.exec(line);
        if (m) this.malformed = Number(m[1]);
        return;
      }
      case 'stats':
        this.onStatsLine(line, this.section.exchange);
        return;
      case 'timestamps':
        this.onTimestampLine(line, this.section.exchange);
        return;
    }
  }

  finish(): PerfdhcpReport {
    if (this.rate === null) {
      const why = this.errorLine ? `perfdhcp failed: ${this.errorLine}` : 'no "Rate:" line (did perfdhcp finish its run?)';
      throw new PerfdhcpParseError(why, 0);
    }
    const DO = this.completeCounters('DO');
    if (DO === null) throw new PerfdhcpParseError('no DISCOVER-OFFER statistics', 0);
    return {
      rate: this.rate,
      expectedRate: this.expectedRate,
      malformed: this.malformed,
      DO,
      RA: this.completeCounters('RA'),
      periodic: this.periodic,
      latenciesMs: this.latencies,
      timestampsPrinted: this.timestampsPrinted,
    };
  }

  private onRateLine(line: string): void {
    const m = RATE.exec(line);
    if (!m) return; // e.g. a blank-ish trailer; the Rate line itself is required in finish()
    this.rate = this.number(m[1], 'rate');
    this.expectedRate = m[2] === undefined ? null : this.number(m[2], 'expected rate');
  }

  private onStatsLine(line: string, exchange: ExchangeKind | null): void {
    if (exchange === null) return; // an exchange type the bench does not run (renew, release)
    const m = KEY_VALUE.exec(line);
    if (!m) throw new PerfdhcpParseError(`unexpected line in the statistics: "${line}"`, this.lineNo);
    const key = m[1] ?? '';
    const value = m[2] ?? '';
    const target = (this.counters[exchange] ??= {});
    const counter = COUNTER_KEYS[key];
    if (counter) {
      target[counter] = this.integer(value, key);
      return;
    }
    const delay = DELAY_KEYS[key];
    if (delay) {
      target[delay] = this.delay(value, key);
      return;
    }
    if (IGNORED_KEYS.has(key)) return;
    // A key we do not know is not worth failing a run for, but it is worth noticing in tests.
  }

  private onTimestampLine(line: string, exchange: ExchangeKind | null): void {
    if (exchange === null) return;
    if (line === 'Unavailable! No packets received.') return;
    const m = TIMESTAMP.exec(line);
    if (!m) throw new PerfdhcpParseError(`unexpected line among the timestamps: "${line}"`, this.lineNo);
    const sentUs = isoDurationToMicros(m[1], m[2], m[3], m[4]);
    const receivedUs = isoDurationToMicros(m[5], m[6], m[7], m[8]);
    if (receivedUs < sentUs) {
      throw new PerfdhcpParseError(`received before sent: "${line}"`, this.lineNo);
    }
    this.latencies[exchange].push((receivedUs - sentUs) / 1000);
  }

  private completeCounters(exchange: ExchangeKind): ExchangeCounters | null {
    const c = this.counters[exchange];
    if (c === undefined) return null;
    for (const key of REQUIRED_COUNTERS) {
      if (c[key] === undefined) {
        throw new PerfdhcpParseError(`${exchange} statistics lack "${key}"`, 0);
      }
    }
    return {
      sent: c.sent ?? 0,
      received: c.received ?? 0,
      drops: c.drops ?? 0,
      orphans: c.orphans ?? 0,
      rejectedLeases: c.rejectedLeases ?? 0,
      nonUniqueAddresses: c.nonUniqueAddresses ?? 0,
      collected: c.collected ?? 0,
      minMs: c.minMs ?? null,
      avgMs: c.avgMs ?? null,
      maxMs: c.maxMs ?? null,
      stdDevMs: c.stdDevMs ?? null,
    };
  }

  private slashList(text: string | undefined): number[] {
    return (text ?? '').split('/').map((part) => this.integer(part, 'periodic report'));
  }

  private integer(text: string, what: string): number {
    if (!/^\d+$/.test(text)) throw new PerfdhcpParseError(`${what}: "${text}" is not a count`, this.lineNo);
    return Number(text);
  }

  private number(text: string | undefined, what: string): number {
    if (text === undefined || !NUMBER.test(text)) {
      throw new PerfdhcpParseError(`${what}: "${text ?? ''}" is not a number`, this.lineNo);
    }
    return Number(text);
  }

  private delay(text: string, what: string): number | null {
    const m = DELAY.exec(text);
    if (m) return Number(m[1]);
    if (DELAY_UNAVAILABLE.test(text)) return null;
    throw new PerfdhcpParseError(`${what}: "${text}" is neither "<n> ms" nor n/a`, this.lineNo);
  }
}

function sectionFor(title: string): Section {
  if (title === 'Rate statistics') return { kind: 'rate' };
  if (title === 'Malformed Packets') return { kind: 'malformed' };
  const stats = /^Statistics for: (.+)$/.exec(title);
  if (stats) return { kind: 'stats', exchange: SECTION_NAMES[stats[1] ?? ''] ?? null };
  const stamps = /^Timestamps for packets: (.+)$/.exec(title);
  if (stamps) return { kind: 'timestamps', exchange: SECTION_NAMES[stamps[1] ?? ''] ?? null };
  return { kind: 'none' };
}

function isoDurationToMicros(h = '0', m = '0', s = '0', frac = '0'): number {
  const micros = Number(frac.padEnd(6, '0').slice(0, 6));
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1_000_000 + micros;
}

/** Convenience for whole texts (tests, small runs). */
export function parsePerfdhcpOutput(text: string): PerfdhcpReport {
  const parser = new PerfdhcpOutputParser();
  for (const line of text.split('\n')) parser.push(line);
  return parser.finish();
}
