// rackstrap pair-status (implementation: ../run/pair-status.ts).
import type { DefineCommand } from '../lazy.js';

export interface PairStatusOptions {
  leaseFile: string;
  json?: boolean;
}

export const definePairStatus: DefineCommand = (program, lazy) => {
  program
    .command('pair-status')
    .description("show a server pair member's role, its partner and the sync lag (from the status file next to its lease log)")
    .option('--lease-file <path>', 'the lease log of the server to ask about', '/var/lib/rackstrap/serve-leases.log')
    .option('--json', 'print the status file as JSON')
    .action(lazy(() => import('../run/pair-status.js')));
};
