// One drift check of the running agent: read the kernel, compare with what the agent built, and act
// by policy. `repair` applies the difference through the same transactional apply as every other
// change (only objects carrying rackstrap's marks are in it); `report` logs and records it and
// changes nothing; `off` does not look. Carrier loss and aliases with every path down are always
// reported, never repaired. A finding is logged when it appears and when it goes, not every cycle.
import { apply } from '../net/apply.js';
import type { DesiredState } from '../net/desired.js';
import { describeDrift, detectDrift, type DriftPolicy } from '../net/drift.js';
import type { Features } from '../net/features.js';
import { observe, type ObservedState } from '../net/observe.js';
import type { Runner } from '../net/runner.js';
import { RackstrapError } from '../errors.js';
import type { AgentLog } from './agent-log.js';

export { DriftState, initialDriftState } from './drift-state.js';
import type { DriftState } from './drift-state.js';

export interface DriftCheckOptions {
  runner: Runner;
  features: Features;
  log: AgentLog;
  trigger: string;
  /** An observation already made (the switch checks share it). */
  observed?: ObservedState;
}

/** Runs one check, updating `state` in place. Never throws: failures land in state.lastError and the log. */
export async function checkDrift(desired: DesiredState, state: DriftState, opts: DriftCheckOptions): Promise<ObservedState | undefined> {
  if (state.policy === 'off') return undefined;
  const log = opts.log;
  state.checks++;
  state.lastCheckAt = new Date().toISOString();
  state.lastTrigger = opts.trigger;
  let observed: ObservedState;
  try {
    observed = opts.observed ?? (await observe(opts.runner));
  } catch (err) {
    state.lastError = `cannot read the kernel's state: ${(err as Error).message}`;
    log.error('drift', state.lastError);
    return undefined;
  }
  const report = detectDrift(desired, observed, opts.features);
  const before = new Set([...state.items.map((i) => `${i.kind} ${i.target}: ${i.reason}`), ...state.conflicts.map((c) => `conflict: ${c}`), ...state.health.map((h) => h.message)]);
  const now = [...describeDrift(report), ...report.health.map((h) => h.message)];
  for (const line of now) if (!before.has(line)) log.warn('drift', line, { policy: state.policy, trigger: opts.trigger });
  for (const h of report.health) if (!before.has(h.message)) log.warn('link-health', h.message, { ifname: h.ifname, problem: h.problem });
  state.items = report.items;
  state.conflicts = report.conflicts;
  state.health = report.health;
  state.lastError = null;
  if (report.items.length > 0 && state.policy === 'repair') {
    try {
      const done = await apply(report.steps, { runner: opts.runner, log: (line) => log.debug('step', line) });
      state.repairs++;
      state.lastRepair = { at: new Date().toISOString(), steps: done.ran.length, what: report.items.map((i) => `${i.kind} ${i.target}`) };
      log.warn('repair', `repaired ${report.items.length} difference(s) with ${done.ran.length} step(s): ${state.lastRepair.what.join('; ')}`, { trigger: opts.trigger });
      state.items = [];
    } catch (err) {
      state.lastError = `the repair failed and was taken back: ${err instanceof RackstrapError ? err.message : String(err)}`;
      log.error('repair-failed', state.lastError);
    }
  } else if (report.items.length === 0 && before.size > 0 && now.length === 0) {
    log.info('drift', 'the host matches what rackstrap built again');
  }
  return observed;
}
