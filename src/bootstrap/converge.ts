// One change of the host, the house way: observe what the kernel holds, plan the difference to the
// desired state, apply it (net/apply.ts: transactional, rolls its own steps back on failure). What
// ran is returned with each step's undo, so the bootstrap can also take back an earlier phase of
// the same change (links built for a topology whose addresses then failed to apply).
import { apply } from '../net/apply.js';
import type { DesiredState } from '../net/desired.js';
import type { Features } from '../net/features.js';
import { observe, type ObservedState } from '../net/observe.js';
import { PlanConflictError, StepFailedError } from '../errors.js';
import { plan, type Skip, type Step } from '../net/plan.js';
import type { Runner } from '../net/runner.js';
import { formatArgv } from '../net/batch.js';
import type { AgentLog } from './agent-log.js';

export interface ConvergeOptions {
  runner: Runner;
  features: Features;
  log: AgentLog;
  /** Skips already reported: a switched-off feature is said once, not on every change. */
  reported?: Set<string>;
}

export interface Converged {
  /** Steps that ran, in order, each with its undo. */
  ran: Step[];
  skipped: Skip[];
}

/**
 * Brings the host to `desired` (scope 'links': the interface stack only, before addresses are
 * known). Throws PlanConflictError (nothing ran), StepFailedError (what ran was undone), or
 * ObserveError.
 *
 * `observed` may be an observation taken ahead of time (while waiting on DHCP) to save a round of
 * `ip` calls when it matters (boot time). If planning or applying from it fails, the host is
 * observed afresh and the change planned once more: only rackstrap changes the host meanwhile, so
 * this is a safety net, not a race the agent expects.
 */
export async function converge(desired: DesiredState, scope: 'links' | 'all', opts: ConvergeOptions, observed?: Promise<ObservedState>): Promise<Converged> {
  if (observed !== undefined) {
    try {
      return await convergeFrom(await observed, desired, scope, opts);
    } catch (err) {
      if (!(err instanceof PlanConflictError) && !(err instanceof StepFailedError && err.rolledBack)) throw err;
      opts.log.debug('apply', `planning from the earlier observation failed (${err.message.split('\n')[0]}); observing again`);
    }
  }
  return convergeFrom(await observe(opts.runner), desired, scope, opts);
}

async function convergeFrom(observed: ObservedState, desired: DesiredState, scope: 'links' | 'all', opts: ConvergeOptions): Promise<Converged> {
  const p = plan(desired, observed, opts.features, { scope });
  for (const s of p.skipped) {
    const text = `${s.target}: ${s.reason}`;
    if (opts.reported?.has(text)) continue;
    opts.reported?.add(text);
    // The net layer marks what the operator should act on (no working iptables) as a warning.
    opts.log.log(s.reason.startsWith('warning:') ? 'warn' : 'info', 'skipped', text, { feature: s.feature });
  }
  if (p.steps.length === 0) {
    opts.log.debug('apply', `nothing to change (${scope})`);
    return { ran: [], skipped: p.skipped };
  }
  const report = await apply(p.steps, { runner: opts.runner, log: (line) => opts.log.debug('step', line) });
  opts.log.info('apply', `applied ${report.ran.length} step(s) (${scope}) for ${desired.filer} generation ${desired.generation}`, { steps: report.ran.length, scope });
  return { ran: report.ran, skipped: p.skipped };
}

/** observe(), started now, its failure kept for whoever awaits it (never an unhandled rejection). */
export function observeAhead(runner: Runner): Promise<ObservedState> {
  const p = observe(runner);
  p.catch(() => undefined);
  return p;
}

/** Runs the undo commands of `ran`, newest first, past failures; returns the ones that failed. */
export async function undoSteps(ran: readonly Step[], opts: Pick<ConvergeOptions, 'runner' | 'log'>): Promise<string[]> {
  const failures: string[] = [];
  for (const argv of [...ran].reverse().flatMap((s) => s.undo)) {
    opts.log.debug('step', `UNDO: ${formatArgv(argv)}`);
    const r = await opts.runner.run(argv);
    if (r.exitCode !== 0) failures.push(`${formatArgv(argv)}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  }
  return failures;
}
