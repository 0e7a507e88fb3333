// rackstrap lab (implementation: ../run/lab.ts).
import type { DefineCommand } from '../lazy.js';

export interface LabCommandOptions {
  filer?: string[];
  out?: string;
  json?: boolean;
  dhcpTimeout?: string;
  skipLive?: boolean;
  skipCache?: boolean;
}

export const defineLab: DefineCommand = (program, lazy) => {
  program
    .command('lab')
    .description('rehearse a cluster on a real kernel before the boxes arrive: user-mode Linux with a fake switch, the DHCP server and every filer\'s agent; each kernel is checked against the description')
    .argument('<file>', 'cluster description (YAML)')
    .option('--filer <name...>', 'only these filers (default: every filer)')
    .option('--out <dir>', "keep the guest's files: each filer's `ip -j -d` after each step, the checks, agent logs, caches, results.json")
    .option('--json', 'print the results as JSON (progress goes to stderr)')
    .option('--dhcp-timeout <duration>', 'how long each agent waits for DHCP before it uses its cache, e.g. 3s; a plain number is milliseconds (default 3s)')
    .option('--skip-cache', 'skip the cache step (and the live change after it)')
    .option('--skip-live', 'skip the live change')
    .action(lazy(() => import('../run/lab.js')));
};
