// One log line, as the journal or a program reads it. Two formats:
//   text (the default of `serve` and `agent`): human words with a severity. Under systemd (stdout or
//     stderr connected to the journal, which says so in $JOURNAL_STREAM) the line starts with the
//     kernel-style priority prefix `<6>` that journald strips and stores as the entry's PRIORITY:
//     `journalctl -p warning` filters by it, and warnings and errors are highlighted, while the
//     journal adds the time and the unit itself. Elsewhere (a terminal, a file) the line starts
//     with the time and the level word instead: `2026-12-04T21:00:00.000Z info  up: ...`.
//   json: one object per line (time, level, event, msg, then the fields), for programs.
import { fstatSync } from 'node:fs';

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export function isLogFormat(s: string): s is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(s);
}

export type Severity = 'debug' | 'info' | 'warn' | 'error';

/** syslog priorities (RFC 5424): what journald stores from a `<N>` prefix. */
export const SYSLOG_PRIORITY: Readonly<Record<Severity, number>> = { debug: 7, info: 6, warn: 4, error: 3 };

export interface LineStyle {
  format: LogFormat;
  /** text only: the stream goes to the journal (priority prefix, no time). */
  journal: boolean;
}

export interface LogRecord {
  time: number;
  level: Severity;
  event: string;
  /** A sentence for people; without one, the text line shows the fields as key=value. */
  msg?: string;
  fields?: Record<string, unknown>;
}

/** Longest value shown in a text line's key=value part; the JSON line has it whole. */
const MAX_TEXT_VALUE = 200;

function textValue(v: unknown): string {
  let s = typeof v === 'string' ? v : v === undefined ? 'undefined' : JSON.stringify(v) ?? String(v);
  if (s.length > MAX_TEXT_VALUE) s = `${s.slice(0, MAX_TEXT_VALUE)}...`;
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

/** `key=value key2="a b"`: the fields of a record that has no sentence (and `suppressed` of one that has). */
export function keyValues(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${textValue(v)}`)
    .join(' ');
}

/** The line, with its newline. A text line is one line: newlines inside a message are shown as `\n`. */
export function formatLogLine(style: LineStyle, r: LogRecord): string {
  const fields = r.fields ?? {};
  if (style.format === 'json') {
    const { time: _t, level: _l, event: _e, ...rest } = fields;
    return `${JSON.stringify({ time: new Date(r.time).toISOString(), level: r.level, event: r.event, ...(r.msg === undefined ? {} : { msg: r.msg }), ...rest })}\n`;
  }
  const body = r.msg === undefined ? keyValues(fields) : r.msg + (typeof fields.suppressed === 'number' && fields.suppressed > 0 ? ` (${fields.suppressed} like it left out)` : '');
  const text = `${r.event}: ${body}`.replace(/\r?\n/g, '\\n');
  return style.journal ? `<${SYSLOG_PRIORITY[r.level]}>${text}\n` : `${new Date(r.time).toISOString()} ${r.level.padEnd(5)} ${text}\n`;
}

/**
 * Whether file descriptor `fd` is the journal's stream: systemd sets JOURNAL_STREAM to the
 * `device:inode` of the stream it connects to stdout/stderr; a descriptor redirected elsewhere
 * (a pipe, a file) has another inode.
 */
export function isJournalStream(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (m === null) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
  } catch {
    return false;
  }
}

/** The style of `format` on descriptor `fd`. */
export function lineStyle(format: LogFormat, fd: number, env: NodeJS.ProcessEnv = process.env): LineStyle {
  return { format, journal: format === 'text' && isJournalStream(fd, env) };
}
