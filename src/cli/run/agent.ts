// rackstrap agent (definition: ../commands/agent.ts): bring this filer up from DHCP (or its cache) and keep it up.
//   rackstrap agent            daemon: until SIGTERM/SIGINT (SIGHUP asks for the topology now)
//   rackstrap agent --once     bring up, write the cache, exit 0 (a oneshot unit, tests)
//   rackstrap agent --down     release the leases, remove what rackstrap built
// Settings: /etc/rackstrap/agent.yaml < RACKSTRAP_* < flags. Logs on stderr: text for the journal,
// or JSON lines with --log-format json (../../bootstrap/agent-log.ts).
import type { AgentLog } from '../../bootstrap/agent-log.js';
import { Agent, AgentStoppedError, NoConfigurationError } from '../../bootstrap/bootstrap.js';
import type { AgentService } from '../../control/agent-service.js';
import { UsageError } from '../../errors.js';
import { version } from '../version.js';
import { defaultControlSocket } from '../../bootstrap/locations.js';
import type { AgentOptions } from '../commands/agent.js';
import { EXIT_ADDRESSES_MISSING } from '../exit-codes.js';
import { ExitCode, type Io } from '../main.js';
import { systemdNotifier, type Notifier } from '../../systemd/notify.js';
import { loadSettings } from './settings.js';
import { formatDuration } from '../../options/duration.js';
import type { Advertiser } from '../../discovery/advertiser.js';
// What only the daemon (the control socket, mDNS through avahi's D-Bus) or --down needs is imported
// when it runs: `agent --once` on the boot path loads neither.

export async function run(io: Io, o: AgentOptions): Promise<void> {
  if (o.down && (o.once || o.release)) throw new UsageError('agent: --down runs on its own (not with --once or --release)');
  if (o.once && o.release) throw new UsageError('agent: --release is for the daemon; --once never holds leases after it exits');
  const { settings, log, runtime } = await loadSettings(o);
  const { runner, pool } = runtime;
  const netns = runtime.netns === undefined ? {} : { netns: runtime.netns };
  if (o.down) {
    const { bringDown } = await import('../../bootstrap/down.js');
    const r = await bringDown(settings, { runner, log, pool, ...netns });
    io.out(`down: ${r.removed} step(s) removed what rackstrap built; ${r.released.length} lease(s) released${r.notReleased.length > 0 ? `, ${r.notReleased.length} not` : ''}`);
    return;
  }
  // The daemon tells systemd it is up once the filer is whole (Agent's `ready`), or at the ready
  // deadline once its stack is built (readyGate).
  const notifier = o.once ? undefined : systemdNotifier({ onError: (err) => log.warn('notify', `cannot tell systemd: ${err.message}`) });
  const gate = notifier === undefined ? undefined : readyGate(notifier);
  const agent = new Agent(settings, { runner, log, pool, daemon: !o.once, ...netns, ...(gate ? { ready: gate.ready } : {}) });
  if (o.once) {
    let r;
    try {
      r = await agent.bringUp();
    } finally {
      await agent.stop();
      log.flush();
    }
    if (r.source === 'none') throw new NoConfigurationError(`rackstrap agent: ${r.reason}`);
    io.out(`${r.filer}: up from ${r.source === 'dhcp' ? 'DHCP' : 'the cache'}, generation ${r.generation}${r.missing.length > 0 ? `; no address yet for ${r.missing.join(', ')}` : ''}`);
    // Up, but not whole: a distinct code so a oneshot unit or a script can tell (exit-codes.ts).
    if (r.missing.length > 0) throw new ExitCode(EXIT_ADDRESSES_MISSING);
    return;
  }
  const { startAgentService } = await import('../../control/agent-service.js');
  await runDaemon(agent, o.release ?? false, log, notifier!, gate!, settings.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS, (onRelease) =>
    startAgentService({
      agent,
      runner,
      log,
      ...netns,
      socketPath: settings.controlSocket ?? defaultControlSocket(settings.cacheDir),
      stateDir: settings.cacheDir,
      agentVersion: version(),
      onRelease,
    }),
    runtime.netns === undefined ? settings.cacheDir : undefined,
  );
}

/** The READY deadline when the settings give none (agent-config.ts has the same default). */
const DEFAULT_READY_TIMEOUT_MS = 60_000;

/** READY=1 at most once; what would have been another READY only updates STATUS. */
export function readyGate(notifier: Notifier): { ready: (status: string) => void; readonly sent: boolean } {
  let sent = false;
  return {
    ready: (status) => {
      if (sent) return notifier.status(status);
      sent = true;
      notifier.ready(status);
    },
    get sent() {
      return sent;
    },
  };
}

