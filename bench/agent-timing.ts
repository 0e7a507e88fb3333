// The timing targets for the agent, on the lab of rackstrap lab (src/lab: switch, embedded server,
// filer namespaces with the example's MACs), each figure a median of --reps runs:
//   - agent start -> every alias of Filer1 addressed, with LACP convergence excluded;
//   - one lease by ISC dhclient on the same lab in the same run, and one by rackstrap's own client;
//   - no server: agent start -> up from the cache, against the configured topology timeout.
// Two kernels, because neither gives the whole picture:
//   host  the real speed: this kernel has no bonding or 802.1Q, so Filer1's aliases sit straight
//         on its NICs ("flat": no bonds, no VLANs; same aliases, addresses, tables and rules);
//   uml   Filer1's real stack in a user-mode Linux guest (one CPU, every syscall through ptrace,
//         several times slower than the host): the example with its 802.3ad bonds made static
//         balance-xor bonds ("xor": same VLANs, aliases and routing, no LACP to wait for), and the
//         example as written ("lacp"), whose LACP wait is reported apart.
// "agent start" is the spawn of `rackstrap agent` (Node's start-up included); the agent's own log
// gives start -> up without it. A benchmark, not a test: as root,
//   npm run build && node dist/bench/agent-timing.js [--reps N] [--dhcp-timeout MS] [--only host|uml]
// The guest half is this same file, run by the guest's init with --guest.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { makeRunner } from '../src/net/runner.js';
import { agentDown, startAgent, waitAgentUp, type AgentSetup } from '../src/lab/agents.js';
import { spawnIn, type Child } from '../src/lab/child.js';
import { expectedFiler } from '../src/lab/expect.js';
import { buildLab, destroyLab, resetFiler } from '../src/lab/build.js';
import { planLab, type LabPlan } from '../src/lab/lab-plan.js';
import { waitLacp } from '../src/lab/observe-filer.js';
import { startServer } from '../src/lab/server.js';
import { filerIdentifier } from '../src/options/identifiers.js';
import { loadClusterFile, loadClusterText, type LoadedCluster } from '../src/options/load.js';
import { parseInterfaceName } from '../src/options/names.js';
import type { Stack } from '../src/options/schema.js';

const SELF = fileURLToPath(import.meta.url);
const CLUSTER = 'examples/cluster.yaml';
const FILER = 'Filer1';
/** The NIC dhclient and the one-lease client use: untagged, on mgmt0's subnet in every variant. */
const LEASE_NIC = 'eth2';

type Samples = Array<number | null>;

interface VariantFigures {
  /** spawn -> every expected address present */
  agentMs: Samples;
  /** the agent's log: start -> up */
  agentLogMs: Samples;
  /** LACP distributing after the addresses ("lacp" only) */
  lacpMs: Samples;
}

interface Figures {
  kernel: 'host' | 'uml';
  reps: number;
  dhcpTimeoutMs: number;
  variants: Record<string, VariantFigures>;
  dhclientMs: Samples;
  ownClientSpawnMs: Samples;
  ownClientInProcessMs: Samples;
  nodeStartMs: Samples;
  cacheAgentMs: Samples;
  cacheAgentLogMs: Samples;
  notes: string[];
}

// ---- variants of the example -------------------------------------------------------------------

/** The first NIC under an interface of the stack (a bond's or failover's first member, a VLAN's parent). */
function firstNic(stack: Stack, name: string): string {
  const p = parseInterfaceName(name);
  if (!p.ok) return name;
  if (p.value.kind === 'vlan') return firstNic(stack, p.value.parent);
  if (p.value.kind === 'bond') return firstNic(stack, stack.bonds[name]?.members[0] ?? name);
  if (p.value.kind === 'failover') return firstNic(stack, stack.failovers[name]?.members[0] ?? name);
  return name;
}

/** Every filer with its whole stack written out (no templates), changed by `edit`. */
function rewriteStacks(loaded: LoadedCluster, edit: (stack: Stack) => Stack): string {
  const d = structuredClone(loaded.description);
  d.templates = {};
  for (const [name, f] of Object.entries(d.filers)) {
    delete f.template;
    f.stack = edit(structuredClone(loaded.filers.get(name)!.stack));
  }
  return stringify(d);
}

/** No bonds, no VLANs: each alias on the first NIC under it. Runs on a kernel without bonding and 802.1Q. */
const flat = (loaded: LoadedCluster) =>
  rewriteStacks(loaded, (s) => ({ bonds: {}, failovers: {}, vlans: [], mtu: {}, aliases: Object.fromEntries(Object.entries(s.aliases).map(([a, on]) => [a, firstNic(s, on)])) }));

