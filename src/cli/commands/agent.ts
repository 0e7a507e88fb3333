// rackstrap agent: bring this filer up from DHCP (or its cache) and keep it up (issue 5).
//   rackstrap agent            daemon: until SIGTERM/SIGINT (SIGHUP asks for the topology now)
//   rackstrap agent --once     bring up, write the cache, exit 0 (a oneshot unit, tests)
//   rackstrap agent --down     release the leases, remove what rackstrap built
// Settings: /etc/rackstrap/agent.yaml < RACKSTRAP_* < flags (seed 004). Logs: JSON lines on stderr.
import type { Command } from 'commander';
import { makeAgentLog, type AgentLog } from '../../bootstrap/agent-log.js';
import { DEFAULT_CONFIG_FILE, loadAgentConfig, type TextSettings } from '../../bootstrap/agent-config.js';
import { Agent, AgentStoppedError, NoConfigurationError } from '../../bootstrap/bootstrap.js';
import { bringDown } from '../../bootstrap/down.js';
import { resolveAgentSettings, type AgentSettings } from '../../bootstrap/settings.js';
import { FEATURE_FLAG, FEATURE_NAMES, makeAgentRuntime, type Feature } from '../../bootstrap/runtime.js';
import { UsageError } from '../../errors.js';
import type { Io } from '../main.js';

