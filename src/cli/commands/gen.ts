// rackstrap gen TARGET FILE [--out DIR] (implementation: ../run/gen.ts).
import { TARGETS } from '../../generate/targets.js';
import type { DefineCommand } from '../lazy.js';

export interface GenOptions {
  out?: string;
  filer?: string;
  json?: boolean;
  standalone?: boolean;
  ha?: string;
  haSelf?: string;
  haTiming?: string;
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
    .option('--ha <peers>', "kea: Kea's own hot-standby pair (hooks libdhcp_ha.so and libdhcp_lease_cmds.so): primary=URL,standby=URL")
    .option('--ha-self <name>', 'kea --ha: which of the two this file is for (primary or standby)', 'primary')
    .option('--ha-timing <timing>', "kea --ha: default (Kea's own: heartbeat 10 s, partner-down after 60 s) or fast (heartbeat 100 ms, 500 ms, unanswered clients still needed)", 'default')
    .action(lazy(() => import('../run/gen.js')));
};
