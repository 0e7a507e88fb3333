// rackstrap serve FILE --interface IF [--interface IF2 ...] (implementation: ../run/serve.ts).
import { UsageError } from '../../errors.js';
import { LOG_LEVELS } from '../../dhcp-server/logger.js';
import { DEFAULT_POLICY } from '../../dhcp-server/policy.js';
import type { LogLevel } from '../../dhcp-server/respond.js';
import type { PairFlags } from '../../sync/settings.js';
import type { DefineCommand } from '../lazy.js';

export const DEFAULT_LEASE_FILE = '/var/lib/rackstrap/serve-leases.log';

export interface ServeOptions extends PairFlags {
  interface: string[];
  leaseFile: string;
  logLevel: LogLevel | string;
  logFormat: string;
  declineQuarantine: number;
  offerHold: number;
}

function milliseconds(name: string): (value: string) => number {
  return (value) => {
    if (!/^[0-9]+$/.test(value) || Number(value) < 10 || Number(value) > 600_000) throw new UsageError(`${name}: expected milliseconds (10 to 600000), got ${JSON.stringify(value)}`);
    return Number(value);
  };
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
    .requiredOption('-i, --interface <name>', 'interface to serve; repeat for more', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--lease-file <path>', 'append-only lease log (one server per file)', DEFAULT_LEASE_FILE)
    .option('--log-level <level>', `${LOG_LEVELS.join(', ')}: exchanges are logged at info`, 'info')
    .option('--log-format <format>', 'text (for the journal) or json (one object per line)', 'text')
    .option('--decline-quarantine <seconds>', 'how long a DECLINEd address is not handed out', seconds('--decline-quarantine'), DEFAULT_POLICY.declineQuarantineS)
    .option('--offer-hold <seconds>', 'how long an offered address stays promised', seconds('--offer-hold'), DEFAULT_POLICY.offerHoldS)
    .option('--pair-name <name>', 'run as one server of a pair, under this name (see README: server pairs)')
    .option('--pair-listen <host:port>', "this server's sync endpoint (TCP, and UDP heartbeats)")
    .option('--pair-peer <host:port>', "the partner's sync endpoint")
    .option('--pair-path <address>', 'another address of the partner that heartbeats go to; repeat for more', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--pair-secret-file <path>', 'shared secret of the pair (a file only others cannot read; never on the command line)')
    .option('--pair-mode <mode>', 'sync: a reply waits for the partner to have the lease on disk; async: faster, but a takeover may lose the last changes', 'sync')
    .option('--pair-preferred', 'on a tie this server is the active one (set on exactly one of the two)')
    .option('--service-address <address/len>', 'the DHCP service address the active server holds (on vs_mgmt), moved and announced on takeover')
    .option('--pair-heartbeat-ms <ms>', 'heartbeat interval', milliseconds('--pair-heartbeat-ms'), 100)
    .option('--pair-dead-ms <ms>', 'the partner is gone after this long unheard on every path', milliseconds('--pair-dead-ms'), 500)
    .action(lazy(() => import('../run/serve.js')));
};
