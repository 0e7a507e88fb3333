// The agent's namespace lab on the flat cluster (test/fixtures/agent/cluster-flat.yaml): one
// switch namespace with a bridge, the embedded server in one namespace with an address in every
// subnet, and each filer in its own namespace with NICs eth0..ethN carrying the description's MACs.
//
//   sw: br0 ── srv eth0 (10.1.1.250/24, 10.1.9.250/24, 10.2.2.250/24, 10.3.255.250/16)
//          ├── filer1 eth0, eth1
//          └── filer2 eth0, eth1, eth2
//
// Expected state comes from the description itself (reservations, subnets), never from the agent.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResultPromise } from 'execa';
import type { AgentSettings } from '../../../src/bootstrap/settings.js';
import { ALL_FEATURES } from '../../../src/net/features.js';
import { loadClusterFile, type LoadedCluster } from '../../../src/options/load.js';
import { reservationsOf, subnetsOf } from '../../../src/options/resolve.js';
import { makeLab, type Lab, type TeardownHost } from '../../helpers/netns.js';

export const FLAT = 'test/fixtures/agent/cluster-flat.yaml';
export const PREFIX = 'rsagent';
export const BIN = join(process.cwd(), 'bin', 'rackstrap.js');
export const SERVER_ADDRESSES = ['10.1.1.250/24', '10.1.9.250/24', '10.2.2.250/24', '10.3.255.250/16'];

export interface FlatLab {
  lab: Lab;
  loaded: LoadedCluster;
  clusterId: string;
  srv: string;
  /** Filer name -> namespace. */
  ns: Map<string, string>;
}

export async function flatLab(t: TeardownHost, filers: readonly string[], prefix = PREFIX): Promise<FlatLab> {
  const lab = await makeLab(t, { prefix });
  const loaded = await loadClusterFile(FLAT);
  const sw = await lab.ns('sw');
  await lab.bridge(sw, 'br0');
  const srv = await lab.ns('srv');
  await lab.link(srv, 'eth0', sw, 'br0', { mac: '02:00:00:00:0f:00' });
  for (const a of SERVER_ADDRESSES) await lab.ip(srv, 'addr', 'add', a, 'dev', 'eth0');
  const ns = new Map<string, string>();
  for (const name of filers) {
    const f = loaded.filers.get(name)!;
    const n = await lab.ns(name.toLowerCase());
    for (const [nic, mac] of Object.entries(f.nics)) await lab.link(n, nic, sw, 'br0', { mac: mac.toLowerCase() });
    ns.set(name, n);
  }
  return { lab, loaded, clusterId: loaded.description.cluster.id, srv, ns };
}

/** How to run rackstrap: this checkout's by default, or an installed one (`['/usr/bin/rackstrap']`). */
/**
 * In-process agent settings for Filer1 of the flat lab (eth0, eth1; no key), with the timings a
 * caller changes given in `over`.
 */
export function filer1AgentSettings(l: FlatLab, cacheDir: string, over: Partial<AgentSettings> = {}): AgentSettings {
  return {
    clusterId: l.clusterId,
    vendorClass: 'rackstrap',
    baseMac: l.loaded.filers.get('Filer1')!.baseMac,
    filer: undefined,
    nics: { eth0: 'eth0', eth1: 'eth1' },
    cacheDir,
    key: undefined,
    keyFingerprint: null,
    keyId: null,
    topologyTimeoutMs: 2000,
    addressTimeoutMs: 3000,
    retransmitBaseMs: 100,
    refreshIntervalMs: 300_000,
    retryIntervalMs: 1000,
    features: ALL_FEATURES,
    derived: { nics: false, baseMac: false },
    ...over,
  };
}

export const CHECKOUT_RACKSTRAP: readonly string[] = [process.execPath, BIN];

/** `rackstrap serve` in the server namespace; resolves once it logged `ready`. */
export async function startServer(l: FlatLab, config: string, leaseFile: string, rackstrap: readonly string[] = CHECKOUT_RACKSTRAP): Promise<{ child: ResultPromise; lines: string[] }> {
  const child = l.lab.spawn(l.srv, rackstrap[0]!, [...rackstrap.slice(1), 'serve', config, '--interface', 'eth0', '--lease-file', leaseFile, '--log-level', 'info', '--log-format', 'json']);
  const lines: string[] = [];
  let partial = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rackstrap serve: no ready line in 15 s:\n${lines.join('\n')}`)), 15_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      if (parts.some((p) => p.includes('"event":"ready"'))) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`rackstrap serve exited ${code}:\n${lines.join('\n')}`));
    });
  });
  return { child, lines };
}

/** Rewrites the served description and reloads it (SIGHUP): resolves on the server's `reloaded` line. */
export async function reloadServer(server: { child: ResultPromise; lines: string[] }, file: string, text: string, timeoutMs = 15_000): Promise<void> {
  const seen = server.lines.length;
  writeFileSync(file, text);
  server.child.kill('SIGHUP');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const fresh = server.lines.slice(seen);
    if (fresh.some((x) => x.includes('"event":"reloaded"'))) return;
    const refused = fresh.find((x) => x.includes('"event":"reload-refused"'));
    if (refused !== undefined) throw new Error(`the server refused the new description: ${refused}`);
    if (Date.now() > deadline) throw new Error(`rackstrap serve did not reload within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function stopProcess(child: ResultPromise): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await child.catch(() => undefined);
}

