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
  /** The line of the file and a caret under the column (YAML syntax errors), for people. */
  excerpt?: string;
}

/** `file:line:col field: rule` — the one format every command uses for input problems. */
export function formatProblem(p: Problem): string {
  const where = p.file ? `${p.file}${p.line ? `:${p.line}${p.col ? `:${p.col}` : ''}` : ''} ` : '';
  const tag = p.severity === 'warning' ? 'warning: ' : '';
  return `${where}${tag}${p.field}: ${p.rule}`;
}

/** formatProblem, then the excerpt of the line when there is one (what a terminal shows). */
export function formatProblemShown(p: Problem): string {
  return p.excerpt === undefined ? formatProblem(p) : `${formatProblem(p)}\n${p.excerpt}`;
}

/** An invalid cluster description (or other config file): carries every problem found. */
export class ConfigError extends RackstrapError {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    const errors = problems.filter((p) => p.severity === 'error');
    super('RS_CONFIG', errors.map(formatProblemShown).join('\n') || 'invalid configuration');
    this.problems = problems;
  }
}

/** Bytes that do not decode: a DHCP packet, a topology object, a cache file. `offset` where known. */
export class DecodeError extends RackstrapError {
  readonly offset: number | undefined;
  /** Short stable kind of failure (e.g. `bad-cookie`), when the decoder names one: for counting and tests. */
  readonly reason: string | undefined;
  constructor(message: string, offset?: number, options?: { cause?: unknown; reason?: string }) {
    super('RS_DECODE', offset === undefined ? message : `${message} (at byte ${offset})`, options);
    this.offset = offset;
    this.reason = options?.reason;
  }
}

/** A value that cannot be put on the wire (out of range, or too big for the room allowed). */
export class EncodeError extends RackstrapError {
  /** Short stable kind of failure, e.g. `too-big`, `bad-value`. */
  readonly reason: string;
  constructor(reason: string, message: string) {
    super('RS_ENCODE', message);
    this.reason = reason;
  }
}

/** Why one cache copy was not used. */
export interface RejectedCacheCopy {
  file: string;
  reason: string;
}

/** Neither cache copy is usable (torn, corrupt, foreign, or untrustworthy): the agent must wait for DHCP. */
export class CacheCorruptError extends RackstrapError {
  readonly rejected: RejectedCacheCopy[];
  constructor(dir: string, rejected: RejectedCacheCopy[]) {
    super('RS_CACHE', `no usable cache in ${dir}:\n${rejected.map((r) => `  ${r.file}: ${r.reason}`).join('\n')}`);
    this.rejected = rejected;
  }
}

/** The cache directory could be written (or is owned) by someone else, so nothing in it can be trusted. */
export class CacheInsecureError extends RackstrapError {
  constructor(message: string) {
    super('RS_CACHE_PERM', message);
  }
}

/** A write would replace the cached configuration with an older generation, and was not forced. */
export class CacheRollbackError extends RackstrapError {
  readonly stored: number;
  readonly attempted: number;
  constructor(stored: number, attempted: number) {
    super(
      'RS_CACHE_ROLLBACK',
      `refusing to replace cached configuration generation ${stored} with older generation ${attempted} (force the write to roll back on purpose)`,
    );
    this.stored = stored;
    this.attempted = attempted;
  }
}

/** A socket call on one network interface failed: no such interface, port in use, no permission.
 *  `errno` is the errno name (ENODEV, EADDRINUSE, EPERM, ...) when the kernel gave one. */
export class SocketError extends RackstrapError {
  readonly ifname: string;
  readonly errno: string | undefined;
  constructor(ifname: string, message: string, errno?: string, options?: { cause?: unknown }) {
    super('RS_SOCKET', message, options);
    this.ifname = ifname;
    this.errno = errno;
  }
}

/** What the kernel holds conflicts with the desired state in a way rackstrap must not resolve itself
 *  (an admin's interface, address or route in the way). Lists every conflict; nothing was changed. */
export class PlanConflictError extends RackstrapError {
  readonly conflicts: string[];
  constructor(conflicts: string[]) {
    super('RS_CONFLICT', `cannot plan the network change:\n${conflicts.map((c) => `  ${c}`).join('\n')}`);
    this.conflicts = conflicts;
  }
}

/** A host-changing step failed (net/apply). `cause` is the failed command's error (with its stderr);
 *  `rolledBack` says whether every step this run had done was undone. */
export class StepFailedError extends RackstrapError {
  readonly step: { kind: string; target: string; argv: readonly string[]; reason: string };
  readonly index: number;
  readonly stderr: string;
  readonly rolledBack: boolean;
  readonly undoFailures: string[];
  constructor(
    step: { kind: string; target: string; argv: readonly string[]; reason: string },
    index: number,
    stderr: string,
    rollback: { rolledBack: boolean; undoFailures: string[] },
    options?: { cause?: unknown },
  ) {
    const what = `step ${index + 1} (${step.kind} ${step.target}) failed: ${step.argv.join(' ')}: ${stderr.trim() || 'no error text'}`;
    const after = rollback.rolledBack
      ? 'every earlier step of this run was undone'
      : `undo incomplete, the host is NOT as before:\n${rollback.undoFailures.map((f) => `  ${f}`).join('\n')}`;
    super('RS_STEP', `${what}; ${after}`, options);
    this.step = step;
    this.index = index;
    this.stderr = stderr;
    this.rolledBack = rollback.rolledBack;
    this.undoFailures = rollback.undoFailures;
  }
}
