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
import { loadavg, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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

export const SERVER_IP = '10.64.0.1';
export const RELAY_IP = '10.64.0.2';
const READY_TIMEOUT_MS = 120_000;

/** The served subnet: where the reservations are (from .0.10 up), and an optional dynamic pool. */
export interface Layout {
  prefix: string;
  router: string;
  pool?: { start: string; end: string };
}

/** This bench's own layout: a /16 of reservations, no pool. */
export const RESERVATIONS_ONLY: Layout = { prefix: '10.64.0.0/16', router: '10.64.255.254' };

/** The k-th reserved address: 10.64.0.10 upward (.0.1 and .0.2 are the server and the relay). */
export function reservedAddress(k: number): string {
  const a = k + 10 + (64 << 16);
  return `10.${(a >> 16) & 255}.${(a >> 8) & 255}.${a & 255}`;
}

export interface Reserved {
  identifier: string;
  address: string;
}

/** examples/cluster.yaml plus `layout`'s subnet holding `n` virtual server addresses (10 instances each). */
export function scaleDescription(root: string, n: number, layout: Layout = RESERVATIONS_ONLY): string {
  const doc = parseDocument(readFileSync(join(root, 'examples', 'cluster.yaml'), 'utf8'));
  doc.addIn(['scope', 'subnets'], doc.createNode({ prefix: layout.prefix, routers: [layout.router], ...(layout.pool ? { pool: layout.pool } : {}) }));
  for (let k = 0, v = 0; k < n; v++) {
    const instances: Record<string, string> = {};
    for (let i = 0; i < 10 && k < n; i++, k++) instances[String(i)] = reservedAddress(k);
    doc.setIn(['vservers', `Vs${v}`], doc.createNode({ table: 10 + (v % 200), addresses: { data0: instances } }));
  }
  return doc.toString();
}

export interface Spec {
  id: string;
  available(): string | null;
  version(): string | null;
  /** Writes its config into `dir`; returns the command line. */
  launch(dir: string, cluster: string, reserved: Reserved[], root: string, layout: Layout): { argv: string[]; env?: Record<string, string> };
}

const colonHex = (text: string): string => [...Buffer.from(text, 'latin1')].map((b) => b.toString(16).padStart(2, '0')).join(':');
const missing = (cmd: string): string | null => (findInPath(cmd) === null ? `${cmd} is not installed` : null);

export const SPECS: Spec[] = [
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
    launch: (dir, _c, reserved, _root, layout) => {
      const config = {
        Dhcp4: {
          'interfaces-config': { interfaces: ['s0'], 'dhcp-socket-type': 'raw' },
          'lease-database': { type: 'memfile', persist: true, name: join(dir, 'kea-leases4.csv'), 'lfc-interval': 0 },
          'host-reservation-identifiers': ['client-id'],
          'valid-lifetime': 86400,
          subnet4: [{ id: 1, subnet: layout.prefix, ...(layout.pool ? { pools: [{ pool: `${layout.pool.start} - ${layout.pool.end}` }] } : {}), reservations: reserved.map((r) => ({ 'client-id': colonHex(r.identifier), 'ip-address': r.address })) }],
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
    launch: (dir, _c, reserved, _root, layout) => {
      if (layout !== RESERVATIONS_ONLY) throw new BenchError('dhcpd runs only in the reservations-only layout here');
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
    launch: (dir, _c, reserved, _root, layout) => {
      if (layout !== RESERVATIONS_ONLY) throw new BenchError('dnsmasq runs only in the reservations-only layout here');
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
export async function firstOffer(sock: InterfaceSocket, r: Reserved, server: Spawned, deadline: number): Promise<boolean> {
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

/** A server started and answering (its first OFFER for the last reservation came back), or why not. */
export interface Started {
  server: Spawned;
  startMs: number | null;
  error?: string;
}

/** Starts `spec` in `dir` (its config written there first) and times spawn → first OFFER for the last reservation. */
export async function startServer(spec: Spec, ns: string, sock: InterfaceSocket, cluster: string, reserved: Reserved[], root: string, dir: string, layout: Layout, cpu?: number): Promise<Started> {
  const launch = spec.launch(dir, cluster, reserved, root, layout);
  const t0 = performance.now();
  const argv = cpu === undefined ? launch.argv : ['taskset', '-c', String(cpu), ...launch.argv];
  const server = spawnTracked(['ip', 'netns', 'exec', ns, ...argv], { env: { ...process.env, ...launch.env }, cwd: dir, outFile: join(dir, `out-${Date.now()}.log`) });
  const ok = await firstOffer(sock, reserved.at(-1)!, server, t0 + READY_TIMEOUT_MS);
  const startMs = performance.now() - t0;
  if (ok) return { server, startMs };
  const error = server.exitInfo ? `exited ${JSON.stringify(server.exitInfo)}` : 'no OFFER in time';
  await stopProcess(server);
  return { server, startMs: null, error };
}

export const mb = (kb: number | undefined): number | null => (kb === undefined ? null : Math.round(kb / 1024));

/** One start in `dir` (a fresh one, or the same as before: rackstrap then finds its compiled form), RSS answering and 1 s later. */
async function runOnce(spec: Spec, label: string, ns: string, sock: InterfaceSocket, cluster: string, reserved: Reserved[], root: string, dir: string): Promise<Run> {
  const s = await startServer(spec, ns, sock, cluster, reserved, root, dir, RESERVATIONS_ONLY);
  if (s.startMs === null) return { server: label, startMs: null, rssReadyMb: null, rssIdleMb: null, peakMb: null, error: s.error };
  try {
    const ready = readMemory(s.server.pid);
    await new Promise((res) => setTimeout(res, 1000));
    const idle = readMemory(s.server.pid);
    return { server: label, startMs: s.startMs, rssReadyMb: mb(ready?.rssKb), rssIdleMb: mb(idle?.rssKb), peakMb: mb(idle?.hwmKb) };
  } finally {
    await stopProcess(s.server);
  }
}

/** Where rackstrap's second start in the same folder serves from its compiled form. */
export const COMPILED_LABEL = 'rackstrap (compiled)';

/** Namespaces s/c with the veth s0–c0 and `prefix`'s length on both addresses. */
export function makeScaleNetwork(ns: string, cns: string, prefix: string): void {
  const len = prefix.split('/')[1];
  ip(['netns', 'add', ns]);
  ip(['netns', 'add', cns]);
  ip(['-n', ns, 'link', 'add', 's0', 'type', 'veth', 'peer', 'name', 'c0', 'netns', cns]);
  ip(['-n', ns, 'addr', 'add', `${SERVER_IP}/${len}`, 'dev', 's0']);
  ip(['-n', cns, 'addr', 'add', `${RELAY_IP}/${len}`, 'dev', 'c0']);
  for (const [x, dev] of [[ns, 's0'], [cns, 'c0']] as const) {
    ip(['-n', x, 'link', 'set', 'lo', 'up']);
    ip(['-n', x, 'link', 'set', dev, 'up']);
  }
}

/** The description's reservations in the scale subnet, in file order. */
export function scaleReservations(text: string, file: string): { reserved: Reserved[]; loadMs: number; loaded: ReturnType<typeof loadClusterText> } {
  const t0 = performance.now();
  const loaded = loadClusterText(text, file);
  const loadMs = performance.now() - t0;
  const reserved = reservationsOf(loaded).flatMap((r) => (r.kind !== 'topology' && r.address.startsWith('10.64.') ? [{ identifier: r.identifier, address: r.address }] : []));
  return { reserved, loadMs, loaded };
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
};

/**
 * A bench's scratch folder and its two namespace names (`<tag><pid>s` for the server, `…c` for
 * the client), with the cleanup that kills tracked processes and removes both, also on Ctrl-C.
 */
export function scaleWorkspace(tag: string): { work: string; ns: string; cns: string; cleanup: () => void } {
  const work = mkdtempSync(join(tmpdir(), `${tag}-`));
  const ns = `${tag}${process.pid}s`;
  const cns = `${tag}${process.pid}c`;
  const cleanup = (): void => {
    killTrackedSync();
    for (const x of [ns, cns]) execFileSync('ip', ['netns', 'del', x], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  return { work, ns, cns, cleanup };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { reservations: { type: 'string' }, reps: { type: 'string' }, servers: { type: 'string' }, quick: { type: 'boolean' } } });
  const n = Number(values.reservations ?? 30000);
  const reps = Number(values.reps ?? (values.quick ? 1 : 3));
  if (process.getuid?.() !== 0) throw new BenchError('run as root: the bench creates network namespaces');
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const specs = values.servers ? SPECS.filter((s) => values.servers!.split(',').includes(s.id)) : SPECS;
  const { work, ns, cns, cleanup } = scaleWorkspace('rsscale');
  try {
    const text = scaleDescription(root, n);
    const cluster = join(work, 'cluster.yaml');
    writeFileSync(cluster, text);
    const { reserved, loadMs, loaded } = scaleReservations(text, cluster);
    process.stdout.write(`serve-scale · ${new Date().toISOString()} · load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} · ${reserved.length} reservations in ${RESERVATIONS_ONLY.prefix} (${loaded.description.scope.subnets.length} subnets, ${Object.keys(loaded.description.vservers).length} virtual servers, ${(text.length / 1e6).toFixed(1)} MB of YAML) · ${reps} rep(s)\n`);
    process.stdout.write(`  loading + validating the description in this process: ${loadMs.toFixed(0)} ms\n`);

    makeScaleNetwork(ns, cns, RESERVATIONS_ONLY.prefix);
    const sock = await openInterfaceSocket({ ifname: 'c0', port: 67, netns: cns });
    const results: Run[] = [];
    for (const spec of specs) {
      const why = spec.available();
      if (why) {
        process.stdout.write(`  ${spec.id}: skipped (${why})\n`);
        continue;
      }
      for (let rep = 1; rep <= reps; rep++) {
        // A fresh folder each rep; rackstrap starts twice in it: the first start validates in full
        // and leaves the compiled form, the second serves from it.
        const dir = mkdtempSync(join(work, `${spec.id}-`));
        const runs = [await runOnce(spec, spec.id, ns, sock, cluster, reserved, root, dir)];
        if (spec.id === 'rackstrap') runs.push(await runOnce(spec, COMPILED_LABEL, ns, sock, cluster, reserved, root, dir));
        for (const r of runs) {
          results.push(r);
          process.stdout.write(`  [${rep}/${reps}] ${r.server.padEnd(10)} ${r.error ? `FAILED: ${r.error}` : `start → first OFFER ${r.startMs!.toFixed(0)} ms · RSS ${r.rssReadyMb} MB, idle ${r.rssIdleMb} MB, peak ${r.peakMb} MB`}\n`);
        }
      }
    }
    await sock.close();
    const columns = specs.flatMap((s) => (s.id === 'rackstrap' ? [s.id, COMPILED_LABEL] : [s.id]));
    process.stdout.write(`\n| ${reserved.length.toLocaleString('en')} reservations | ${columns.join(' | ')} |\n|---|${columns.map(() => '---').join('|')}|\n`);
    const row = (label: string, f: (r: Run) => number | null, unit: string): void => {
      const cells = columns.map((c) => {
        const v = median(results.filter((r) => r.server === c && !r.error).map(f).filter((x): x is number => x !== null));
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

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main().catch((e: unknown) => {
  process.stderr.write(`serve-scale: ${e instanceof Error ? e.message : String(e)}\n`);
  killTrackedSync();
  process.exitCode = 1;
});
