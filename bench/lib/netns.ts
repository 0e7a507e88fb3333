// The bench's network: a server namespace and a client namespace joined by one veth pair, both
// in one /16 because perfdhcp in IPv4 acts as a relay: it binds UDP 67 on its own address, puts
// that address in giaddr, and the server picks the subnet from giaddr and answers there
// (RFC 2131 §4.3.1). Names start with `rsbench` + our pid so parallel runs never collide.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { BenchError } from './errors.js';

export const NETNS_PREFIX = 'rsbench';

export interface BenchNetwork {
  serverNs: string;
  clientNs: string;
  serverIf: string;
  clientIf: string;
  serverIp: string;
  clientIp: string;
  /** The subnet both ends and every pool live in. */
  prefix: string;
  netmask: string;
  /** First and last address handed out: 65,521 addresses, the "64k pool" of the notes. */
  poolStart: string;
  poolEnd: string;
}

/** The layout for one run; pure, so the servers' config writers can be reasoned about alone. */
export function benchNetworkLayout(tag: string | number): BenchNetwork {
  return {
    serverNs: `${NETNS_PREFIX}${tag}s`,
    clientNs: `${NETNS_PREFIX}${tag}c`,
    serverIf: 's0',
    clientIf: 'c0',
    serverIp: '10.77.0.1',
    clientIp: '10.77.0.2',
    prefix: '10.77.0.0/16',
    netmask: '255.255.0.0',
    poolStart: '10.77.0.10',
    poolEnd: '10.77.255.250',
  };
}

function ip(args: string[]): void {
  try {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
    throw new BenchError(`ip ${args.join(' ')} failed: ${stderr || String(e)}`, { cause: e });
  }
}

/** Creates both namespaces and the veth pair; on any failure removes what it made. */
export function createBenchNetwork(net: BenchNetwork): void {
  try {
    ip(['netns', 'add', net.serverNs]);
    ip(['netns', 'add', net.clientNs]);
    ip(['-n', net.serverNs, 'link', 'add', net.serverIf, 'type', 'veth', 'peer', 'name', net.clientIf, 'netns', net.clientNs]);
    ip(['-n', net.serverNs, 'addr', 'add', `${net.serverIp}/16`, 'dev', net.serverIf]);
    ip(['-n', net.clientNs, 'addr', 'add', `${net.clientIp}/16`, 'dev', net.clientIf]);
    for (const [ns, dev] of [[net.serverNs, net.serverIf], [net.clientNs, net.clientIf]] as const) {
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      ip(['-n', ns, 'link', 'set', dev, 'up']);
    }
  } catch (e) {
    destroyBenchNetworkSync(net);
    throw e;
  }
}

/** Removes both namespaces (the veth pair goes with them). Safe to call twice. */
export function destroyBenchNetworkSync(net: BenchNetwork): void {
  for (const ns of [net.serverNs, net.clientNs]) {
    if (!existsSync(`/run/netns/${ns}`)) continue;
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // best effort: reported by the leftover check of the next run
    }
  }
}

/**
 * Namespaces left by an earlier bench run that was killed with SIGKILL (their owner pid is gone).
 * Only names this module makes are considered: `rsbench<pid>s` / `rsbench<pid>c`.
 */
export function findStaleBenchNamespaces(): string[] {
  let names: string[];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return [];
  }
  return names.filter((name) => {
    const m = new RegExp(`^${NETNS_PREFIX}(\\d+)[sc]$`).exec(name);
    return m !== null && !existsSync(`/proc/${m[1]}`);
  });
}

export function deleteNamespaceSync(name: string): void {
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  } catch {
    // best effort
  }
}
