// rackstrap gen TARGET FILE [--out DIR] (implementation: ../run/gen.ts).
import { TARGETS } from '../../generate/targets.js';
import type { DefineCommand } from '../lazy.js';

export interface GenOptions {
  out?: string;
}

export const defineGen: DefineCommand = (program, lazy) => {
  program
    .command('gen')
    .description('generate DHCP server configuration (dhcpd, kea, dnsmasq), a reference dhclient.conf or the worksheet')
    .argument('<target>', `${TARGETS.join(' | ')} | all (all needs --out)`)
    .argument('<file>', 'cluster description (YAML)')
    .option('--out <dir>', 'write the files into DIR (all or nothing) instead of printing')
    .action(lazy(() => import('../run/gen.js')));
};
