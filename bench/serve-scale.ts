// Start-up time and memory with many reservations (goals: "RSS with 30,000 reservations (goal
// under 150 MB) and start-up time with them (goal under 1 s)"), for rackstrap serve and, with the
// same reservations by client identifier, Kea, ISC dhcpd and dnsmasq.
//
// Each start is fresh, in a network namespace, answered through a relay socket like the
// throughput bench. Start-up = spawn → the first OFFER for the *last* reservation of the file
// (so a server that loads lazily or answers before it has read everything does not look
// faster than it is). RSS is read once answering, and again after a second idle.
// A benchmark, not a test: `npx tsc -p . && node dist/bench/serve-scale.js [--reservations N] [--reps N] [--servers a,b]`.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDocument } from 'yaml';
import { readFileSync } from 'node:fs';
import { MESSAGE_TYPE, OP, OPTION, createMessage, decodeMessage, encodeMessage, textClientId } from '../src/dhcp-packet/index.js';
import { openInterfaceSocket, type InterfaceSocket } from '../src/net/interface-socket.js';
import { loadClusterText } from '../src/options/load.js';
import { reservationsOf } from '../src/options/resolve.js';
import { BenchError } from './lib/errors.js';
import { killTrackedSync, readMemory, spawnTracked, stopProcess, type Spawned } from './lib/proc.js';
import { findInPath, firstLine } from './lib/servers.js';

const SERVER_IP = '10.64.0.1';
const RELAY_IP = '10.64.0.2';
const PREFIX = '10.64.0.0/16';
const READY_TIMEOUT_MS = 120_000;

interface Reserved {
  identifier: string;
  address: string;
}

/** examples/cluster.yaml plus a /16 holding `n` virtual server addresses (10 instances each). */
export function scaleDescription(root: string, n: number): string {
  const doc = parseDocument(readFileSync(join(root, 'examples', 'cluster.yaml'), 'utf8'));
  doc.addIn(['scope', 'subnets'], doc.createNode({ prefix: PREFIX, routers: ['10.64.255.254'] }));
  for (let k = 0, v = 0; k < n; v++) {
    const instances: Record<string, string> = {};
    for (let i = 0; i < 10 && k < n; i++, k++) {
      const a = k + 10; // .0.1 and .0.2 are the server and the relay
      instances[String(i)] = `10.64.${(a >> 8) & 255}.${a & 255}`;
    }
    doc.setIn(['vservers', `Vs${v}`], doc.createNode({ table: 10 + (v % 200), addresses: { data0: instances } }));
  }
  return doc.toString();
}

interface Spec {
  id: string;
  available(): string | null;
  version(): string | null;
  /** Writes its config into `dir`; returns the command line. */
  launch(dir: string, cluster: string, reserved: Reserved[], root: string): { argv: string[]; env?: Record<string, string> };
}

const colonHex = (text: string): string => [...Buffer.from(text, 'latin1')].map((b) => b.toString(16).padStart(2, '0')).join(':');
const missing = (cmd: string): string | null => (findInPath(cmd) === null ? `${cmd} is not installed` : null);