/** 802.3ad bonds become static balance-xor bonds: the same stack without LACP. */
const xor = (loaded: LoadedCluster) =>
  rewriteStacks(loaded, (s) => {
    for (const b of Object.values(s.bonds)) {
      if (b.mode !== '802.3ad') continue;
      b.mode = 'balance-xor';
      delete b.lacpRate;
    }
    return s;
  });

// ---- measuring -----------------------------------------------------------------------------------

interface Variant {
  name: string;
  file: string;
  loaded: LoadedCluster;
}

async function writeVariant(work: string, name: string, text: string): Promise<Variant> {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, text);
  return { name, file, loaded: loadClusterText(text, file) };
}

async function exitedMs(child: Child): Promise<number | null> {
  const how = await child.exited;
  return how === 0 ? performance.now() - child.startedAt : null;
}

/** The figures of `variants` on this kernel; one-lease and cache runs on the first variant's lab. */
async function measure(o: { kernel: 'host' | 'uml'; prefix: string; work: string; reps: number; dhcpTimeoutMs: number; variants: Variant[]; pollMs: number; labs: Set<LabPlan> }): Promise<Figures> {
  const root = makeRunner();
  const fig: Figures = {
    kernel: o.kernel, reps: o.reps, dhcpTimeoutMs: o.dhcpTimeoutMs, variants: {},
    dhclientMs: [], ownClientSpawnMs: [], ownClientInProcessMs: [], nodeStartMs: [], cacheAgentMs: [], cacheAgentLogMs: [], notes: [],
  };
  for (const [vi, v] of o.variants.entries()) {
    const lab = planLab(v.loaded, { prefix: o.prefix });
    o.labs.add(lab);
    await buildLab(lab, root);
    const server = await startServer(lab, v.file, join(o.work, `${v.name}-leases.log`));
    try {
      const f = lab.filers.find((x) => x.name === FILER)!;
      const runner = makeRunner({ netns: f.netns });
      const setup: AgentSetup = { filer: f, clusterId: v.loaded.description.cluster.id, vendorClass: v.loaded.description.cluster.vendorClass, cacheDir: join(o.work, `${v.name}-agent`), topologyTimeoutMs: o.dhcpTimeoutMs };
      const expected = expectedFiler(v.loaded, FILER);
      const vf: VariantFigures = { agentMs: [], agentLogMs: [], lacpMs: [] };
      fig.variants[v.name] = vf;
      const run = async (into: { ms: Samples; log: Samples }, label: string) => {
        await resetFiler(lab, FILER, root);
        const agent = startAgent(setup);
        const w = await waitAgentUp(agent, runner, expected, { since: agent.startedAt, timeoutMs: 120_000, pollMs: o.pollMs });
        into.ms.push(w.at === undefined ? null : w.at - agent.startedAt);
        into.log.push(w.agentUpMs ?? null);
        if (w.at === undefined) fig.notes.push(`${o.kernel} ${label}: missing ${w.missing.join(', ')}; ${agent.stderr.slice(-2).join(' | ')}`);
        if (v.name === 'lacp') vf.lacpMs.push((await waitLacp(runner, 20_000)) ?? null);
        await agent.stop();
      };
      for (let i = 0; i < o.reps; i++) {
        // A cold start each time: a reset filer (fresh namespace and NICs) and no cache.
        rmSync(setup.cacheDir, { recursive: true, force: true });
        await run({ ms: vf.agentMs, log: vf.agentLogMs }, `${v.name} rep ${i}`);
      }
      if (vi !== 0) continue;
      await oneLeaseRuns(lab, o, v, fig);
      // No server: the agent asks for dhcpTimeoutMs, then builds everything from the cache the
      // last run wrote.
      await server.child.stop();
      for (let i = 0; i < o.reps; i++) await run({ ms: fig.cacheAgentMs, log: fig.cacheAgentLogMs }, `cache rep ${i}`);
      await agentDown(setup);
    } finally {
      await server.child.stop();
      await destroyLab(lab, root);
      o.labs.delete(lab);
    }
  }
  return fig;
}

