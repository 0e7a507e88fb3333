// Durations as people type them: `500ms`, `10s`, `2m`, `1h`, `1d` (a whole number, or a decimal
// like `1.5s`, then the unit). A plain number is allowed where its unit is documented (the
// agent's *Ms settings are milliseconds, `--ttl` seconds) and means that unit.
import { UsageError } from '../errors.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export type PlainUnit = 'ms' | 's';

/**
 * Milliseconds (whole), or why `text` is not a duration. The reason does not repeat the value
 * (`not a duration; write it like ...`): the caller shows it once, where it names the setting.
 */
export function durationMs(text: string | number, plain: PlainUnit): { ok: true; ms: number } | { ok: false; reason: string } {
  const s = typeof text === 'number' ? String(text) : text.trim();
  const m = /^([0-9]{1,12}(?:\.[0-9]{1,3})?)(ms|s|m|h|d)?$/.exec(s);
  if (m === null) return { ok: false, reason: `not a duration; write it like 500ms, 10s, 2m or 1h${plain === 'ms' ? ' (a plain number is milliseconds)' : ' (a plain number is seconds)'}` };
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? plain]!;
  if (!Number.isInteger(ms)) return { ok: false, reason: 'not a whole number of milliseconds' };
  return { ok: true, ms };
}

/** `10000` -> `10s`, `300000` -> `5m`, `250` -> `250ms`: the largest unit that divides it. */
export function formatDuration(ms: number): string {
  for (const u of ['d', 'h', 'm', 's'] as const) if (ms >= UNIT_MS[u]! && ms % UNIT_MS[u]! === 0) return `${ms / UNIT_MS[u]!}${u}`;
  return `${ms}ms`;
}

/** A command-line duration in milliseconds within [min, max], or a UsageError naming the flag. */
export function durationArg(text: string, flag: string, o: { plain: PlainUnit; min: number; max: number }): number {
  const r = durationMs(text, o.plain);
  if (!r.ok) throw new UsageError(`${flag}: "${text.trim()}" is ${r.reason}`);
  if (r.ms < o.min || r.ms > o.max) throw new UsageError(`${flag}: ${text} is out of range: from ${formatDuration(o.min)} to ${formatDuration(o.max)}`);
  return r.ms;
}
