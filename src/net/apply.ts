// apply(): the only place where the host changes (house style, os-net-config's execute). Runs the
// steps in order; on the first failure it runs the undo of every step that succeeded, newest
// first, so the host ends as it was before the run, and throws StepFailedError naming the step
// with the command's stderr.
//
// Speed without losing that guarantee: consecutive iproute2 steps run as one `ip -batch -`, which
// stops at the first failing line and names it ("Command failed -:N"), so we still know exactly
// which steps ran; consecutive iptables steps run as one `iptables-restore --noflush`, which is
// atomic (all lines or none; it names the failing line). Steps with `master` are never batched:
// iproute2 resolves that name while parsing and exits without naming the line if it is missing.
// An empty stdin would make either command succeed having done nothing: before batching, apply
// checks that the runner passes `input` through, and every ip batch ends in `link show dev lo`,
// whose output proves the batch ran to its end.
import { RackstrapError, StepFailedError } from '../errors.js';
import { formatArgv } from './batch.js';
import type { ObservedState } from './observe.js';
import { planTeardown, type Step } from './plan.js';
import type { RunResult, Runner } from './runner.js';

export interface ApplyOptions {
  runner?: Runner;
  /** Print each step as "DRY-RUN: ..." through `log` and never call the runner. */
  dryRun?: boolean;
  log?: (line: string) => void;
  /** Batch consecutive ip / iptables steps (default true); false runs one process per step. */
  batch?: boolean;
}

export interface ApplyReport {
  /** Steps that ran (all of them, when apply returns). */
  ran: Step[];
  /** One per process run. */
  results: RunResult[];
  dryRun: boolean;
}

