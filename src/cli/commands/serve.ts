// rackstrap serve FILE --interface IF [--interface IF2 ...] (implementation: ../run/serve.ts).
import { UsageError } from '../../errors.js';
import { durationArg, formatDuration } from '../../options/duration.js';
import { LOG_LEVELS } from '../../dhcp-server/logger.js';
import { DEFAULT_POLICY, DEFAULT_RELOAD_TIMEOUT_S } from '../../dhcp-server/policy.js';
import type { LogLevel } from '../../dhcp-server/respond.js';
import type { PairFlags } from '../../sync/settings.js';
import { Option } from 'commander';
import type { DefineCommand } from '../lazy.js';

export const DEFAULT_LEASE_FILE = '/var/lib/rackstrap/serve-leases.log';

export interface ServeOptions extends PairFlags {
  interface: string[];
  leaseFile: string;
  logLevel: LogLevel | string;
  logFormat: string;
  declineQuarantine: number;
  offerHold: number;
  reloadTimeout: number;
}

/** A duration flag, returned in `unit` (whole seconds where the policy counts seconds). */
function duration(flag: string, unit: 'ms' | 's', min: number, max: number): (value: string) => number {
  return (value) => {
    const ms = durationArg(value, flag, { plain: unit, min, max });
    if (unit === 's' && ms % 1000 !== 0) throw new UsageError(`${flag}: ${value} is not a whole number of seconds`);
    return unit === 's' ? ms / 1000 : ms;
  };
}

/** An option taking a duration, its default shown as one (`(default: 10m)`). */
function durationOption(flags: string, description: string, unit: 'ms' | 's', minMs: number, fallback?: number): Option {
  const flag = flags.split(' ')[0]!;
  const max = unit === 's' ? (2 ** 31 - 1) * 1000 : 600_000;
  const option = new Option(flags, description).argParser(duration(flag, unit, minMs, max));
  return fallback === undefined ? option : option.default(fallback, formatDuration(unit === 's' ? fallback * 1000 : fallback));
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
    .addOption(durationOption('--decline-quarantine <duration>', 'how long a DECLINEd address is not handed out, e.g. 10m; a plain number is seconds', 's', 1000, DEFAULT_POLICY.declineQuarantineS))
    .addOption(durationOption('--offer-hold <duration>', 'how long an offered address stays promised, e.g. 30s; a plain number is seconds', 's', 1000, DEFAULT_POLICY.offerHoldS))
    .addOption(durationOption('--reload-timeout <duration>', 'a SIGHUP reload that takes longer (say, a hung file system) is given up and the old description kept, e.g. 2m; a plain number is seconds', 's', 1000, DEFAULT_RELOAD_TIMEOUT_S))
    .option('--pair-name <name>', 'run as one server of a pair, under this name (see README: server pairs); with a pair in the description, the server of that name (default: the one whose sync address is on this host)')
    .option('--pair-listen <host:port>', "this server's sync endpoint (TCP, and UDP heartbeats)")
    .option('--pair-peer <host:port>', "the partner's sync endpoint")
    .option('--pair-path <address>', 'another address of the partner that heartbeats go to; repeat for more', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--pair-secret-file <path>', 'shared secret of the pair (a file only others cannot read; never on the command line)')
    .option('--pair-mode <mode>', 'sync (default): a reply waits for the partner to have the lease on disk; async: faster, but a takeover may lose the last changes')
    .option('--pair-preferred', 'on a tie this server is the active one (set on exactly one of the two)')
    .option('--service-address <address/len>', 'the DHCP service address the active server holds (on vs_mgmt), moved and announced on takeover')
    .addOption(durationOption('--pair-heartbeat-ms <duration>', 'heartbeat interval, e.g. 100ms (default: the description\'s pair section, else 100ms); a plain number is milliseconds', 'ms', 10))
    .addOption(durationOption('--pair-dead-ms <duration>', 'the partner is gone after this long unheard on every path (default: the description\'s pair section, else ten heartbeats); a plain number is milliseconds', 'ms', 10))
    .addOption(durationOption('--pair-connection-timeout-ms <duration>', 'the sync connection is closed (and this server serves alone) when nothing came on it for this long; shorter than the dead time (default: the dead time less three heartbeats); a plain number is milliseconds', 'ms', 10))
    .addOption(durationOption('--pair-ack-timeout-ms <duration>', 'the same when a lease change waits this long for the partner to confirm it (default: the dead time less three heartbeats); a plain number is milliseconds', 'ms', 10))
    .action(lazy(() => import('../run/serve.js')));
};
