// rackstrap plan [--from-cache | --topology FILE] (implementation: ../run/plan.ts).
import type { DefineCommand } from '../lazy.js';
import { addSettingsOptions, type SettingsOptions } from './settings-options.js';

export interface PlanOptions extends SettingsOptions {
  fromCache?: boolean;
  topology?: string;
}

export const definePlan: DefineCommand = (program, lazy) => {
  const cmd = program
    .command('plan')
    .description('print the exact batch the agent would run here, changing nothing')
    .option('--from-cache', 'plan from the cached topology and addresses (the default)')
    .option('--topology <file>', 'plan the stack of this topology: JSON, or option 43 bytes as hex');
  addSettingsOptions(cmd, { timers: false });
  cmd.action(lazy(() => import('../run/plan.js')));
};
