// rackstrap validate FILE: every rule on a cluster description (implementation: ../run/validate.ts).
import type { DefineCommand } from '../lazy.js';

export const defineValidate: DefineCommand = (program, lazy) => {
  program
    .command('validate')
    .description('check a cluster description against every rule')
    .argument('<file>', 'cluster description (YAML)')
    .action(lazy(() => import('../run/validate.js')));
};
