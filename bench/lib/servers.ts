// The table of DHCP servers the bench compares. Adding a server = one entry here: how to tell it
// is installed, how to write its config into a fresh private folder, and its command line. The
// runner does the rest (namespace, CPU pinning, readiness, load, RSS, stop).
//
// Every server gets the same job: the /16 of bench/lib/netns.ts, a 65,521-address pool, a lease
// time longer than any run, per-packet logging off, leases in the run's private folder so each
// start is fresh. Settings follow /work/shared/notes/perf-baselines.md.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { ClusterDescription } from '../../src/options/schema.js';
import { BenchError } from './errors.js';
import type { BenchNetwork } from './netns.js';

export interface ServerContext {
  net: BenchNetwork;
  /** Fresh folder for this one server start: config, leases, pid and log files. */
  dir: string;
  leaseTimeS: number;
  projectRoot: string;
}

export interface ServerLaunch {
  /** Command run inside the server namespace; the runner adds `ip netns exec` and `taskset`. */
  argv: string[];
  env?: Record<string, string>;
}

export interface ServerSpec {
  id: string;
  label: string;
  /** Peers set the bar (the best peer's rate); rackstrap is measured against them. */
  peer: boolean;
  /** Are acknowledged leases on disk before the ACK leaves? `short` goes in the table. */
  durable: { short: string; why: string };
  /** null when the server can run here, else the reason it is skipped (printed as is). */
  unavailable(projectRoot: string): Promise<string | null>;
  version(projectRoot: string): string | null;
  /** Writes the config files into ctx.dir and returns the command line. */
  launch(ctx: ServerContext): Promise<ServerLaunch>;
}

// ---- the peers ----------------------------------------------------------------------------------

function keaSpec(persist: boolean): ServerSpec {
  return {
    id: persist ? 'kea' : 'kea-nopersist',
    label: persist ? 'Kea 2.2 memfile persist=true' : 'Kea 2.2 memfile persist=false',
    peer: true,
    durable: persist
      ? { short: 'no', why: 'one write() per lease, never fsync (perf-baselines.md)' }
      : { short: 'no', why: 'leases in memory only' },
    unavailable: async () => missingCommand('kea-dhcp4'),
    version: () => firstLine('kea-dhcp4', ['-v']),
    launch: async (ctx) => {
      const config = {
        Dhcp4: {
          // Raw sockets: Kea receives on the interface like it would on a real LAN (notes).
          'interfaces-config': { interfaces: [ctx.net.serverIf], 'dhcp-socket-type': 'raw' },
          'lease-database': persist
            ? { type: 'memfile', persist: true, name: join(ctx.dir, 'kea-leases4.csv'), 'lfc-interval': 0 }
            : { type: 'memfile', persist: false, 'lfc-interval': 0 },
          'valid-lifetime': ctx.leaseTimeS,
          subnet4: [
            {
              id: 1,
              subnet: ctx.net.prefix,
              pools: [{ pool: `${ctx.net.poolStart}-${ctx.net.poolEnd}` }],
            },
          ],
          // WARN and above only, to a file: no per-packet logging.
          loggers: [{ name: 'kea-dhcp4', output_options: [{ output: join(ctx.dir, 'kea.log') }], severity: 'WARN' }],
        },
      };
      const file = join(ctx.dir, 'kea-dhcp4.json');
      writeFileSync(file, JSON.stringify(config, null, 2));
      // Kea writes its pid and lock files to system folders unless told otherwise (notes).
      return { argv: ['kea-dhcp4', '-c', file], env: { KEA_PIDFILE_DIR: ctx.dir, KEA_LOCKFILE_DIR: ctx.dir } };
    },
  };
}

