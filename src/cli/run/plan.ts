// rackstrap plan [--from-cache | --topology FILE] (definition: ../commands/plan.ts): the exact
// batch the agent would run on this host (`ip -batch` lines, whole iptables/sysctl commands, skips
// as # comments), changing nothing.
// --from-cache (the default): the cached stack and addresses, what a boot without DHCP applies.
// --topology FILE: a JSON Topology or option 43 as hex; the stack only (addresses come from DHCP).
import { previewPlan } from '../../bootstrap/plan-preview.js';
import { UsageError } from '../../errors.js';
import type { PlanOptions } from '../commands/plan.js';
import type { Io } from '../main.js';
import { loadSettings } from './settings.js';

export async function run(io: Io, o: PlanOptions): Promise<void> {
  if (o.fromCache && o.topology !== undefined) throw new UsageError('plan: give --from-cache or --topology FILE, not both');
  const { settings, runtime } = await loadSettings(o);
  const preview = await previewPlan(settings, o.topology === undefined ? { kind: 'cache' } : { kind: 'topology', file: o.topology }, runtime.runner);
  io.out(preview.text);
}