/** Runs until SIGTERM/SIGINT; SIGHUP asks for the topology now.
 *  READY (sent by the Agent's `ready`) once every alias is addressed or the stack is up from the
 *  cache, also when that happens late: after the address timeout (STATUS names what is missing
 *  meanwhile, and the agent keeps asking) or after DHCP answers a later round. At the ready
 *  deadline (readyTimeoutMs after the start, default 60 s, below the unit's TimeoutStartSec=90),
 *  a stack built from DHCP with aliases still unaddressed is READY anyway, STATUS naming them and a
 *  warning in the log, so systemd does not restart a filer that is mostly up; the agent keeps
 *  asking, and STATUS changes once they come. With nothing built yet (no DHCP answer, no cache) it
 *  stays not READY: systemd's start timeout decides, and a restart loses nothing. */
async function runDaemon(
  agent: Agent,
  release: boolean,
  log: AgentLog,
  notifier: Notifier,
  gate: ReturnType<typeof readyGate>,
  readyTimeoutMs: number,
  startService: (onRelease: () => void) => Promise<AgentService>,
  advertiseFrom: string | undefined,
): Promise<void> {
  let onStop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (onStop = resolve));
  const deadline = setTimeout(() => {
    const c = agent.current;
    const missing = agent.missing();
    if (gate.sent || c === undefined || missing.length === 0) return;
    const what = `${c.topology.filer}: up from DHCP, generation ${c.topology.generation}; no address yet for ${missing.join(', ')}`;
    log.warn('ready-incomplete', `telling systemd the filer is up after ${formatDuration(readyTimeoutMs)} without every address (still asking for ${missing.join(', ')})`, { missing });
    gate.ready(`${what} (ready after ${formatDuration(readyTimeoutMs)}; still asking)`);
  }, readyTimeoutMs);
  let service: AgentService | undefined;
  let advertiser: Advertiser | undefined;
  const stop = (signal: string, withRelease = release) => {
    clearTimeout(deadline);
    log.info('signal', `${signal}: stopping`);
    notifier.stopping();
    // mDNS goodbye first, while the mgmt addresses are still there.
    const advertised = advertiser?.stop().catch(() => undefined) ?? Promise.resolve();
    const closing = advertised.then(() => service?.close().catch(() => undefined));
    void closing.then(() => agent.stop({ release: withRelease })).then(onStop, onStop);
  };
  const onTerm = () => stop('SIGTERM');
  const onInt = () => stop('SIGINT');
  const onHup = () => {
    log.info('signal', 'SIGHUP: asking for the topology now');
    agent.refreshNow();
  };
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  process.on('SIGHUP', onHup);
  // The control socket answers from the start (`show` during a long wait for DHCP says so).
  service = await startService(() => stop('release command', true));
  try {
    try {
      const up = await agent.bringUp();
      if (up.source !== 'none') {
        // (Unless the deadline came first: its STATUS says the same, and that it is READY.)
        if (up.missing.length > 0 && !gate.sent) notifier.status(`${up.filer}: up from DHCP, generation ${up.generation}; no address yet for ${up.missing.join(', ')}`);
        // Advertise the cluster on mgmt# only now that the stack (and its mgmt# interfaces) is up.
        if (advertiseFrom !== undefined) {
          const { advertiseMember } = await import('../../discovery/member.js');
          const a = await advertiseMember({
            cacheDir: advertiseFrom,
            version: version(),
            onEvent: ({ event, ...fields }) => {
              if (event === 'renamed' || event === 'conflict' || event === 'avahi-failure') log.warn(`mdns-${event}`, `mDNS ${event} on ${'ifname' in fields ? fields.ifname : '?'}`, fields);
              else log.info(`mdns-${event}`, `mDNS ${event}`, fields);
            },
          }).catch((err: unknown) => ({ skipped: `cannot advertise: ${(err as Error).message}` }));
          if ('skipped' in a) log.info('mdns-skipped', a.skipped);
          else advertiser = a;
        }
      } else {
        notifier.status(`not up yet: ${up.reason}`);
      }
      agent.keepUp();
    } catch (err) {
      if (!(err instanceof AgentStoppedError)) {
        await service.close();
        await agent.stop();
        throw err;
      }
    }
    await stopped;
  } finally {
    clearTimeout(deadline);
    log.flush();
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    process.off('SIGHUP', onHup);
  }
}