const dhcpd: ServerSpec = {
  id: 'dhcpd',
  label: 'ISC dhcpd 4.4 ping-check false',
  peer: true,
  durable: { short: 'yes', why: 'fsync per ACK' },
  unavailable: async () => missingCommand('dhcpd'),
  version: () => firstLine('dhcpd', ['--version']),
  launch: async (ctx) => {
    const conf = join(ctx.dir, 'dhcpd.conf');
    const leases = join(ctx.dir, 'dhcpd.leases');
    writeFileSync(
      conf,
      [
        'authoritative;',
        // The default ping check waits 1 s per new address: it would measure ICMP, not DHCP.
        'ping-check false;',
        'ddns-update-style none;',
        `default-lease-time ${ctx.leaseTimeS};`,
        `max-lease-time ${ctx.leaseTimeS};`,
        `subnet ${ctx.net.prefix.split('/')[0]} netmask ${ctx.net.netmask} {`,
        `  range ${ctx.net.poolStart} ${ctx.net.poolEnd};`,
        '}',
        '',
      ].join('\n'),
    );
    writeFileSync(leases, ''); // dhcpd refuses to start without the file
    // -f foreground, -q no banner. Per-packet lines go to syslog; see dhcpdSyslogWarning().
    return {
      argv: ['dhcpd', '-4', '-f', '-q', '-cf', conf, '-lf', leases, '-pf', join(ctx.dir, 'dhcpd.pid'), ctx.net.serverIf],
    };
  },
};

/** dhcpd cannot turn per-packet logging off; it is free only while no syslog listens on /dev/log. */
export function dhcpdSyslogWarning(): string | null {
  return existsSync('/dev/log')
    ? 'dhcpd: /dev/log exists, so dhcpd logs every packet to syslog during the run (it has no switch to stop that)'
    : null;
}

const dnsmasq: ServerSpec = {
  id: 'dnsmasq',
  label: 'dnsmasq 2.90 no-ping',
  peer: true,
  durable: { short: 'yes', why: 'rewrites the lease file and fsyncs per change' },
  unavailable: async () => missingCommand('dnsmasq'),
  version: () => firstLine('dnsmasq', ['--version']),
  launch: async (ctx) => {
    const conf = join(ctx.dir, 'dnsmasq.conf');
    writeFileSync(
      conf,
      [
        'port=0', // DHCP only, no DNS
        `interface=${ctx.net.serverIf}`,
        'bind-interfaces',
        `dhcp-range=${ctx.net.poolStart},${ctx.net.poolEnd},${ctx.net.netmask},${ctx.leaseTimeS}`,
        'dhcp-lease-max=70000', // the default 1000 would cap the pool (notes)
        `dhcp-leasefile=${join(ctx.dir, 'dnsmasq.leases')}`,
        'dhcp-authoritative',
        'no-ping', // the default ping check blocks 3 s per new address (notes)
        'quiet-dhcp', // no per-packet logging
        'no-resolv',
        'no-hosts',
        'user=root', // keep root so it can write the lease file in our private folder
        'group=root',
        `pid-file=${join(ctx.dir, 'dnsmasq.pid')}`,
        `log-facility=${join(ctx.dir, 'dnsmasq.log')}`,
        '',
      ].join('\n'),
    );
    return { argv: ['dnsmasq', '-k', '-C', conf] };
  },
};

// ---- rackstrap ----------------------------------------------------------------------------------

/**
 * The cluster description rackstrap serves in the bench: one /16 with a dynamic pool (perfdhcp's
 * clients are not cluster members, so only a pool answers them), and the one filer a valid
 * description needs, its mgmt0 address just below the pool.
 */
export function rackstrapBenchCluster(ctx: Pick<ServerContext, 'net' | 'leaseTimeS'>): unknown {
  const below = ctx.net.poolStart.split('.').map(Number);
  below[3] = Math.max(1, (below[3] ?? 10) - 5);
  return {
    cluster: { name: 'bench', id: '02:00:00:00:BE:0C', generation: 1 },
    scope: {
      leaseTime: ctx.leaseTimeS,
      subnets: [{ prefix: ctx.net.prefix, pool: { start: ctx.net.poolStart, end: ctx.net.poolEnd } }],
    },
    filers: {
      Bench1: {
        baseMac: '02:00:00:00:BE:01',
        nics: { eth0: '02:00:00:00:BE:02' },
        stack: { aliases: { mgmt0: 'eth0' } },
        addresses: { mgmt0: below.join('.') },
      },
    },
  };
}

