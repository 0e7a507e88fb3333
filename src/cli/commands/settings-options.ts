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
  retransmitBase?: string;
  refreshInterval?: string;
  retryInterval?: string;
  mask?: string;
  logLevel?: string;
  reconcile?: string;
  controlSocket?: string;
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
      .option('--log-level <level>', 'debug, info, warn or error (default info)')
      .option('--reconcile <policy>', 'when the host drifts from what was built: repair (default; only rackstrap\'s own objects), report or off')
      .option('--control-socket <path>', 'control socket for `rackstrap show` (default /run/rackstrap/agent.sock)');
  }
  return cmd;
}
