// rackstrap validate FILE: every rule on a cluster description (implementation: ../run/validate.ts).
import type { DefineCommand } from '../lazy.js';

export interface ValidateOptions {
  strict?: boolean;
  json?: boolean;
}

export const defineValidate: DefineCommand = (program, lazy) => {
  program
    .command('validate')
    .description('check a cluster description against every rule')
    .argument('<file>', 'cluster description (YAML; - reads standard input)')
    .option('--strict', 'fail (exit 1) on warnings too')
    .option('--json', 'print the result and every problem as one JSON object on stdout')
    .action(lazy(() => import('../run/validate.js')));
};
