// rackstrap serve FILE --interface IF [--interface IF2 ...]: the embedded DHCP server (issue 3).
// Answers only the cluster's identifiers and topology requests (plus a subnet's pool, if one is
// configured), logs one JSON line per exchange on stdout, reloads FILE on SIGHUP and stops
// cleanly on SIGTERM/SIGINT. Runs until stopped; start-up problems exit 1 with the reason.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { isLogLevel, LOG_LEVELS } from '../../dhcp-server/logger.js';
import { DEFAULT_POLICY } from '../../dhcp-server/respond.js';
import { DhcpServer, runUntilSignalled } from '../../dhcp-server/server.js';
import type { Io } from '../main.js';

export const DEFAULT_LEASE_FILE = '/var/lib/rackstrap/serve-leases.log';

function seconds(name: string): (value: string) => number {
  return (value) => {
    if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 2 ** 31 - 1) throw new UsageError(`${name}: expected whole seconds (1 or more), got ${JSON.stringify(value)}`);
    return Number(value);
  };
}

export function registerServe(program: Command, io: Io): void {
  void io; // the server logs JSON lines on stdout itself; errors reach main as exceptions
  program
    .command('serve')
    .description('run the embedded DHCP server for a cluster description')
    .argument('<file>', 'cluster description (YAML)')
    .requiredOption('-i, --interface <name>', 'interface to serve; repeat for more', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--lease-file <path>', 'append-only lease log (one server per file)', DEFAULT_LEASE_FILE)
    .option('--log-level <level>', `${LOG_LEVELS.join(', ')}: exchanges are logged at info`, 'info')
    .option('--decline-quarantine <seconds>', 'how long a DECLINEd address is not handed out', seconds('--decline-quarantine'), DEFAULT_POLICY.declineQuarantineS)
    .option('--offer-hold <seconds>', 'how long an offered address stays promised', seconds('--offer-hold'), DEFAULT_POLICY.offerHoldS)
    .action(async (file: string, opts: { interface: string[]; leaseFile: string; logLevel: string; declineQuarantine: number; offerHold: number }) => {
      if (!isLogLevel(opts.logLevel)) throw new UsageError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(opts.logLevel)}`);
      if (opts.interface.length === 0) throw new UsageError('serve needs at least one --interface');
      mkdirSync(path.dirname(path.resolve(opts.leaseFile)), { recursive: true, mode: 0o700 });
      const server = await DhcpServer.start({
        configFile: file,
        interfaces: opts.interface,
        leaseFile: opts.leaseFile,
        logLevel: opts.logLevel,
        policy: { declineQuarantineS: opts.declineQuarantine, offerHoldS: opts.offerHold },
      });
      await runUntilSignalled(server);
    });
}
