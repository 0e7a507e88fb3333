// rackstrap show <topic> (implementation: ../run/show.ts).
import type { DefineCommand } from '../lazy.js';

export const SHOW_TOPICS = ['links', 'leases', 'cache', 'features', 'stats', 'drift', 'info'] as const;

export interface ShowOptions {
  config?: string;
  cacheDir?: string;
  controlSocket?: string;
  json?: boolean;
}

export const defineShow: DefineCommand = (program, lazy) => {
  program
    .command('show')
    .description(`ask the running agent: ${SHOW_TOPICS.join(', ')} (with no agent, what its status file and cache hold)`)
    .argument('<topic>', SHOW_TOPICS.join('|'))
    .option('--config <file>', 'agent configuration (for cacheDir and controlSocket)')
    .option('--cache-dir <dir>', 'where the agent keeps its cache and status (default /var/lib/rackstrap)')
    .option('--control-socket <path>', "the agent's control socket (default /run/rackstrap/agent.sock)")
    .option('--json', "print the agent's reply as JSON")
    .action(lazy(() => import('../run/show.js')));
};