async function oneLeaseRuns(lab: LabPlan, o: { work: string; reps: number }, v: Variant, fig: Figures): Promise<void> {
  const root = makeRunner();
  const f = lab.filers.find((x) => x.name === FILER)!;
  const { id, vendorClass } = v.loaded.description.cluster;
  const identifier = filerIdentifier(id, 'mgmt0', FILER);
  const conf = join(o.work, 'dhclient.conf');
  writeFileSync(conf, `send dhcp-client-identifier "${identifier}";\nsend vendor-class-identifier "${vendorClass}";\nrequest subnet-mask, broadcast-address, routers;\n`);
  for (let i = 0; i < o.reps; i++) {
    await resetFiler(lab, FILER, root);
    // Without -d, dhclient forks into the background once it is bound: its exit is "bound".
    // -sf /bin/true: the lease only, nothing configured (dhclient-script would set the address).
    const pid = join(o.work, `dhclient-${i}.pid`);
    const dh = spawnIn('dhclient', f.netns, ['dhclient', '-1', '-4', '-sf', '/bin/true', '-cf', conf, '-lf', join(o.work, `dhclient-${i}.leases`), '-pf', pid, LEASE_NIC]);
    fig.dhclientMs.push(await exitedMs(dh));
    // The daemon writes its pid file after the fork: give it a moment, then stop it.
    let stopped = false;
    for (let t = 0; t < 40 && !stopped; t++) {
      try {
        execFileSync('kill', [readFileSync(pid, 'utf8').trim()], { stdio: 'ignore' });
        stopped = true;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (!stopped) fig.notes.push(`dhclient rep ${i}: no daemon to stop (${dh.stderr.slice(-2).join(' | ')})`);
    await resetFiler(lab, FILER, root);
    const own = spawnIn('rackstrap client', f.netns, [process.execPath, SELF, '--one-lease', LEASE_NIC, identifier, vendorClass]);
    fig.ownClientSpawnMs.push(await exitedMs(own));
    const line = own.lines.find((l) => l.includes('boundMs'));
    fig.ownClientInProcessMs.push(line === undefined ? null : (JSON.parse(line) as { boundMs: number }).boundMs);
    fig.nodeStartMs.push(await exitedMs(spawnIn('node', f.netns, [process.execPath, '-e', '0'])));
  }
}

/** rackstrap's own client, one lease, then exit (run in the filer's namespace by oneLeaseRuns). */
async function oneLease(ifname: string, identifier: string, vendorClass: string): Promise<void> {
  const { openDhcpClient } = await import('../src/dhcp-client/index.js');
  const c = await openDhcpClient({ interface: ifname, identifier, vendorClass, timing: { retransmitBaseMs: 250 } });
  const t0 = performance.now();
  const bound = new Promise<void>((resolve) => c.once('bound', () => resolve()));
  c.start();
  await bound;
  process.stdout.write(`${JSON.stringify({ boundMs: performance.now() - t0 })}\n`);
  await c.stop();
}

// ---- report ------------------------------------------------------------------------------------

function median(xs: Samples): number | null {
  const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

function fmt(xs: Samples): string {
  const m = median(xs);
  const ok = xs.filter((x): x is number => x !== null);
  if (m === null) return xs.length === 0 ? '-' : 'failed';
  return `${m.toFixed(0).padStart(6)} ms  [${Math.min(...ok).toFixed(0)}-${Math.max(...ok).toFixed(0)}]${ok.length < xs.length ? ` (${xs.length - ok.length} failed)` : ''}`;
}

function table(g: Figures): string[] {
  const rows: Array<[string, Samples]> = [];
  for (const [name, v] of Object.entries(g.variants)) {
    rows.push([`${name}: agent start -> every alias of ${FILER} addressed`, v.agentMs], [`${name}:    the agent's log, start -> up`, v.agentLogMs]);
    if (v.lacpMs.length > 0) rows.push([`${name}:    then LACP distributing (not in the above)`, v.lacpMs]);
  }
  rows.push(
    [`one lease on ${LEASE_NIC}: dhclient (spawn -> bound, forks away)`, g.dhclientMs],
    [`one lease on ${LEASE_NIC}: rackstrap client (spawn -> bound -> exit)`, g.ownClientSpawnMs],
    [`one lease on ${LEASE_NIC}: rackstrap client (start() -> bound, in process)`, g.ownClientInProcessMs],
    ['node -e 0 (Node start-up alone)', g.nodeStartMs],
    [`no server: agent start -> up from the cache (topology timeout ${g.dhcpTimeoutMs} ms)`, g.cacheAgentMs],
    ['   the same minus the timeout', g.cacheAgentMs.map((x) => (x === null ? null : x - g.dhcpTimeoutMs))],
    ["   the agent's log, start -> up, minus the timeout", g.cacheAgentLogMs.map((x) => (x === null ? null : x - g.dhcpTimeoutMs))],
  );
  return [...rows.map(([k, v]) => `  ${k.padEnd(80)} ${fmt(v)}`), ...g.notes.map((n) => `  note: ${n}`)];
}

// ---- host and guest ----------------------------------------------------------------------------

async function guest(out: string, reps: number, dhcpTimeoutMs: number): Promise<void> {
  const work = '/run/agent-timing';
  mkdirSync(work, { recursive: true });
  const example = await loadClusterFile(CLUSTER);
  const variants = [await writeVariant(work, 'xor', xor(example)), { name: 'lacp', file: CLUSTER, loaded: example }];
  // Poll the kernel rarely: the guest has one CPU, and the agent's "up" line gives the time.
  const fig = await measure({ kernel: 'uml', prefix: 'bt', work, reps, dhcpTimeoutMs, variants, pollMs: 250, labs: new Set() });
  writeFileSync(join(out, 'figures.json'), JSON.stringify(fig));
}

async function onHost(reps: number, dhcpTimeoutMs: number): Promise<Figures> {
  const work = join('/tmp', `rackstrap-agent-timing-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const labs = new Set<LabPlan>();
  // Ctrl-C: remove the namespaces this run made (each prefixed with our pid), then exit.
  const onSignal = () => {
    for (const lab of labs) for (const ns of lab.namespaces) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const example = await loadClusterFile(CLUSTER);
    return await measure({ kernel: 'host', prefix: `at${process.pid}`, work, reps, dhcpTimeoutMs, variants: [await writeVariant(work, 'flat', flat(example))], pollMs: 5, labs });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    rmSync(work, { recursive: true, force: true });
  }
}

async function inUml(reps: number, dhcpTimeoutMs: number): Promise<Figures | string> {
  const { runUml, umlUnavailable } = await import('../src/lab/uml.js');
  const { GUEST_MODULES, PROJECT_ROOT } = await import('../src/lab/host.js');
  const missing = umlUnavailable();
  if (missing !== undefined) return missing;
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const r = await runUml({
      script: `echo 1 > /proc/sys/kernel/printk\ncd ${JSON.stringify(PROJECT_ROOT)}\nexec ${process.execPath} ${SELF} --guest "$OUT" --reps ${reps} --dhcp-timeout ${dhcpTimeoutMs}`,
      modules: GUEST_MODULES,
      memMb: 768,
      timeoutMs: 900_000,
      signal: abort.signal,
    });
    const raw = r.files.get('figures.json');
    if (r.exitCode !== 0 || raw === undefined) return `guest failed (exit ${r.exitCode}${r.cancelled ? ', interrupted' : ''}):\n${r.log.slice(-3000)}\n${r.console.slice(-1500)}`;
    return JSON.parse(raw) as Figures;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    allowPositionals: true,
    strict: false,
    options: {
      guest: { type: 'string' },
      'one-lease': { type: 'string' },
      reps: { type: 'string', default: '5' },
      'dhcp-timeout': { type: 'string', default: '3000' },
      only: { type: 'string' },
    },
  });
  const reps = Number(values.reps);
  const dhcpTimeoutMs = Number(values['dhcp-timeout']);
  if (typeof values['one-lease'] === 'string') {
    const rest = process.argv.slice(process.argv.indexOf('--one-lease') + 2);
    await oneLease(values['one-lease'], rest[0]!, rest[1]!);
    return 0;
  }
  if (typeof values.guest === 'string') {
    await guest(values.guest, reps, dhcpTimeoutMs);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('agent-timing: run as root (it builds network namespaces, as npm run demo does)\n');
    return 1;
  }
  const started = new Date();
  const load = loadavg().map((x) => x.toFixed(1)).join(' ');
  process.stdout.write(`agent timing, ${started.toISOString()}, ${reps} reps, load average ${load}; medians [min-max]\n`);
  const results: Record<string, Figures | string> = {};
  if (values.only !== 'uml') {
    const h = await onHost(reps, dhcpTimeoutMs);
    results.host = h;
    process.stdout.write(`host kernel (${FILER} flat: aliases on the NICs, no bonds or VLANs):\n${table(h).join('\n')}\n`);
  }
  if (values.only !== 'host') {
    const u = await inUml(reps, dhcpTimeoutMs);
    results.uml = u;
    process.stdout.write(typeof u === 'string' ? `user-mode Linux: ${u}\n` : `user-mode Linux guest (${FILER}'s real stack; 1 CPU, ptrace):\n${table(u).join('\n')}\n`);
  }
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/agent-timing-${started.toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify({ started, loadavg: load, results }, null, 1));
  process.stdout.write(`raw figures: ${file}\n`);
  return Object.values(results).some((r) => typeof r === 'string') ? 1 : 0;
}

process.exitCode = await main();
// The guest and the one-lease client must not wait for stray handles (sockets, timers).
if (process.argv.includes('--guest') || process.argv.includes('--one-lease')) process.exit(process.exitCode);
