// Structured log of the server: one line per event (time, level, event, fields; text or JSON,
// ../log/line.ts), written in
// batches (one write per turn of the event loop, not one per line) so logging every exchange
// costs little under load. Callers never pass the cluster key or anything derived from it
// except its fingerprint; the exchange records of respond.ts carry no option 43.

import type { LogLevel } from './respond.js';
import { formatLogLine, type LineStyle } from '../log/line.js';
// Lines caused by client input are limited per kind and source (src/log/limiter.ts).
export { LogLimiter } from '../log/limiter.js';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

export interface Logger {
  enabled(level: LogLevel): boolean;
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
  /** An info line written at any level: start, reload and stop are always worth a line. */
  notice(event: string, fields?: Record<string, unknown>): void;
  /** Writes what is buffered now. */
  flush(): void;
}

export interface LoggerOptions {
  level: LogLevel;
  write: (text: string) => void;
  clock?: () => number;
  /** Text for the journal or JSON (default JSON: what in-process readers parse). */
  style?: LineStyle;
}

export function createLogger(opts: LoggerOptions): Logger {
  const min = RANK[opts.level];
  const clock = opts.clock ?? Date.now;
  const style: LineStyle = opts.style ?? { format: 'json', journal: false };
  let buffered: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (buffered.length === 0) return;
    const text = buffered.join('');
    buffered = [];
    opts.write(text);
  };
  const write = (level: LogLevel, event: string, fields: Record<string, unknown>): void => {
    // time, level and event first, so a line reads well before it is parsed.
    const { level: _l, event: _e, ...rest } = fields;
    buffered.push(formatLogLine(style, { time: clock(), level, event, fields: rest }));
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return {
    enabled: (level) => RANK[level] >= min,
    log(level, event, fields = {}) {
      if (RANK[level] >= min) write(level, event, fields);
    },
    notice(event, fields = {}) {
      write('info', event, fields);
    },
    flush,
  };
}

/**
 * Counts events of one kind and logs at most one line per `intervalMs` (the count since the last
 * line, by reason, and the latest example), so a flood of garbage costs a line a second, not a
 * line a packet, and no count is lost.
 */
export class RateLimitedCounter {
  readonly #logger: Logger;
  readonly #event: string;
  readonly #intervalMs: number;
  readonly #clock: () => number;
  #lastAt = -Infinity;
  #pending = new Map<string, number>();
  #example: Record<string, unknown> | undefined;
  #timer: NodeJS.Timeout | undefined;
  total = 0;

  constructor(logger: Logger, event: string, intervalMs = 1000, clock: () => number = Date.now) {
    this.#logger = logger;
    this.#event = event;
    this.#intervalMs = intervalMs;
    this.#clock = clock;
  }

  add(reason: string, example: Record<string, unknown>): void {
    this.total++;
    this.#pending.set(reason, (this.#pending.get(reason) ?? 0) + 1);
    this.#example = example;
    const wait = this.#lastAt + this.#intervalMs - this.#clock();
    if (wait <= 0) this.emit();
    else this.#timer ??= setTimeout(() => this.emit(), wait).unref();
  }

  /** Logs what is counted and not yet logged (also at shutdown). */
  emit(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size === 0) return;
    let count = 0;
    for (const n of this.#pending.values()) count += n;
    this.#logger.log('warn', this.#event, { count, total: this.total, reasons: Object.fromEntries(this.#pending), last: this.#example });
    this.#pending = new Map();
    this.#lastAt = this.#clock();
  }
}