/** The failed command, as the cause of a StepFailedError: its exit code and stderr. */
export class CommandFailedError extends RackstrapError {
  readonly argv: readonly string[];
  readonly exitCode: number;
  readonly stderr: string;
  constructor(argv: readonly string[], exitCode: number, stderr: string, cause?: Error) {
    super('RS_COMMAND', `${argv.join(' ')} exited ${exitCode}: ${stderr.trim()}`, { cause });
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

type UnitKind = 'one' | 'ip' | 'iptables';
interface Unit {
  kind: UnitKind;
  first: number;
  steps: Step[];
}

const IP_BATCH = ['ip', '-batch', '-'];
/** Last line of every ip batch: prints "1: lo: <...>" in any namespace. */
const SENTINEL = 'link show dev lo';
const SENTINEL_OUTPUT = /^\d+: lo: /m;
const IP_BATCH_FORCE = ['ip', '-force', '-batch', '-'];
const IPTABLES_RESTORE = ['iptables-restore', '-w', '--noflush'];

export async function apply(steps: readonly Step[], opts: ApplyOptions = {}): Promise<ApplyReport> {
  const log = opts.log ?? (() => {});
  if (opts.dryRun) {
    for (const s of steps) log(`DRY-RUN: ${formatArgv(s.argv)}`);
    return { ran: [], results: [], dryRun: true };
  }
  const runner = opts.runner;
  if (runner === undefined) throw new RackstrapError('RS_APPLY', 'apply() needs a runner unless dryRun is set');
  const batch = opts.batch ?? true;
  const ran: Step[] = [];
  const results: RunResult[] = [];
  const units = toUnits(steps, batch);
  if (units.some((u) => u.kind !== 'one')) {
    const probe = await runner.run(IP_BATCH, { input: `${SENTINEL}\n` });
    if (!SENTINEL_OUTPUT.test(probe.stdout)) {
      throw new RackstrapError('RS_APPLY', 'the runner does not pass `input` to the command\'s stdin, so steps cannot be batched (fix the runner or pass batch: false); nothing was changed');
    }
  }
  for (const unit of units) {
    const outcome = await runUnit(unit, runner);
    results.push(outcome.result);
    ran.push(...unit.steps.slice(0, outcome.done));
    for (const s of unit.steps.slice(0, outcome.done)) log(formatArgv(s.argv));
    if (outcome.done === unit.steps.length) continue;

    const failed = unit.steps[outcome.failedAt]!;
    const index = unit.first + outcome.failedAt;
    log(`FAILED: ${formatArgv(failed.argv)}: ${outcome.stderr.trim()}`);
    const undoFailures = await rollBack(ran, runner, batch, log);
    if (outcome.ambiguous) {
      undoFailures.unshift(
        `ip -batch stopped without naming the failed line: steps ${unit.first + 1}-${unit.first + unit.steps.length} may have partly run; observe and plan again`,
      );
    }
    throw new StepFailedError(
      failed,
      index,
      outcome.stderr,
      { rolledBack: undoFailures.length === 0, undoFailures },
      { cause: new CommandFailedError(outcome.argv, outcome.result.exitCode, outcome.stderr, outcome.result.error) },
    );
  }
  return { ran, results, dryRun: false };
}

/** Removes everything rackstrap owns (planTeardown), with the same rollback guarantee. */
export async function teardown(observed: ObservedState, opts: ApplyOptions = {}): Promise<ApplyReport> {
  return apply(planTeardown(observed).steps, opts);
}

function batchKind(argv: readonly string[], batch: boolean): UnitKind {
  if (!batch) return 'one';
  if (argv[0] === 'ip' && !argv.includes('master')) return 'ip';
  if (argv[0] === 'iptables' && argv[1] === '-w') return 'iptables';
  return 'one';
}

function toUnits(steps: readonly Step[], batch: boolean): Unit[] {
  const units: Unit[] = [];
  steps.forEach((s, i) => {
    const kind = batchKind(s.argv, batch);
    const last = units.at(-1);
    if (kind !== 'one' && last?.kind === kind) last.steps.push(s);
    else units.push({ kind, first: i, steps: [s] });
  });
  return units.map((u) => (u.steps.length === 1 ? { ...u, kind: 'one' } : u));
}

interface Outcome {
  /** How many of the unit's steps took effect. */
  done: number;
  /** Which of them failed (iptables-restore: a later line failed and nothing took effect). */
  failedAt: number;
  result: RunResult;
  /** The failing command (the step's own argv when it ran alone). */
  argv: readonly string[];
  stderr: string;
  ambiguous: boolean;
}

async function runUnit(unit: Unit, runner: Runner): Promise<Outcome> {
  const n = unit.steps.length;
  switch (unit.kind) {
    case 'one': {
      const result = await runner.run(unit.steps[0]!.argv);
      return { done: result.exitCode === 0 ? 1 : 0, failedAt: 0, result, argv: unit.steps[0]!.argv, stderr: result.stderr, ambiguous: false };
    }
    case 'ip': {
      const lines = [...unit.steps.map((s) => formatArgv(s.argv)), SENTINEL];
      const result = await runner.run(IP_BATCH, { input: `${lines.join('\n')}\n` });
      if (result.exitCode === 0) {
        if (SENTINEL_OUTPUT.test(result.stdout)) return { done: n, failedAt: n, result, argv: IP_BATCH, stderr: '', ambiguous: false };
        return { done: 0, failedAt: 0, result, argv: IP_BATCH, stderr: 'ip -batch ended without reaching its last line', ambiguous: true };
      }
      const failedLine = batchFailures(result.stderr)[0];
      if (failedLine === undefined) return { done: 0, failedAt: 0, result, argv: IP_BATCH, stderr: result.stderr, ambiguous: true };
      const done = Math.min(failedLine.line - 1, n - 1);
      return { done, failedAt: done, result, argv: unit.steps[done]!.argv, stderr: failedLine.stderr, ambiguous: false };
    }
    case 'iptables': {
      // iptables-restore: line 1 is "*filter", so step j is line j + 2. Nothing is committed on failure.
      const lines = unit.steps.map((s) => formatArgv(s.argv.slice(2)));
      const result = await runner.run(IPTABLES_RESTORE, { input: `*filter\n${lines.join('\n')}\nCOMMIT\n` });
      if (result.exitCode === 0) return { done: n, failedAt: n, result, argv: IPTABLES_RESTORE, stderr: '', ambiguous: false };
      const m = /line (\d+) failed/.exec(result.stderr);
      const at = m === null ? 0 : Math.max(0, Math.min(Number(m[1]) - 2, n - 1));
      return { done: 0, failedAt: at, result, argv: unit.steps[at]!.argv, stderr: result.stderr, ambiguous: false };
    }
  }
}

/** `ip -batch` stderr: each failing line's messages, then "Command failed -:N". */
function batchFailures(stderr: string): Array<{ line: number; stderr: string }> {
  const out: Array<{ line: number; stderr: string }> = [];
  let pending: string[] = [];
  for (const l of stderr.split('\n')) {
    const m = /^Command failed -:(\d+)$/.exec(l.trim());
    if (m === null) {
      if (l.trim() !== '') pending.push(l);
      continue;
    }
    out.push({ line: Number(m[1]), stderr: pending.join('\n') });
    pending = [];
  }
  return out;
}

/** Undo every step in `done`, newest first. Keeps going past a failed undo; returns what failed. */
async function rollBack(done: readonly Step[], runner: Runner, batch: boolean, log: (line: string) => void): Promise<string[]> {
  const undo = [...done].reverse().flatMap((s) => s.undo);
  const failures: string[] = [];
  let i = 0;
  while (i < undo.length) {
    let j = i;
    if (batchKind(undo[i]!, batch) === 'ip') while (j + 1 < undo.length && batchKind(undo[j + 1]!, batch) === 'ip') j++;
    const group = undo.slice(i, j + 1);
    i = j + 1;
    for (const argv of group) log(`UNDO: ${formatArgv(argv)}`);
    if (group.length === 1) {
      const r = await runner.run(group[0]!);
      if (r.exitCode !== 0) failures.push(`${group[0]!.join(' ')}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
      continue;
    }
    // -force: keep going past a failed line, as a single-command rollback would.
    const r = await runner.run(IP_BATCH_FORCE, { input: group.map((a) => formatArgv(a)).join('\n') + '\n' });
    if (r.exitCode === 0) continue;
    const failed = batchFailures(r.stderr);
    if (failed.length === 0) failures.push(`${IP_BATCH_FORCE.join(' ')} of ${group.length} undo commands failed: ${r.stderr.trim()}`);
    for (const f of failed) failures.push(`${group[f.line - 1]?.join(' ') ?? `line ${f.line}`}: ${f.stderr.trim()}`);
  }
  return failures;
}
