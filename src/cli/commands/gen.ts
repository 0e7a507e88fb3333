// rackstrap gen TARGET FILE [--out DIR] (implementation: ../run/gen.ts).
import { TARGETS } from '../../generate/targets.js';
import type { DefineCommand } from '../lazy.js';

export interface GenOptions {
  out?: string;
  filer?: string;
  json?: boolean;
  standalone?: boolean;
}

export const defineGen: DefineCommand = (program, lazy) => {
  program
    .command('gen')
    .description("generate DHCP server configuration (dhcpd, kea, dnsmasq), a reference dhclient.conf, the worksheet, or one filer's topology")
    .argument('<target>', `${TARGETS.join(' | ')} | topology (needs --filer) | all (needs --out)`)
    .argument('<file>', 'cluster description (YAML; - reads standard input)')
    .option('--out <dir>', 'write the files into the folder DIR (all or nothing) instead of printing')
    .option('--filer <name>', 'topology: the filer whose topology to write (JSON, as `rackstrap plan --topology FILE` reads it)')
    .option('--json', 'with --out: print what was written as one JSON object')
    .option('--standalone', 'kea: a complete kea-dhcp4.json ({"Dhcp4": ...} listening on every interface, leases in memory) instead of the fragment to merge')
    .action(lazy(() => import('../run/gen.js')));
};