const SPECS: Spec[] = [
  {
    id: 'rackstrap',
    available: () => null,
    version: () => 'rackstrap (this tree)',
    launch: (dir, cluster, _r, root) => ({
      argv: [process.execPath, join(root, 'bin', 'rackstrap.js'), 'serve', cluster, '--interface', 's0', '--lease-file', join(dir, 'leases.log'), '--log-level', 'warn'],
    }),
  },
  {
    id: 'kea',
    available: () => missing('kea-dhcp4'),
    version: () => firstLine('kea-dhcp4', ['-v']),
    launch: (dir, _c, reserved) => {
      const config = {
        Dhcp4: {
          'interfaces-config': { interfaces: ['s0'], 'dhcp-socket-type': 'raw' },
          'lease-database': { type: 'memfile', persist: true, name: join(dir, 'kea-leases4.csv'), 'lfc-interval': 0 },
          'host-reservation-identifiers': ['client-id'],
          'valid-lifetime': 86400,
          subnet4: [{ id: 1, subnet: PREFIX, reservations: reserved.map((r) => ({ 'client-id': colonHex(r.identifier), 'ip-address': r.address })) }],
          loggers: [{ name: 'kea-dhcp4', output_options: [{ output: join(dir, 'kea.log') }], severity: 'WARN' }],
        },
      };
      writeFileSync(join(dir, 'kea.json'), JSON.stringify(config));
      return { argv: ['kea-dhcp4', '-c', join(dir, 'kea.json')], env: { KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir } };
    },
  },
  {
    id: 'dhcpd',
    available: () => missing('dhcpd'),
    version: () => firstLine('dhcpd', ['--version']),
    launch: (dir, _c, reserved) => {
      const hosts = reserved.map((r, i) => `host h${i} { option dhcp-client-identifier "${r.identifier}"; fixed-address ${r.address}; }`);
      writeFileSync(join(dir, 'dhcpd.conf'), ['authoritative;', 'ping-check false;', 'ddns-update-style none;', 'subnet 10.64.0.0 netmask 255.255.0.0 { }', ...hosts, ''].join('\n'));
      writeFileSync(join(dir, 'dhcpd.leases'), '');
      return { argv: ['dhcpd', '-4', '-f', '-q', '-cf', join(dir, 'dhcpd.conf'), '-lf', join(dir, 'dhcpd.leases'), '-pf', join(dir, 'dhcpd.pid'), 's0'] };
    },
  },
  {
    id: 'dnsmasq',
    available: () => missing('dnsmasq'),
    version: () => firstLine('dnsmasq', ['--version']),
    launch: (dir, _c, reserved) => {
      const hosts = reserved.map((r) => `dhcp-host=id:"${r.identifier}",${r.address}`);
      writeFileSync(join(dir, 'dnsmasq.conf'), [
        'port=0', 'interface=s0', 'bind-interfaces', 'dhcp-range=10.64.0.0,static,255.255.0.0', 'no-ping', 'quiet-dhcp', 'no-resolv', 'no-hosts',
        'user=root', 'group=root', `dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`, `pid-file=${join(dir, 'dnsmasq.pid')}`, ...hosts, '',
      ].join('\n'));
      return { argv: ['dnsmasq', '-k', '-C', join(dir, 'dnsmasq.conf')] };
    },
  },
];

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

interface Run {
  server: string;
  startMs: number | null;
  rssReadyMb: number | null;
  rssIdleMb: number | null;
  peakMb: number | null;
  error?: string;
}

/** DISCOVERs (relayed) for `r` every 20 ms until an OFFER of its address comes back. */
async function firstOffer(sock: InterfaceSocket, r: Reserved, server: Spawned, deadline: number): Promise<boolean> {
  let xid = (Math.random() * 2 ** 31) >>> 0;
  const want = new Set<number>();
  let got = false;
  const onMessage = (buf: Buffer): void => {
    try {
      const m = decodeMessage(buf);
      if (want.has(m.xid) && m.options.get(OPTION.MESSAGE_TYPE) === MESSAGE_TYPE.OFFER && m.yiaddr === r.address) got = true;
    } catch {
      // not ours
    }
  };
  sock.on('message', onMessage);
  try {
    while (!got && server.exitInfo === null && performance.now() < deadline) {
      const msg = createMessage({ op: OP.BOOTREQUEST, xid: ++xid, type: MESSAGE_TYPE.DISCOVER, giaddr: RELAY_IP, chaddr: Buffer.from([2, 0x5c, 0, 0, 0, 1]), options: [[OPTION.CLIENT_ID, textClientId(r.identifier)]] });
      want.add(xid);
      await sock.send(encodeMessage(msg), 67, SERVER_IP).catch(() => undefined);
      await new Promise((res) => setTimeout(res, 20));
    }
  } finally {
    sock.off('message', onMessage);
  }
  return got;
}