/** Options every command that works from the agent's settings takes (agent, plan). */
export interface SettingsOptions {
  config?: string;
  netns?: string;
  clusterId?: string;
  vendorClass?: string;
  baseMac?: string;
  filer?: string;
  nic?: string[];
  cacheDir?: string;
  keyFile?: string;
  topologyTimeout?: string;
  addressTimeout?: string;
  retransmitBase?: string;
  refreshInterval?: string;
  retryInterval?: string;
  mask?: string;
  logLevel?: string;
  /** Commander's negatable --no-<feature>: false when given. */
  [feature: string]: unknown;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function addSettingsOptions(cmd: Command, what: { timers: boolean }): Command {
  cmd
    .option('--config <file>', `agent configuration (default ${DEFAULT_CONFIG_FILE}, or $RACKSTRAP_CONFIG)`)
    .option('--netns <name>', 'work on this network namespace instead of our own (labs, tests)')
    .option('--cluster-id <mac>', 'cluster ID, MAC form (seed 003 §5.2.4)')
    .option('--vendor-class <text>', 'option 60 sent to DHCP (default rackstrap)')
    .option('--base-mac <mac>', 'base MAC keying the topology request (default: permanent MAC of the lowest eth#)')
    .option('--filer <name>', 'refuse topology for any other filer')
    .option('--nic <eth#=kernel>', 'NIC map entry, repeatable (default: every eth<N> as itself)', collect)
    .option('--cache-dir <dir>', 'cache and status file (default /var/lib/rackstrap)')
    .option('--key-file <file>', 'cluster key: topology must be signed with it')
    .option('--mask <mask>', 'features that are ON, as a mask (seed 004 --sync-mask)');
  for (const f of FEATURE_NAMES) cmd.option(FEATURE_FLAG[f], `leave ${f === 'address' ? 'addresses' : f === 'routing' ? 'routes and rules' : `${f} interfaces`} to the site (not created, changed or removed)`);
  if (what.timers) {
    cmd
      .option('--topology-timeout <ms>', 'wait for a topology answer this long, then use the cache (default 10000)')
      .option('--address-timeout <ms>', 'wait for every alias address this long (default 10000)')
      .option('--retransmit-base <ms>', 'first DHCP retransmission delay (default 1000; RFC 2131: 4000)')
      .option('--refresh-interval <ms>', 'ask for the topology again this often (default 300000)')
      .option('--retry-interval <ms>', 'after a failed change, try again this much later (default 30000)')
      .option('--log-level <level>', 'debug, info, warn or error (default info)');
  }
  return cmd;
}

/** Flags in the shape loadAgentConfig reads (the same text parsing as RACKSTRAP_*). */
export function flagSettings(o: SettingsOptions): TextSettings {
  const disable = FEATURE_NAMES.filter((f: Feature) => o[f] === false);
  const pick = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const out: TextSettings = {
    clusterId: pick(o.clusterId),
    vendorClass: pick(o.vendorClass),
    baseMac: pick(o.baseMac),
    filer: pick(o.filer),
    nics: o.nic,
    cacheDir: pick(o.cacheDir),
    keyFile: pick(o.keyFile),
    topologyTimeoutMs: pick(o.topologyTimeout),
    addressTimeoutMs: pick(o.addressTimeout),
    retransmitBaseMs: pick(o.retransmitBase),
    refreshIntervalMs: pick(o.refreshInterval),
    retryIntervalMs: pick(o.retryInterval),
    featureMask: pick(o.mask),
    logLevel: pick(o.logLevel),
    ...(disable.length > 0 ? { disable } : {}),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as TextSettings;
}

/** Settings, log and runtime (runner, sockets) for a command working from the agent's settings. */
export async function loadSettings(o: SettingsOptions): Promise<{ settings: AgentSettings; log: AgentLog; runtime: ReturnType<typeof makeAgentRuntime> }> {
  const loaded = await loadAgentConfig({ ...(o.config === undefined ? {} : { file: o.config }), flags: flagSettings(o) });
  const log = makeAgentLog({ level: loaded.config.logLevel });
  if (loaded.file !== undefined) log.debug('config', `read ${loaded.file}`, { origins: loaded.origins });
  const runtime = makeAgentRuntime({ netns: o.netns, log });
  return { settings: await resolveAgentSettings(loaded.config, runtime.runner), log, runtime };
}

interface AgentOptions extends SettingsOptions {
  once?: boolean;
  down?: boolean;
  release?: boolean;
}

export function registerAgent(program: Command, io: Io): void {
  const cmd = program
    .command('agent')
    .description('bring this filer up from DHCP (or its local cache) and keep it up')
    .option('--once', 'bring the filer up, write the cache, exit (no renewing)')
    .option('--down', 'release the leases and remove everything rackstrap built')
    .option('--release', 'daemon: on SIGTERM, release the leases and remove their addresses');
  addSettingsOptions(cmd, { timers: true });
  cmd.action(async (o: AgentOptions) => {
    if (o.down && (o.once || o.release)) throw new UsageError('agent: --down runs on its own (not with --once or --release)');
    if (o.once && o.release) throw new UsageError('agent: --release is for the daemon; --once never holds leases after it exits');
    const { settings, log, runtime } = await loadSettings(o);
    const { runner, pool } = runtime;
    const netns = runtime.netns === undefined ? {} : { netns: runtime.netns };
    if (o.down) {
      const r = await bringDown(settings, { runner, log, pool, ...netns });
      io.out(`down: ${r.removed} step(s) removed what rackstrap built; ${r.released.length} lease(s) released${r.notReleased.length > 0 ? `, ${r.notReleased.length} not` : ''}`);
      return;
    }
    const agent = new Agent(settings, { runner, log, pool, daemon: !o.once, ...netns });
    if (o.once) {
      let r;
      try {
        r = await agent.bringUp();
      } finally {
        await agent.stop();
      }
      if (r.source === 'none') throw new NoConfigurationError(`rackstrap agent: ${r.reason}`);
      io.out(`${r.filer}: up from ${r.source === 'dhcp' ? 'DHCP' : 'the cache'}, generation ${r.generation}${r.missing.length > 0 ? `; no address yet for ${r.missing.join(', ')}` : ''}`);
      return;
    }
    await runDaemon(agent, o.release ?? false, log);
  });
}

/** Runs until SIGTERM/SIGINT; SIGHUP asks for the topology now. */
async function runDaemon(agent: Agent, release: boolean, log: AgentLog): Promise<void> {
  let onStop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (onStop = resolve));
  const stop = (signal: string) => {
    log.info('signal', `${signal}: stopping`);
    void agent.stop({ release }).then(onStop, onStop);
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
  try {
    try {
      await agent.bringUp();
      agent.keepUp();
    } catch (err) {
      if (!(err instanceof AgentStoppedError)) {
        await agent.stop();
        throw err;
      }
    }
    await stopped;
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    process.off('SIGHUP', onHup);
  }
}
