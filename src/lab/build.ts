// Builds and removes the demo's lab (lab-plan.ts decides it). Every command goes through a Runner
// (net/runner.ts), so a failure names the batch line that failed.
import { RackstrapError } from '../errors.js';
import type { Runner } from '../net/runner.js';
import type { LabBatch, LabPlan } from './lab-plan.js';

export class LabError extends RackstrapError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RS_LAB_LAB', message, options);
  }
}

async function runBatch(runner: Runner, batch: LabBatch): Promise<void> {
  const argv = batch.netns === undefined ? ['ip', '-batch', '-'] : ['ip', '-n', batch.netns, '-batch', '-'];
  const r = await runner.run(argv, { input: `${batch.lines.join('\n')}\n` });
  if (r.exitCode !== 0) throw new LabError(`building the lab${batch.netns ? ` in ${batch.netns}` : ''} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
}

/** Creates the namespaces, the switch, the filers' NICs and the server's trunk. Removes what it made on failure. */
export async function buildLab(plan: LabPlan, runner: Runner): Promise<void> {
  try {
    for (const ns of plan.namespaces) {
      const r = await runner.run(['ip', 'netns', 'add', ns]);
      if (r.exitCode !== 0) throw new LabError(`ip netns add ${ns}: ${r.stderr.trim()}`);
    }
    for (const b of plan.batches) await runBatch(runner, b);
  } catch (err) {
    await destroyLab(plan, runner);
    throw err;
  }
}

/** Deletes the lab's namespaces (their veths, bonds and bridges go with them). Never throws. */
export async function destroyLab(plan: LabPlan, runner: Runner): Promise<string[]> {
  const problems: string[] = [];
  for (const ns of [...plan.namespaces].reverse()) {
    const r = await runner.run(['ip', 'netns', 'del', ns]);
    if (r.exitCode !== 0 && !/No such file|not found/i.test(r.stderr)) problems.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
  }
  return problems;
}

/**
 * A filer "reboots": its namespace and NICs are recreated as the lab first made them, with
 * whatever the agent built gone. The switch side of its veths is rebuilt too.
 */
export function filerResetBatches(plan: LabPlan, filer: string): LabBatch[] {
  const f = plan.filers.find((x) => x.name === filer);
  if (!f) throw new LabError(`no filer ${filer} in the lab`);
  const ports = new Set(f.nics.map((n) => n.switchPort));
  const sw = plan.batches.find((b) => b.netns === plan.switchNetns)!;
  // The switch lines that concern this filer's ports (its veths, partner bonds and bridge ports).
  const bonds = new Set(plan.switchBonds.filter((b) => b.filer === filer).map((b) => b.name));
  const mine = sw.lines.filter((line) => {
    const words = line.split(' ');
    return words.some((w) => ports.has(w) || bonds.has(w));
  });
  return [
    { netns: plan.switchNetns, lines: mine },
    plan.batches.find((b) => b.netns === f.netns)!,
  ];
}

/** Recreates one filer's namespace from scratch (see filerResetBatches). */
export async function resetFiler(plan: LabPlan, filer: string, runner: Runner): Promise<void> {
  const f = plan.filers.find((x) => x.name === filer);
  if (!f) throw new LabError(`no filer ${filer} in the lab`);
  // The switch ends first: a namespace is dismantled asynchronously after `ip netns del`, so its
  // veths (and their names in the switch) could still exist when they are made again.
  const bonds = plan.switchBonds.filter((b) => b.filer === filer).map((b) => `link del ${b.name}`);
  await runBatch(runner, { netns: plan.switchNetns, lines: [...bonds, ...f.nics.map((n) => `link del ${n.switchPort}`)] });
  const del = await runner.run(['ip', 'netns', 'del', f.netns]);
  if (del.exitCode !== 0) throw new LabError(`ip netns del ${f.netns}: ${del.stderr.trim()}`);
  const add = await runner.run(['ip', 'netns', 'add', f.netns]);
  if (add.exitCode !== 0) throw new LabError(`ip netns add ${f.netns}: ${add.stderr.trim()}`);
  for (const b of filerResetBatches(plan, filer)) if (b.lines.length > 0) await runBatch(runner, b);
}
