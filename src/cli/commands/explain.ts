// rackstrap explain FILE [--filer NAME] (implementation: ../run/explain.ts).
import type { DefineCommand } from '../lazy.js';

export interface ExplainOptions {
  filer?: string;
}

export const defineExplain: DefineCommand = (program, lazy) => {
  program
    .command('explain')
    .description('show what a cluster description means: stacks as trees, identifiers, failover reachability')
    .argument('<file>', 'cluster description (YAML)')
    .option('--filer <name>', 'only this filer')
    .action(lazy(() => import('../run/explain.js')));
};