const rackstrap: ServerSpec = {
  id: 'rackstrap',
  label: 'rackstrap serve',
  peer: false,
  durable: { short: 'yes', why: 'append-only lease log written with O_DSYNC (group commit) before the ACK; proven by test/dhcp-server/kill9.test.ts, not here' },
  unavailable: async (root) => {
    const main = join(root, 'dist/src/cli/main.js');
    if (!existsSync(main)) return 'dist/src/cli/main.js is not built (npm run build)';
    let names: string[];
    try {
      const mod = (await import(pathToFileURL(main).href)) as { buildProgram?: (io: unknown) => { commands: Array<{ name(): string }> } };
      if (typeof mod.buildProgram !== 'function') return 'dist/src/cli/main.js exports no buildProgram()';
      const program = mod.buildProgram({ out: () => undefined, err: () => undefined });
      names = program.commands.map((c) => c.name());
    } catch (e) {
      return `dist/src/cli/main.js does not load: ${e instanceof Error ? e.message : String(e)}`;
    }
    return names.includes('serve') ? null : `rackstrap has no "serve" command yet (commands: ${names.join(', ') || 'none'})`;
  },
  version: (root) => {
    try {
      return `rackstrap ${(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version}`;
    } catch {
      return null;
    }
  },
  launch: async (ctx) => {
    const description = rackstrapBenchCluster(ctx);
    // Catch schema drift here, with the bench named in the message, rather than as a failed start.
    const checked = ClusterDescription.safeParse(description);
    if (!checked.success) {
      throw new BenchError(`the bench's cluster.yaml no longer matches the schema: ${checked.error.message}`);
    }
    // One description file for every run (in the bench's work folder), with the compiled form a
    // full load of it leaves, made here once: each run then starts as a restarted server does,
    // from the compiled form (the first start after an edit validates in full: serve-scale.ts
    // and scale-curve.ts time both).
    const cluster = join(dirname(ctx.dir), 'rackstrap-cluster.yaml');
    const compiled = join(dirname(ctx.dir), 'rackstrap-cluster.compiled');
    if (!existsSync(compiled)) {
      writeFileSync(cluster, toYaml(description));
      const { loadServerConfigInline } = await import(pathToFileURL(join(ctx.projectRoot, 'dist/src/dhcp-server/load-config.js')).href) as typeof import('../../src/dhcp-server/load-config.js');
      const { writeCompiled } = await import(pathToFileURL(join(ctx.projectRoot, 'dist/src/dhcp-server/compiled.js')).href) as typeof import('../../src/dhcp-server/compiled.js');
      const loaded = await loadServerConfigInline(cluster);
      writeCompiled(compiled, cluster, loaded.inputs!, loaded);
    }
    copyFileSync(compiled, join(ctx.dir, 'leases.log.compiled'));
    chmodSync(join(ctx.dir, 'leases.log.compiled'), 0o600);
    // Leases in the run's private folder (a fresh start each run, like the peers); exchanges are
    // logged at info, so warn keeps per-packet logging off like the peers' settings.
    return {
      argv: [
        process.execPath, join(ctx.projectRoot, 'bin/rackstrap.js'), 'serve', cluster,
        '--interface', ctx.net.serverIf, '--lease-file', join(ctx.dir, 'leases.log'), '--log-level', 'warn',
      ],
    };
  },
};

/** Run order; also the column order of the table. */
export const SERVERS: readonly ServerSpec[] = [keaSpec(true), keaSpec(false), dhcpd, dnsmasq, rackstrap];

export function serverById(id: string): ServerSpec | undefined {
  return SERVERS.find((s) => s.id === id);
}

// ---- helpers ------------------------------------------------------------------------------------

export function findInPath(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  // Debian puts the servers in /usr/sbin, which a non-login PATH may lack.
  for (const dir of ['/usr/sbin', '/sbin']) {
    if (existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return null;
}

function missingCommand(cmd: string): string | null {
  return findInPath(cmd) === null ? `${cmd} is not installed (scripts/setup-system.sh installs it)` : null;
}

/** First non-empty line `cmd args` prints (a version), or null when it is not installed. */
export function firstLine(cmd: string, args: string[]): string | null {
  const path = findInPath(cmd);
  if (path === null) return null;
  // Some print their version on stderr (dhcpd): take the first non-empty line of either.
  const r = spawnSync(path, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
  const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  return text.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? null;
}
