// rackstrap agent: bring this filer up from DHCP (or its cache) and keep it up (implementation:
// ../run/agent.ts).
//   rackstrap agent            daemon: until SIGTERM/SIGINT (SIGHUP asks for the topology now)
//   rackstrap agent --once     bring up, write the cache, exit 0 (a oneshot unit, tests)
//   rackstrap agent --down     release the leases, remove what rackstrap built
import type { DefineCommand } from '../lazy.js';
import { addSettingsOptions, type SettingsOptions } from './settings-options.js';

export interface AgentOptions extends SettingsOptions {
  once?: boolean;
  down?: boolean;
  release?: boolean;
}

export const defineAgent: DefineCommand = (program, lazy) => {
  const cmd = program
    .command('agent')
    .description('bring this filer up from DHCP (or its local cache) and keep it up')
    .option('--once', 'bring the filer up, write the cache, exit (no renewing)')
    .option('--down', 'release the leases and remove everything rackstrap built')
    .option('--release', 'daemon: on SIGTERM, release the leases and remove their addresses');
  addSettingsOptions(cmd, { timers: true });
  cmd.action(lazy(() => import('../run/agent.js')));
};
