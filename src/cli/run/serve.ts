// rackstrap serve FILE --interface IF [--interface IF2 ...] (definition: ../commands/serve.ts):
// the embedded DHCP server. Answers only the cluster's identifiers and topology requests (plus a
// subnet's pool, if one is configured), logs one line per exchange on stdout (text, or JSON with --log-format json), reloads FILE on
// SIGHUP and stops cleanly on SIGTERM/SIGINT. Runs until stopped; start-up problems exit 1 with
// the reason. With --pair-name it is one server of a hot-standby pair (src/sync).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import { toNumber } from '../../dhcp-server/address.js';
import { isLogLevel, LOG_LEVELS } from '../../dhcp-server/logger.js';
import { isLogFormat, lineStyle, LOG_FORMATS } from '../../log/line.js';
import type { PairHooks } from '../../dhcp-server/pair-hooks.js';
import { DhcpServer, runUntilSignalled } from '../../dhcp-server/server.js';
import type { Pair } from '../../sync/pair.js';
import { readSecretFile, secretFingerprint } from '../../sync/secret.js';
import { pairSettingsFromFlags, parseServiceAddress, withDescription } from '../../sync/settings.js';
import { readLimited } from '../../input/read-limited.js';
import type { ServeOptions } from '../commands/serve.js';
import { systemdNotifier } from '../../systemd/notify.js';
import type { Io } from '../main.js';

/** The served interface on whose network `address` lies (else the first one). */
function interfaceFor(server: DhcpServer, address: string, interfaces: readonly string[]): string {
  const a = toNumber(address);
  for (const ifname of interfaces) {
    for (const x of server.ingressOf(ifname)?.addresses ?? []) {
      const mask = x.prefixLength === 0 ? 0 : (~0 << (32 - x.prefixLength)) >>> 0;
      if (((x.address & mask) >>> 0) === ((a & mask) >>> 0)) return ifname;
    }
  }
  return interfaces[0]!;
}

/** The description has a top-level `pair:` key (a cheap look before validating it twice). */
async function describesPair(file: string): Promise<boolean> {
  try {
    return /^pair\s*:/m.test((await readLimited(file, { maxBytes: 16 * 2 ** 20, what: 'cluster description' })).toString('utf8'));
  } catch {
    return false; // the server's own load reports what is wrong with the file
  }
}

export async function run(io: Io, file: string, opts: ServeOptions): Promise<void> {
  void io; // the server logs on stdout itself; errors reach main as exceptions
  if (!isLogLevel(opts.logLevel)) throw new UsageError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(opts.logLevel)}`);
  if (!isLogFormat(opts.logFormat)) throw new UsageError(`--log-format: expected one of ${LOG_FORMATS.join(', ')}, got ${JSON.stringify(opts.logFormat)}`);
  if (opts.interface.length === 0) throw new UsageError('serve needs at least one --interface');
  // A pair in the description configures this server's side of it; flags override each setting.
  // The description is read here a second time only when it has a top-level pair section.
  const flags = { ...opts, pairPath: opts.pairPath ?? [] };
  const pairOpts = (await describesPair(file)) ? withDescription(flags, (await (await import('../../options/load.js')).loadClusterFile(file)).description) : flags;
  const pairSettings = pairSettingsFromFlags(pairOpts);
  const secret = pairSettings ? readSecretFile(pairSettings.secretFile) : undefined;
  const service = pairOpts.serviceAddress === undefined ? undefined : parseServiceAddress(pairOpts.serviceAddress);
  mkdirSync(path.dirname(path.resolve(opts.leaseFile)), { recursive: true, mode: 0o700 });
  let pair: Pair | undefined;
  // Until the pair runs, the server answers nobody: a standby must never answer, even at start.
  const hooks: PairHooks = {
    answering: () => pair?.answering() ?? false,
    guard: () => pair?.guard(),
    serviceAddress: () => pair?.serviceAddress(),
    replicate: (ops, now, done) => (pair ? pair.replicate(ops, now, done) : done()),
  };
  const server = await DhcpServer.start({
    configFile: file,
    interfaces: opts.interface,
    leaseFile: opts.leaseFile,
    logLevel: opts.logLevel,
    logStyle: lineStyle(opts.logFormat, 1),
    policy: { declineQuarantineS: opts.declineQuarantine, offerHoldS: opts.offerHold },
    reloadTimeoutMs: opts.reloadTimeout * 1000,
    ...(pairSettings ? { pair: hooks } : {}),
  });
  if (pairSettings && secret) {
    // Loaded only for a pair: a lone server starts without the sync code and its process runner.
    const [{ Pair }, { ServiceAddress }, { makeRunner }] = await Promise.all([
      import('../../sync/pair.js'), import('../../sync/service-address.js'), import('../../net/runner.js'),
    ]);
    const { secretFile, ...settings } = pairSettings;
    const log = server.log;
    log.notice('pair-secret', { file: secretFile, fingerprint: secretFingerprint(secret) });
    const serviceAddress = service && new ServiceAddress({
      ...service, ifname: interfaceFor(server, service.address, opts.interface), runner: makeRunner({ timeoutMs: 5000 }),
      warn: (event, fields) => log.log('warn', event, fields),
    });
    pair = new Pair({ ...settings, secret, statusFile: `${opts.leaseFile}.pair.json` }, {
      store: server.leases,
      config: () => server.config,
      log,
      ...(serviceAddress ? { service: serviceAddress } : {}),
      interfacesChanged: () => void server.refreshInterfaces(),
    });
    try {
      await pair.start();
    } catch (err) {
      await server.stop();
      throw err;
    }
  }
  // Sockets open, description loaded: systemd may start what needs DHCP.
  const notifier = systemdNotifier({ onError: (err) => process.stderr.write(`rackstrap serve: cannot tell systemd: ${err.message}\n`) });
  notifier.ready(`serving ${opts.interface.join(', ')}`);
  await runUntilSignalled(server, pair ? () => pair!.stop() : undefined);
  notifier.stopping();
}
