// rackstrap serve FILE --interface IF [--interface IF2 ...] (implementation: ../run/serve.ts).
import { UsageError } from '../../errors.js';
import { LOG_LEVELS } from '../../dhcp-server/logger.js';
import { DEFAULT_POLICY } from '../../dhcp-server/policy.js';
import type { LogLevel } from '../../dhcp-server/respond.js';
import type { DefineCommand } from '../lazy.js';

export const DEFAULT_LEASE_FILE = '/var/lib/rackstrap/serve-leases.log';

export interface ServeOptions {
  interface: string[];
  leaseFile: string;
  logLevel: LogLevel | string;
  declineQuarantine: number;
  offerHold: number;
}

function seconds(name: string): (value: string) => number {
  return (value) => {
    if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 2 ** 31 - 1) throw new UsageError(`${name}: expected whole seconds (1 or more), got ${JSON.stringify(value)}`);
    return Number(value);
  };
}

export const defineServe: DefineCommand = (program, lazy) => {
  program
    .command('serve')
    .description('run the embedded DHCP server for a cluster description')
    .argument('<file>', 'cluster description (YAML)')
    .requiredOption('-i, --interface <name>', 'interface to serve; repeat for more', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--lease-file <path>', 'append-only lease log (one server per file)', DEFAULT_LEASE_FILE)
    .option('--log-level <level>', `${LOG_LEVELS.join(', ')}: exchanges are logged at info`, 'info')
    .option('--decline-quarantine <seconds>', 'how long a DECLINEd address is not handed out', seconds('--decline-quarantine'), DEFAULT_POLICY.declineQuarantineS)
    .option('--offer-hold <seconds>', 'how long an offered address stays promised', seconds('--offer-hold'), DEFAULT_POLICY.offerHoldS)
    .action(lazy(() => import('../run/serve.js')));
};
