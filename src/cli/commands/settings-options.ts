// Options of every command that works from the agent's settings (agent, plan): their definitions
// only; src/cli/run/settings.ts turns them into settings.
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../../bootstrap/locations.js';
import { FEATURE_FLAG, FEATURE_NAMES } from '../../net/features.js';

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
  readyTimeout?: string;
  retransmitBase?: string;
  refreshInterval?: string;
  retryInterval?: string;
  mask?: string;
  logLevel?: string;
  logFormat?: string;
  reconcile?: string;
  controlSocket?: string;
  /** Commander's negatable --no-<feature>: false when given. */
  [feature: string]: unknown;
}

/** What each feature switch leaves alone, in words. */
const FEATURE_WORDS: Readonly<Record<(typeof FEATURE_NAMES)[number], string>> = {
  bond: 'bonds',
  failover: 'failover groups',
  vlan: 'VLAN interfaces',
  alias: 'alias interfaces',
  address: 'addresses',
  routing: 'routes and rules',
  accounting: 'the per-server traffic counters (iptables)',
};

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function addSettingsOptions(cmd: Command, what: { timers: boolean }): Command {
  if (what.timers) cmd.addHelpText('after', '\nDurations are written like 500ms, 10s, 2m or 1h; a plain number is milliseconds.');
  cmd
    .option('--config <file>', `agent configuration (default ${DEFAULT_CONFIG_FILE}, or $RACKSTRAP_CONFIG)`)
    .option('--netns <name>', 'work on this network namespace instead of our own (labs, tests)')
    .option('--cluster-id <mac>', "the cluster's ID, in MAC form (cluster.id in the description)")
    .option('--vendor-class <text>', 'option 60 sent to DHCP (default rackstrap)')
    .option('--base-mac <mac>', 'base MAC keying the topology request (default: permanent MAC of the lowest eth#)')
    .option('--filer <name>', 'refuse topology for any other filer')
    .option('--nic <eth#=kernel>', 'NIC map entry, repeatable (default: every eth<N> as itself)', collect)
    .option('--cache-dir <dir>', 'cache and status file (default /var/lib/rackstrap)')
    .option('--key-file <file>', 'cluster key: topology must be signed with it')
    .option('--mask <mask>', 'features that are ON, as a bit mask: bond 0x1, failover 0x2, vlan 0x4, alias 0x8, address 0x10, routing 0x20, accounting 0x40');
  for (const f of FEATURE_NAMES) cmd.option(FEATURE_FLAG[f], `leave ${FEATURE_WORDS[f]} to the site (not created, changed or removed)`);
  if (what.timers) {
    cmd
      .option('--topology-timeout <duration>', 'wait for a topology answer this long, then use the cache (default 10s)')
      .option('--address-timeout <duration>', 'wait for every alias address this long (default 10s)')
      .option('--ready-timeout <duration>', 'the daemon tells systemd it is up at the latest this long after its start, also with aliases still unaddressed (default 60s)')
      .option('--retransmit-base <duration>', 'first DHCP retransmission delay (default 1s; RFC 2131: 4s)')
      .option('--refresh-interval <duration>', 'ask for the topology again this often (default 5m)')
      .option('--retry-interval <duration>', 'after a failed change, try again this much later (default 30s)')
      .option('--log-level <level>', 'debug, info, warn or error (default info)')
      .option('--log-format <format>', 'text (for the journal, default) or json (one object per line)')
      .option('--reconcile <policy>', 'when the host drifts from what was built: repair (default; only rackstrap\'s own objects), report or off')
      .option('--control-socket <path>', 'control socket for `rackstrap show` (default /run/rackstrap/agent.sock)');
  }
  return cmd;
}
