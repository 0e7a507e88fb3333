// rackstrap discover (implementation: ../run/discover.ts).
import type { DefineCommand } from '../lazy.js';

export interface DiscoverOptions {
  interface?: string[];
  watch?: boolean;
  json?: boolean;
  timeout?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export const defineDiscover: DefineCommand = (program, lazy) => {
  program
    .command('discover')
    .description('list the rackstrap clusters advertised on the network (mDNS), with their members and where joins are served')
    .option('--interface <if>', 'browse on this interface, repeatable (default: every interface with an IPv4 address)', collect)
    .option('--watch', 'keep listening and report members as they come and go (Ctrl-C stops)')
    .option('--json', 'machine-readable output (with --watch: one JSON object per line)')
    .option('--timeout <duration>', 'when nothing answers, give up after this long, e.g. 2s; a plain number is milliseconds (default 2s)')
    .action(lazy(() => import('../run/discover.js')));
};
