// rackstrap serve FILE --interface IF [--interface IF2 ...] (definition: ../commands/serve.ts):
// the embedded DHCP server. Answers only the cluster's identifiers and topology requests (plus a
// subnet's pool, if one is configured), logs one JSON line per exchange on stdout, reloads FILE on
// SIGHUP and stops cleanly on SIGTERM/SIGINT. Runs until stopped; start-up problems exit 1 with
// the reason.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { isLogLevel, LOG_LEVELS } from '../../dhcp-server/logger.js';
import { DhcpServer, runUntilSignalled } from '../../dhcp-server/server.js';
import type { ServeOptions } from '../commands/serve.js';
import { systemdNotifier } from '../../systemd/notify.js';
import type { Io } from '../main.js';

export async function run(io: Io, file: string, opts: ServeOptions): Promise<void> {
  void io; // the server logs JSON lines on stdout itself; errors reach main as exceptions
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
  // Sockets open, description loaded: systemd may start what needs DHCP.
  const notifier = systemdNotifier({ onError: (err) => process.stderr.write(`rackstrap serve: cannot tell systemd: ${err.message}\n`) });
  notifier.ready(`serving ${opts.interface.join(', ')}`);
  await runUntilSignalled(server);
  notifier.stopping();
}
