// One error family for the whole project (the undici shape: a stable machine-readable code,
// plus execa's `cause`). The CLI prints a RackstrapError's message without a stack, because it is
// advice for the operator; anything else reaching the top is a bug and keeps its stack.

export type ErrorCode = `RS_${string}`;

export class RackstrapError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Wrong command-line usage: the CLI prints usage and exits 2. */
export class UsageError extends RackstrapError {
  constructor(message: string) {
    super('RS_USAGE', message);
  }
}

/** One problem found in an input file, located as precisely as we can. */
export interface Problem {
  /** File the problem is in, when there is one. */
  file?: string;
  line?: number;
  col?: number;
  /** Dotted path of the offending field, e.g. `filers.Filer1.stack.bonds.bond0.members`. */
  field: string;
  /** The rule that was broken, phrased for an admin. */
  rule: string;
  severity: 'error' | 'warning';
}

/** `file:line:col field: rule` — the one format every command uses for input problems. */
export function formatProblem(p: Problem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}${p.col ? `:${p.col}` : ''}` : ''} ` : '';
  const tag = p.severity === 'warning' ? 'warning: ' : '';
  return `${where}${tag}${p.field}: ${p.rule}`;
}

/** An invalid cluster description (or other config file): carries every problem found. */
export class ConfigError extends RackstrapError {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    const errors = problems.filter((p) => p.severity === 'error');
    super('RS_CONFIG', errors.map(formatProblem).join('\n') || 'invalid configuration');
    this.problems = problems;
  }
}

/** Bytes that do not decode: a DHCP packet, a topology object, a cache file. `offset` where known. */
export class DecodeError extends RackstrapError {
  readonly offset: number | undefined;
  constructor(message: string, offset?: number, options?: { cause?: unknown }) {
    super('RS_DECODE', offset === undefined ? message : `${message} (at byte ${offset})`, options);
    this.offset = offset;
  }
}
