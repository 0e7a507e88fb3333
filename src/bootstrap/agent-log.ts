// The agent's log: one JSON object per line on stderr (time, level, event, msg, then fields), so a
// journal reader and a test can both follow it. Nothing here knows the cluster key: callers pass
// only its fingerprint (fingerprintKey, `sha256:...`).
import type { LogFn } from '../dhcp-client/index.js';

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
}

export interface AgentLogOptions {
  level?: AgentLogLevel;
  write?: (line: string) => void;
  now?: () => number;
}

export function makeAgentLog(opts: AgentLogOptions = {}): AgentLog {
  const min = RANK[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const now = opts.now ?? Date.now;
  const log = (level: AgentLogLevel, event: string, msg: string, fields: LogFields = {}): void => {
    if (RANK[level] < min) return;
    write(`${JSON.stringify({ time: new Date(now()).toISOString(), level, event, msg, ...fields })}\n`);
  };
  return {
    log,
    debug: (e, m, f) => log('debug', e, m, f),
    info: (e, m, f) => log('info', e, m, f),
    warn: (e, m, f) => log('warn', e, m, f),
    error: (e, m, f) => log('error', e, m, f),
    dhcp: (level, line) => log(level, 'dhcp', line),
  };
}

/** Discards everything (library use without a log). */
export const silentAgentLog: AgentLog = makeAgentLog({ write: () => undefined });

export function isAgentLogLevel(s: string): s is AgentLogLevel {
  return (AGENT_LOG_LEVELS as readonly string[]).includes(s);
}
