// The agent's log on stderr: one line per meaningful event at info (started, topology, applied,
// up, stopped), DHCP state changes at debug. Text for the journal by default, JSON with
// `--log-format json` (time, level, event, msg, then fields; ../log/line.ts). Warnings and errors
// are limited per kind and source of trouble (a server, an interface, an identifier): at most one
// line a second each; the latest held line follows with the number it stands for (../log/limiter.ts). Nothing here knows the
// cluster key: callers pass only its id.
import type { LogFn } from '../dhcp-client/index.js';
import { LineLimiter } from '../log/limiter.js';
import { formatLogLine, type LineStyle } from '../log/line.js';

export const AGENT_LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type AgentLogLevel = (typeof AGENT_LOG_LEVELS)[number];
const RANK: Record<AgentLogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export type LogFields = Record<string, unknown>;

export interface AgentLog {
  log(level: AgentLogLevel, event: string, msg: string, fields?: LogFields): void;
  debug(event: string, msg: string, fields?: LogFields): void;
  info(event: string, msg: string, fields?: LogFields): void;
  warn(event: string, msg: string, fields?: LogFields): void;
  error(event: string, msg: string, fields?: LogFields): void;
  /** The DHCP client's line-oriented log, as `dhcp` events. */
  readonly dhcp: LogFn;
  /** Writes the warnings held back by the rate limit (before exit). */
  flush(): void;
}

export interface AgentLogOptions {
  level?: AgentLogLevel;
  /** Default JSON (in-process readers); the CLI passes the configured format. */
  style?: LineStyle;
  write?: (line: string) => void;
  now?: () => number;
  /** Warnings and errors of one kind and source at most this often (ms; default 1000). */
  limitMs?: number;
}

/** Fields that name where trouble comes from, in the order they are looked for. */
const SOURCE_FIELDS = ['source', 'server', 'serverId', 'from', 'identifier', 'interface', 'ifname', 'file'] as const;

/**
 * The source of a warning: a field naming it, else the message with its numbers taken out
 * (the DHCP client's lines name the interface or identifier in words: "eth0: ...", "refused
 * 10.0.0.7 from 10.0.0.1: ..." is one source however the numbers vary).
 */
function sourceOf(msg: string, fields: LogFields): string {
  for (const k of SOURCE_FIELDS) {
    const v = fields[k];
    if (typeof v === 'string' || typeof v === 'number') return `${k}=${v}`;
  }
  return msg.replace(/0x[0-9a-f]+|[0-9]+/gi, '#').slice(0, 120);
}

export function makeAgentLog(opts: AgentLogOptions = {}): AgentLog {
  const min = RANK[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const now = opts.now ?? Date.now;
  const style: LineStyle = opts.style ?? { format: 'json', journal: false };
  type Line = { level: AgentLogLevel; event: string; msg: string; fields: LogFields; time: number };
  const out = (l: Line, suppressed: number): void => {
    write(formatLogLine(style, { time: l.time, level: l.level, event: l.event, msg: l.msg, fields: suppressed > 0 ? { ...l.fields, suppressed } : l.fields }));
  };
  const limiter = new LineLimiter<Line>({ intervalMs: opts.limitMs ?? 1000, clock: now, emit: out });
  const log = (level: AgentLogLevel, event: string, msg: string, fields: LogFields = {}): void => {
    if (RANK[level] < min) return;
    const line = { level, event, msg, fields, time: now() };
    if (level === 'warn' || level === 'error') limiter.add(`${level} ${event} ${sourceOf(msg, fields)}`, line);
    else out(line, 0);
  };
  return {
    log,
    debug: (e, m, f) => log('debug', e, m, f),
    info: (e, m, f) => log('info', e, m, f),
    warn: (e, m, f) => log('warn', e, m, f),
    error: (e, m, f) => log('error', e, m, f),
    dhcp: (level, line) => log(level, 'dhcp', line),
    flush: () => limiter.flush(),
  };
}

/** Discards everything (library use without a log). */
export const silentAgentLog: AgentLog = makeAgentLog({ write: () => undefined });

export function isAgentLogLevel(s: string): s is AgentLogLevel {
  return (AGENT_LOG_LEVELS as readonly string[]).includes(s);
}
