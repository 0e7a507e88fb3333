// rackstrap join, join-server and token (implementations: ../run/join.ts, ../run/join-server.ts,
// ../run/token.ts). Join codes are secrets: they are read from a file or stdin and printed only
// by `token create`, never taken as an argument (argv is visible to every user in `ps`).
import type { DefineCommand } from '../lazy.js';

export interface JoinOptions {
  tokenFile: string;
  caHash?: string;
  interface?: string[];
  cacheDir?: string;
  config?: string;
  baseMac?: string;
}

export interface JoinServerOptions {
  interface: string;
  address?: string;
  port?: string;
  stateDir?: string;
  heartbeatFile?: string;
  advertise?: boolean;
}

export interface TokenOptions {
  stateDir?: string;
  ttl?: string;
  uses?: string;
  json?: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];
const STATE_DIR = '--state-dir <dir>';
const STATE_DIR_HELP = "the join server's state: CA, certificates, join codes (default /var/lib/rackstrap/join)";

export const defineJoin: DefineCommand = (program, lazy) => {
  program
    .command('join')
    .description("join this filer to a cluster: check the cluster's CA, prove a join code, store the cluster key and secrets for the agent")
    .argument('<cluster>', 'cluster name or ID as `rackstrap discover` lists it, or the join endpoint ADDRESS:PORT')
    .requiredOption('--token-file <file>', 'the join code, from `rackstrap token create` (- reads it from stdin)')
    .option('--ca-hash <sha256:hex>', "the cluster CA's fingerprint, when the code does not carry it (or to check it does)")
    .option('--interface <if>', 'look for the cluster on this interface, repeatable (default: as rackstrap discover)', collect)
    .option('--cache-dir <dir>', "the agent's cache folder, where the cluster key is stored (default /var/lib/rackstrap)")
    .option('--config <file>', 'agent configuration (for cacheDir)')
    .option('--base-mac <mac>', "this filer's base MAC (default: the permanent MAC of its lowest eth#, as the agent uses)")
    .action(lazy(() => import('../run/join.js')));
};

export const defineJoinServer: DefineCommand = (program, lazy) => {
  program
    .command('join-server')
    .description("serve joins for the cluster (on the node that holds its description and key) and advertise it on mgmt")
    .argument('<description>', 'the cluster description (cluster.yaml); it must name cluster.keyFile')
    .requiredOption('--interface <if>', 'the mgmt interface to serve and advertise on')
    .option('--address <ip>', "address to listen on (default: the interface's first IPv4 address)")
    .option('--port <port>', 'TCP port (default 7443)')
    .option(STATE_DIR, STATE_DIR_HELP)
    .option('--heartbeat-file <file>', "the cluster's heartbeat secret (default: made once in the state folder)")
    .option('--no-advertise', 'do not advertise the cluster over mDNS')
    .action(lazy(() => import('../run/join-server.js')));
};

export const defineToken: DefineCommand = (program, lazy) => {
  const token = program.command('token').description('join codes for new filers (on the node running join-server)');
  token
    .command('create')
    .description('make a join code and print it (save it to a file: it is a secret)')
    .option('--ttl <duration>', 'how long it is valid: 90s, 15m, 2h, 1d; a plain number is seconds (default 15m)')
    .option('--uses <n>', 'how many filers it may join (default 1)')
    .option(STATE_DIR, STATE_DIR_HELP)
    .action(lazy(async () => ({ run: (await import('../run/token.js')).create })));
  token
    .command('list')
    .description('list join codes (ids, expiry, uses; never the secrets)')
    .option(STATE_DIR, STATE_DIR_HELP)
    .option('--json', 'machine-readable output')
    .action(lazy(async () => ({ run: (await import('../run/token.js')).list })));
  token
    .command('revoke')
    .description('revoke a join code at once')
    .argument('<id>', 'the code id (8 hex digits, as `token list` shows)')
    .option(STATE_DIR, STATE_DIR_HELP)
    .action(lazy(async () => ({ run: (await import('../run/token.js')).revoke })));
};
