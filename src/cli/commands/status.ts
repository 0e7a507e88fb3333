// rackstrap status (implementation: ../run/status.ts).
import type { DefineCommand } from '../lazy.js';

export interface StatusOptions {
  config?: string;
  cacheDir?: string;
  json?: boolean;
}

export const defineStatus: DefineCommand = (program, lazy) => {
  program
    .command('status')
    .description("show the agent's stack, leases, cache generation and last error (exit 3 when no agent runs)")
    .option('--config <file>', 'agent configuration (for cacheDir)')
    .option('--cache-dir <dir>', 'where the agent keeps its cache and status (default /var/lib/rackstrap)')
    .option('--json', 'print the status file as JSON')
    .action(lazy(() => import('../run/status.js')));
};