async function runOnce(spec: Spec, ns: string, sock: InterfaceSocket, cluster: string, reserved: Reserved[], root: string, work: string): Promise<Run> {
  const dir = mkdtempSync(join(work, `${spec.id}-`));
  const launch = spec.launch(dir, cluster, reserved, root);
  const t0 = performance.now();
  const server = spawnTracked(['ip', 'netns', 'exec', ns, ...launch.argv], { env: { ...process.env, ...launch.env }, cwd: dir, outFile: join(dir, 'out.log') });
  try {
    const ok = await firstOffer(sock, reserved.at(-1)!, server, t0 + READY_TIMEOUT_MS);
    const startMs = performance.now() - t0;
    if (!ok) return { server: spec.id, startMs: null, rssReadyMb: null, rssIdleMb: null, peakMb: null, error: server.exitInfo ? `exited ${JSON.stringify(server.exitInfo)}: ${readFileSync(join(dir, 'out.log'), 'utf8').slice(-400)}` : 'no OFFER in time' };
    const ready = readMemory(server.pid);
    await new Promise((res) => setTimeout(res, 1000));
    const idle = readMemory(server.pid);
    const mb = (kb: number | undefined): number | null => (kb === undefined ? null : Math.round(kb / 1024));
    return { server: spec.id, startMs, rssReadyMb: mb(ready?.rssKb), rssIdleMb: mb(idle?.rssKb), peakMb: mb(idle?.hwmKb) };
  } finally {
    await stopProcess(server);
  }
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { reservations: { type: 'string' }, reps: { type: 'string' }, servers: { type: 'string' } } });
  const n = Number(values.reservations ?? 30000);
  const reps = Number(values.reps ?? 3);
  if (process.getuid?.() !== 0) throw new BenchError('run as root: the bench creates network namespaces');
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const specs = values.servers ? SPECS.filter((s) => values.servers!.split(',').includes(s.id)) : SPECS;
  const work = mkdtempSync(join(tmpdir(), 'rsscale-'));
  const ns = `rsscale${process.pid}s`;
  const cns = `rsscale${process.pid}c`;
  const cleanup = (): void => {
    killTrackedSync();
    for (const x of [ns, cns]) execFileSync('ip', ['netns', 'del', x], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    const text = scaleDescription(root, n);
    const cluster = join(work, 'cluster.yaml');
    writeFileSync(cluster, text);
    const t0 = performance.now();
    const loaded = loadClusterText(text, cluster);
    const loadMs = performance.now() - t0;
    const reserved: Reserved[] = reservationsOf(loaded).flatMap((r) => (r.kind !== 'topology' && r.address.startsWith('10.64.') ? [{ identifier: r.identifier, address: r.address }] : []));
    process.stdout.write(`serve-scale · ${new Date().toISOString()} · ${reserved.length} reservations in ${PREFIX} (${loaded.description.scope.subnets.length} subnets, ${Object.keys(loaded.description.vservers).length} virtual servers, ${(text.length / 1e6).toFixed(1)} MB of YAML) · ${reps} rep(s)\n`);
    process.stdout.write(`  loading + validating the description in this process: ${loadMs.toFixed(0)} ms\n`);

    ip(['netns', 'add', ns]);
    ip(['netns', 'add', cns]);
    ip(['-n', ns, 'link', 'add', 's0', 'type', 'veth', 'peer', 'name', 'c0', 'netns', cns]);
    ip(['-n', ns, 'addr', 'add', `${SERVER_IP}/16`, 'dev', 's0']);
    ip(['-n', cns, 'addr', 'add', `${RELAY_IP}/16`, 'dev', 'c0']);
    for (const [x, dev] of [[ns, 's0'], [cns, 'c0']] as const) {
      ip(['-n', x, 'link', 'set', 'lo', 'up']);
      ip(['-n', x, 'link', 'set', dev, 'up']);
    }
    const sock = await openInterfaceSocket({ ifname: 'c0', port: 67, netns: cns });
    const results: Run[] = [];
    for (const spec of specs) {
      const why = spec.available();
      if (why) {
        process.stdout.write(`  ${spec.id}: skipped (${why})\n`);
        continue;
      }
      for (let rep = 1; rep <= reps; rep++) {
        const r = await runOnce(spec, ns, sock, cluster, reserved, root, work);
        results.push(r);
        process.stdout.write(`  [${rep}/${reps}] ${spec.id.padEnd(10)} ${r.error ? `FAILED: ${r.error}` : `start → first OFFER ${r.startMs!.toFixed(0)} ms · RSS ${r.rssReadyMb} MB, idle ${r.rssIdleMb} MB, peak ${r.peakMb} MB`}\n`);
      }
    }
    await sock.close();
    process.stdout.write(`\n| ${reserved.length.toLocaleString('en')} reservations | ${specs.map((s) => s.id).join(' | ')} |\n|---|${specs.map(() => '---').join('|')}|\n`);
    const row = (label: string, f: (r: Run) => number | null, unit: string): void => {
      const cells = specs.map((s) => {
        const v = median(results.filter((r) => r.server === s.id && !r.error).map(f).filter((x): x is number => x !== null));
        return v === null ? '–' : `${Math.round(v).toLocaleString('en')} ${unit}`;
      });
      process.stdout.write(`| ${label} | ${cells.join(' | ')} |\n`);
    };
    row('start → first OFFER (median)', (r) => r.startMs, 'ms');
    row('RSS when answering', (r) => r.rssReadyMb, 'MB');
    row('RSS idle 1 s later', (r) => r.rssIdleMb, 'MB');
    row('peak RSS (VmHWM)', (r) => r.peakMb, 'MB');
    process.stdout.write(`\nversions: ${specs.map((s) => `${s.id}: ${s.version() ?? '?'}`).join(' · ')}\n`);
  } finally {
    cleanup();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`serve-scale: ${e instanceof Error ? e.message : String(e)}\n`);
  killTrackedSync();
  process.exitCode = 1;
});
