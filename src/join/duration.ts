// Durations as people type them: `90s`, `15m`, `2h`, `1d` (or a plain number of seconds).
import { UsageError } from '../errors.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string, flag: string, max = 7 * 86_400_000): number {
  const m = /^([1-9][0-9]{0,6})([smhd]?)$/.exec(text.trim());
  if (m === null) throw new UsageError(`${flag}: "${text}" is not a duration; write it like 90s, 15m, 2h or 1d`);
  const ms = Number(m[1]) * UNIT_MS[m[2] || 's']!;
  if (ms > max) throw new UsageError(`${flag}: ${text} is longer than the ${max / 86_400_000} days a join code may live`);
  return ms;
}