/** The agent's flags for one filer of the lab (fast LAN timing; no host config file). */
export function agentArgs(l: FlatLab, cacheDir: string, extra: string[] = []): string[] {
  return [
    '--config', join(cacheDir, '..', 'no-agent.yaml'),
    '--cluster-id', l.clusterId,
    '--cache-dir', cacheDir,
    '--retransmit-base', '100',
    '--topology-timeout', '1000',
    '--address-timeout', '3000',
    '--log-format', 'json',
    ...extra,
  ];
}

/** An empty agent.yaml beside the cache dirs, so a host's /etc/rackstrap/agent.yaml never leaks in. */
export function writeEmptyConfig(dir: string): void {
  writeFileSync(join(dir, 'no-agent.yaml'), '# settings come from flags in these tests\n');
}

export interface RunResult {
  code: number | undefined;
  stdout: string;
  stderr: string;
  ms: number;
}

export async function runRackstrap(l: FlatLab, ns: string, args: string[], rackstrap: readonly string[] = CHECKOUT_RACKSTRAP): Promise<RunResult> {
  const t0 = performance.now();
  const r = await l.lab.exec(ns, rackstrap[0]!, [...rackstrap.slice(1), ...args], { reject: false, env: { NO_COLOR: '1' } });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

// ---- what the description says each filer holds ----------------------------------------------

export interface Expected {
  /** `dev a.b.c.d/len` of every address. */
  addresses: string[];
  /** `table dst via? dev src? realm?` of every route rackstrap owns. */
  routes: string[];
  /** `from a.b.c.d lookup T realms T/T`. */
  rules: string[];
}

export function expected(loaded: LoadedCluster, filer: string): Expected {
  const subnets = subnetsOf(loaded).filter((s) => s.family === 4);
  const subnetOf = (addr: string) => {
    const n = ipNum(addr);
    const s = subnets.find((x) => (n & mask(x.prefixLength)) >>> 0 === ipNum(x.network));
    if (s === undefined) throw new Error(`${addr} is in no subnet`);
    return s;
  };
  const addresses: string[] = [];
  const routes: string[] = [];
  const rules: string[] = [];
  const vservers = loaded.description.vservers;
  let mainDefault: string | undefined;
  const tableDefault = new Map<number, string>();
  for (const r of reservationsOf(loaded)) {
    if (r.kind === 'topology' || r.family !== 4) continue;
    const mine = r.kind === 'filer' ? r.filer === filer : r.home === filer;
    if (!mine) continue;
    const s = subnetOf(r.address);
    addresses.push(`${r.alias} ${r.address}/${s.prefixLength}`);
    if (r.kind !== 'vserver') {
      if (r.alias === 'mgmt0' && s.routers[0] !== undefined) mainDefault ??= `main default via ${s.routers[0]} dev mgmt0`;
      continue;
    }
    const table = vservers[r.vserver]!.table;
    routes.push(`${table} ${s.network}/${s.prefixLength} dev ${r.alias} src ${r.address} realm ${table}`);
    rules.push(`from ${r.address} lookup ${table} realms ${table}/${table}`);
    if (!tableDefault.has(table) && s.routers[0] !== undefined) tableDefault.set(table, `${table} default via ${s.routers[0]} dev ${r.alias} realm ${table}`);
  }
  if (mainDefault !== undefined) routes.push(mainDefault);
  routes.push(...tableDefault.values());
  return { addresses: addresses.sort(), routes: routes.sort(), rules: rules.sort() };
}

/** The same three lists, read from the namespace's kernel with `ip -j`. */
export async function actual(lab: Lab, ns: string): Promise<Expected> {
  type AddrJ = { ifname: string; addr_info?: Array<{ family: string; local: string; prefixlen: number }> };
  type RouteJ = { dst: string; gateway?: string; dev?: string; prefsrc?: string; table?: string; flow?: { to?: string } };
  type RuleJ = { priority: number; src?: string; table?: string; flow_from?: string; flow_to?: string };
  const addrs = await lab.ipJson<AddrJ[]>(ns, '-4', 'addr', 'show');
  const addresses = addrs.flatMap((l) => (l.ifname === 'lo' ? [] : (l.addr_info ?? []).map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`))).sort();
  const routeList = await lab.ipJson<RouteJ[]>(ns, '-4', 'route', 'show', 'table', 'all', 'proto', '114');
  const routes = routeList
    .map((r) => `${r.table ?? 'main'} ${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev}${r.prefsrc ? ` src ${r.prefsrc}` : ''}${r.flow?.to ? ` realm ${r.flow.to}` : ''}`)
    .sort();
  const ruleList = await lab.ipJson<RuleJ[]>(ns, '-4', 'rule', 'show');
  const rules = ruleList.filter((r) => r.priority === 31000).map((r) => `from ${r.src} lookup ${r.table} realms ${r.flow_from}/${r.flow_to}`).sort();
  return { addresses, routes, rules };
}

/** Polls until `actual` equals `want` (or the time is up); the last reading either way. */
export async function waitFor(lab: Lab, ns: string, want: Expected, timeoutMs: number): Promise<{ state: Expected; ms: number; ok: boolean }> {
  const t0 = performance.now();
  for (;;) {
    const state = await actual(lab, ns);
    const ok = JSON.stringify(state) === JSON.stringify(want);
    const ms = performance.now() - t0;
    if (ok || ms > timeoutMs) return { state, ms, ok };
    await new Promise((r) => setTimeout(r, 25));
  }
}

function ipNum(a: string): number {
  return a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
}
function mask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** The flat description with the management subnet moved (10.1.1.0/24 -> 10.1.9.0/24), generation + 1. */
export function movedMgmtDescription(text: string): string {
  return text.replace(/generation: (\d+)/, (_m, g: string) => `generation: ${Number(g) + 1}`).replace(/10\.1\.1\./g, '10.1.9.');
}
