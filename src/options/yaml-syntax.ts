// A YAML syntax error as netplan shows one: the first error only (the ones after it are mostly
// the parser losing its place), at file:line:col, with the line and a caret under the column.
import type { LineCounter } from 'yaml';
import type { Problem } from '../errors.js';

/** Longest part of a line shown; a longer line is cut around the column. */
const EXCERPT_WIDTH = 100;

/** The line `line` of `text` and a caret under column `col` (1-based), indented two spaces. */
export function caretExcerpt(text: string, line: number, col: number): string | undefined {
  let start = 0;
  for (let n = 1; n < line; n++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return undefined;
    start = nl + 1;
  }
  const end = text.indexOf('\n', start);
  let shown = text.slice(start, end < 0 ? text.length : end).replace(/\r$/, '');
  let at = Math.max(0, Math.min(col - 1, shown.length));
  if (shown.length > EXCERPT_WIDTH) {
    const from = Math.max(0, Math.min(at - EXCERPT_WIDTH / 2, shown.length - EXCERPT_WIDTH));
    shown = `${from > 0 ? '...' : ''}${shown.slice(from, from + EXCERPT_WIDTH)}${from + EXCERPT_WIDTH < shown.length ? '...' : ''}`;
    at = at - from + (from > 0 ? 3 : 0);
  }
  // Control characters would move the terminal's cursor; tabs are kept so the caret lines up.
  shown = shown.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '?');
  const pad = shown.slice(0, at).replace(/[^\t]/g, ' ');
  return `  ${shown}\n  ${pad}^`;
}

/** The first message line of a yaml library error (the rest is its own excerpt). */
export function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/** The earliest of `errors` (by offset) as a problem with its excerpt; undefined when there is none. */
export function firstYamlError(
  errors: ReadonlyArray<{ pos: readonly [number, number]; message: string }>,
  text: string,
  lines: LineCounter,
  file: string,
): Problem | undefined {
  if (errors.length === 0) return undefined;
  const first = errors.reduce((a, b) => (b.pos[0] < a.pos[0] ? b : a));
  return yamlProblemAt(first.pos[0], firstLine(first.message), text, lines, file);
}

/** A `(yaml)` problem at text offset `offset`, with its excerpt. */
export function yamlProblemAt(offset: number, rule: string, text: string, lines: LineCounter, file: string): Problem {
  const { line, col } = lines.linePos(Math.min(offset, text.length));
  const excerpt = caretExcerpt(text, line, col);
  return { file, line, col, field: '(yaml)', rule, severity: 'error', ...(excerpt === undefined ? {} : { excerpt }) };
}
