// rackstrap plan [--from-cache | --topology FILE]: the exact batch the agent would run on this host
// (`ip -batch` lines, whole iptables/sysctl commands, skips as # comments), changing nothing.
// --from-cache (the default): the cached stack and addresses, what a boot without DHCP applies.
// --topology FILE: a JSON Topology or option 43 as hex; the stack only (addresses come from DHCP).
import type { Command } from 'commander';
import { previewPlan } from '../../bootstrap/plan-preview.js';
import { UsageError } from '../../errors.js';
import type { Io } from '../main.js';
import { addSettingsOptions, loadSettings, type SettingsOptions } from './agent.js';

interface PlanOptions extends SettingsOptions {
  fromCache?: boolean;
  topology?: string;
}

export function registerPlan(program: Command, io: Io): void {
  const cmd = program
    .command('plan')
    .description('print the exact batch the agent would run here, changing nothing')
    .option('--from-cache', 'plan from the cached topology and addresses (the default)')
    .option('--topology <file>', 'plan the stack of this topology: JSON, or option 43 bytes as hex');
  addSettingsOptions(cmd, { timers: false });
  cmd.action(async (o: PlanOptions) => {
    if (o.fromCache && o.topology !== undefined) throw new UsageError('plan: give --from-cache or --topology FILE, not both');
    const { settings, runtime } = await loadSettings(o);
    const preview = await previewPlan(settings, o.topology === undefined ? { kind: 'cache' } : { kind: 'topology', file: o.topology }, runtime.runner);
    io.out(preview.text);
  });
}
