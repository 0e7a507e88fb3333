// The demo itself, run inside the user-mode Linux guest (guest-main.ts starts it): the lab, the
// embedded server on the example cluster, both agents at once, the cache fallback with the server
// gone, the live update to a new generation, and the cleanup. Printed for a person through the
// Reporter; everything a test needs (the raw `ip -j -d` output of each filer after each run, the
// timings, the cache copies) is written to `out`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { openCache } from '../cache/open-cache.js';
import { parseObservation, type ObservedState, type RawObservation } from '../net/observe.js';
import { makeRunner, type Runner } from '../net/runner.js';
import { loadClusterFile, type LoadedCluster } from '../options/load.js';
import { renderStatus } from '../bootstrap/status-render.js';
import { agentDown, agentEvents, agentStatus, startAgent, waitAgentUp, type AgentSetup, type AgentUp } from './agents.js';
import { changeDescription, type MovedAddress } from './change.js';
import type { Child } from './child.js';
import { expectedFiler, type ExpectedFiler } from './expect.js';
import { buildLab, destroyLab } from './build.js';
import { planLab, type LabFiler, type LabPlan } from './lab-plan.js';
import { comparable, snapshot, waitAddressed, waitLacp } from './observe-filer.js';
import { Reporter, seconds, type Sink } from './report.js';
import { exchanges, startServer, type ServerReady } from './server.js';
import { renderStack } from './tree.js';
import { checkKernel, expectedKernel, renderChecks, type KernelCheck } from './check.js';
import { LAB_LIB_ENV } from './bundle.js';

export interface FlowOptions {
  /** The cluster description (examples/cluster.yaml). */
  cluster: string;
  /** Folder for results.json and the raw snapshots (shared with the host). */
  out: string;
  /** Writable scratch folder inside the guest (tmpfs): lease log, caches, the changed description. */
  work: string;
  sink: Sink;
  /** How long an agent waits for a topology answer before it uses its cache. */
  dhcpTimeoutMs?: number;
  /** Per agent run: up within this, or the run fails (generous: UML slows down a lot on a busy host). */
  runTimeoutMs?: number;
  /** Skip the live-update step. */
  skipLiveUpdate?: boolean;
  /** Skip the cache step (server stopped, filers torn down, up again from the cache). */
  skipCache?: boolean;
  /** Only these filers (default: every filer of the description). */
  filers?: string[];
  /** Namespace prefix. */
  prefix?: string;
  /** Date.now() on the host when it started the guest: step 1 then shows the boot time. */
  hostStartMs?: number;
}

export type RunName = 'dhcp' | 'cache' | 'live';

export interface FilerRun {
  filer: string;
  /** Agent start (spawn, or the server's restart for the live run) -> every expected address present, ms. */
  addressedMs: number | undefined;
  /** The agent's own log: its "start" line to its "up" line (Node's start-up not included). */
  agentUpMs?: number;
  missing: string[];
  /** LACP distributing this long after the addresses were there (it is not waited for before). */
  lacpMs: number | undefined;
  /** `<filer>-<run>.json` in `out`: the raw `ip -j -d` output (RawObservation). */
  snapshotFile: string;
  /** Same links, addresses, routes and rules as the DHCP run (cache run). */
  sameAsDhcp?: boolean;
  /** The kernel against the description: how many fields were compared, and those that differ. */
  checked?: number;
  differ?: KernelCheck[];
}

export interface FlowResults {
  ok: boolean;
  problems: string[];
  cluster: string;
  lab: LabPlan;
  dhcpTimeoutMs: number;
  runs: Partial<Record<RunName, FilerRun[]>>;
  /** Cache copies after the DHCP run, per filer: the files' names in `out`. */
  caches: Record<string, { files: string[]; generation: number | undefined; leases: number | undefined }>;
  moved: MovedAddress[];
  steps: Array<{ n: number; title: string; ms: number }>;
  serverExchanges: number;
}

/** Everything one run of the flow holds; the steps below share it. */
interface Ctx {
  r: Reporter;
  opts: FlowOptions;
  loaded: LoadedCluster;
  lab: LabPlan;
  setups: Map<string, AgentSetup>;
  results: FlowResults;
  runTimeoutMs: number;
  /** The running agents by filer, with the run they started in (their logs are saved as <filer>-<run>-agent.log). */
  agents: Map<string, { child: Child; run: RunName }>;
  problem: (text: string) => void;
}

const filerRunner = (f: LabFiler): Runner => makeRunner({ netns: f.netns });

export async function runFlow(opts: FlowOptions): Promise<FlowResults> {
  const r = new Reporter(opts.sink);
  const root = makeRunner();
  const dhcpTimeoutMs = opts.dhcpTimeoutMs ?? 3000;
  mkdirSync(opts.out, { recursive: true });
  mkdirSync(opts.work, { recursive: true });
  const loaded = await loadClusterFile(opts.cluster);
  const lab = planLab(loaded, { prefix: opts.prefix ?? 'rs', ...(opts.filers ? { filers: opts.filers } : {}) });
  const results: FlowResults = { ok: false, problems: [], cluster: opts.cluster, lab, dhcpTimeoutMs, runs: {}, caches: {}, moved: [], steps: [], serverExchanges: 0 };
  const { cluster } = loaded.description;
  const ctx: Ctx = {
    r,
    opts,
    loaded,
    lab,
    results,
    runTimeoutMs: opts.runTimeoutMs ?? 120_000,
    agents: new Map(),
    setups: new Map(
      lab.filers.map((f) => [
        f.name,
        { filer: f, clusterId: cluster.id, vendorClass: cluster.vendorClass, cacheDir: join(opts.work, f.name.toLowerCase()), topologyTimeoutMs: dhcpTimeoutMs },
      ]),
    ),
    problem: (text) => {
      results.problems.push(text);
      r.info(`PROBLEM: ${text}`);
    },
  };
  let server: ServerReady | undefined;
  let labBuilt = false;
  let n = 0;

  try {
    r.step(++n, 'Boot user-mode Linux and build the lab');
    // UML keeps the host's wall clock, so the host's start time gives the boot time.
    const boot = opts.hostStartMs === undefined ? '' : ` ${seconds(Date.now() - opts.hostStartMs)} after the host started it`;
    const programs = process.env[LAB_LIB_ENV] === undefined ? 'programs from dist/' : 'programs from the lab bundle, one file each';
    r.info(`guest up${boot} (Linux ${release()}): bonding, 802.1Q, macvlan and bridge loaded; ${programs}`);
    await buildLab(lab, root);
    labBuilt = true;
    r.info(describeLab(lab));

    r.step(++n, `Start the embedded DHCP server on ${opts.cluster}`);
    server = await startServer(lab, opts.cluster, join(opts.work, 'serve-leases.log'));
    r.info(describeServer(server, loaded));

    const agents = lab.filers.length === 1 ? 'the agent' : lab.filers.length === 2 ? 'both agents at once' : `all ${lab.filers.length} agents at once`;
    r.step(++n, `Start ${agents}: topology and addresses from DHCP`);
    results.runs.dhcp = await runAgents(ctx, 'dhcp');
    for (const f of lab.filers) {
      const cache = await copyCache(ctx.setups.get(f.name)!, loaded, opts.out, f.name);
      results.caches[f.name] = cache;
      r.info(`${f.name}: cache written: generation ${cache.generation ?? '?'}, ${cache.leases ?? '?'} leases, ${cache.files.length} copies`);
      if (cache.files.length === 0) ctx.problem(`${f.name}: no cache was written`);
    }

    if (!opts.skipCache) {
      r.step(++n, 'Stop the server, tear the filers down, start the agents again: up from the cache');
      await server.child.stop();
      results.serverExchanges += exchanges(server.child).length;
      server = undefined;
      await stopAgents(ctx);
      await Promise.all(lab.filers.map((f) => tearDown(ctx, f)));
      r.info(`no DHCP server now: each agent asks for ${seconds(dhcpTimeoutMs)}, then builds everything from its cache`);
      results.runs.cache = await runAgents(ctx, 'cache');
    }

    if (!opts.skipLiveUpdate && !opts.skipCache) {
      r.step(++n, 'Restart the server with a changed description: the agents pick it up live');
      const file = join(opts.work, 'cluster-gen2.yaml');
      const changed = changeDescription(readFileSync(opts.cluster, 'utf8'), loaded, file);
      writeFileSync(file, changed.text);
      results.moved = changed.moved;
      r.info(`generation ${cluster.generation} -> ${changed.generation}: ${changed.moved.map((m) => `${m.filer} ${m.alias} ${m.from} -> ${m.to}`).join(', ')}`);
      server = await startServer(lab, file, join(opts.work, 'serve-leases.log'));
      r.info(`server up again with generation ${String(server.ready.generation)}; the agents, still running from the cache, keep asking`);
      results.runs.live = await liveUpdate(ctx, changed.loaded, changed.generation, changed.moved, performance.now());
    }
  } catch (err) {
    ctx.problem(err instanceof Error ? err.message : String(err));
  } finally {
    r.step(++n, 'Clean up');
    await stopAgents(ctx);
    if (server) {
      await server.child.stop();
      results.serverExchanges += exchanges(server.child).length;
    }
    if (labBuilt) {
      for (const p of await destroyLab(lab, root)) ctx.problem(p);
      r.info(`agents and server stopped, namespaces ${lab.namespaces.join(', ')} removed`);
    }
    r.endStep();
  }
  results.steps = r.steps;
  results.ok = results.problems.length === 0;
  summarize(r, results);
  writeFileSync(join(opts.out, 'results.json'), JSON.stringify(results, null, 1));
  writeFileSync(join(opts.out, 'transcript.txt'), `${r.transcript.join('\n')}\n`);
  return results;
}

async function stopAgents(ctx: Ctx): Promise<void> {
  await Promise.all(
    [...ctx.agents.entries()].map(async ([filer, a]) => {
      await a.child.stop(10_000);
      writeFileSync(join(ctx.opts.out, `${filer.toLowerCase()}-${a.run}-agent.log`), `${a.child.stderr.join('\n')}\n`);
    }),
  );
  ctx.agents.clear();
}

/** `rackstrap agent --down` with the agent stopped, then checks that nothing of rackstrap is left. */
async function tearDown(ctx: Ctx, f: LabFiler): Promise<void> {
  const down = await agentDown(ctx.setups.get(f.name)!);
  const left = (await snapshot(filerRunner(f))).state;
  const owned = [...left.links.filter((l) => l.owned).map((l) => l.ifname), ...left.addresses.filter((a) => a.owned).map((a) => a.local), ...left.routes.filter((x) => x.owned).map((x) => x.dst)];
  const said = down.message.replace(/^down: /, '');
  ctx.r.info(`${f.name}: rackstrap agent --down: ${down.ok ? said : `FAILED: ${said}`}; ${owned.length === 0 ? 'nothing of rackstrap left' : `left: ${owned.join(', ')}`}`);
  if (!down.ok || owned.length > 0) ctx.problem(`${f.name}: teardown ${down.ok ? 'left' : 'failed'}: ${down.ok ? owned.join(', ') : down.message}`);
}

/** Starts every filer's agent at once; as each is up, prints what it built. */
async function runAgents(ctx: Ctx, run: 'dhcp' | 'cache'): Promise<FilerRun[]> {
  const { r, lab, opts } = ctx;
  const children = lab.filers.map((f) => {
    const c = startAgent(ctx.setups.get(f.name)!);
    ctx.agents.set(f.name, { child: c, run });
    return c;
  });
  const dhcpRuns = ctx.results.runs.dhcp;
  return Promise.all(
    lab.filers.map(async (f, i) => {
      const child = children[i]!;
      const runner = filerRunner(f);
      const w = await waitAgentUp(child, runner, expectedFiler(ctx.loaded, f.name), { since: child.startedAt, timeoutMs: ctx.runTimeoutMs });
      const addressedMs = w.at === undefined ? undefined : w.at - child.startedAt;
      // The tree shows LACP too: wait for it (it does not count in the addressing time).
      const lacpMs = w.at === undefined ? undefined : await waitLacp(runner, 20_000);
      const snap = await snapshot(runner);
      const file = `${f.name.toLowerCase()}-${run}.json`;
      writeFileSync(join(opts.out, file), JSON.stringify(snap.raw));
      const checks = compare(ctx, ctx.loaded, f, snap.state, run);
      const status = await agentStatus(ctx.setups.get(f.name)!);
      // What `rackstrap status` prints, rendered here from the same file (a CLI run costs seconds in the guest).
      if (status !== undefined) writeFileSync(join(opts.out, `${f.name.toLowerCase()}-${run}-status.txt`), `${renderStatus(status, { running: true })}\n`);
      const result: FilerRun = { filer: f.name, addressedMs, missing: w.missing, lacpMs, snapshotFile: file, checked: checks.length, differ: checks.filter((c) => !c.ok) };
      if (w.agentUpMs !== undefined) result.agentUpMs = w.agentUpMs;

      const agentClock = w.agentUpMs !== undefined ? ` (agent log: start -> up ${seconds(w.agentUpMs)})` : '';
      if (addressedMs === undefined) {
        const exited = child.proc.exitCode !== null || child.proc.signalCode !== null;
        const said = agentEvents(child).filter((e) => e.level === 'warn' || e.level === 'error').slice(-3).map((e) => e.msg).join(' | ');
        ctx.problem(`${f.name} (${run} run): ${exited ? `the agent exited (${String(child.proc.exitCode ?? child.proc.signalCode)})` : `not up after ${seconds(ctx.runTimeoutMs)}`}; missing ${w.missing.join(', ')}${said ? `; agent said: ${said}` : ''}`);
      } else if (run === 'dhcp') {
        const lacp = lacpMs === undefined ? '' : `; LACP distributing ${seconds(lacpMs)} later`;
        r.info(`\n${renderStack(snap.state, `${f.name}: every alias addressed ${seconds(addressedMs)} after the agent started${agentClock}${lacp}`)}`);
        r.info(`\n${renderChecks(f.name, checks)}`);
      } else {
        const dhcp = dhcpRuns?.find((x) => x.filer === f.name);
        result.sameAsDhcp = dhcp !== undefined && sameState(opts.out, dhcp.snapshotFile, file);
        r.info(
          `${f.name}: up from the cache ${seconds(addressedMs)} after start = timeout ${seconds(ctx.results.dhcpTimeoutMs)} + ${seconds(addressedMs - ctx.results.dhcpTimeoutMs)}${agentClock}; ` +
            `same stack, addresses, tables and rules as from DHCP: ${result.sameAsDhcp ? 'yes' : 'NO'}`,
        );
        if (!result.sameAsDhcp) ctx.problem(`${f.name}: the cache run built something else than the DHCP run (compare ${dhcp?.snapshotFile} and ${file})`);
      }
      if (status !== undefined) {
        const bound = status.leases.filter((l) => l.address !== undefined).length;
        r.info(`${f.name}: rackstrap status: mode ${status.mode}, generation ${status.topology?.generation ?? '-'}, ${bound}/${status.leases.length} leases, cache generation ${status.cache.generation ?? '-'}`);
      }
      return result;
    }),
  );
}

/** Step 5: the agents running from the cache take the new generation from the restarted server. */
async function liveUpdate(ctx: Ctx, changed: LoadedCluster, generation: number, moved: MovedAddress[], since: number): Promise<FilerRun[]> {
  return Promise.all(
    ctx.lab.filers.map(async (f) => {
      const child = ctx.agents.get(f.name)?.child;
      const runner = filerRunner(f);
      const expected = expectedFiler(changed, f.name);
      const mine = moved.filter((m) => m.filer === f.name);
      const absent = mine.map((m) => expected.addresses.find((a) => a.address.startsWith(`${m.to}/`))?.address.replace(m.to, m.from)).filter((x): x is string => x !== undefined);
      const w: AgentUp = child
        ? await waitAgentUp(child, runner, expected, { since, timeoutMs: ctx.runTimeoutMs, generation, absent })
        : { ...(await waitAddressed(runner, expected, { timeoutMs: ctx.runTimeoutMs, absent, pollMs: 250 })), agentUpMs: undefined };
      const snap = await snapshot(runner);
      const file = `${f.name.toLowerCase()}-live.json`;
      writeFileSync(join(ctx.opts.out, file), JSON.stringify(snap.raw));
      const checks = compare(ctx, changed, f, snap.state, 'live');
      const run: FilerRun = { filer: f.name, addressedMs: w.at === undefined ? undefined : w.at - since, missing: w.missing, lacpMs: undefined, snapshotFile: file, checked: checks.length, differ: checks.filter((c) => !c.ok) };
      if (run.addressedMs === undefined) ctx.problem(`${f.name}: generation ${generation} not in place within ${seconds(ctx.runTimeoutMs)}: missing ${w.missing.join(', ')}`);
      else ctx.r.info(`${f.name}: generation ${generation} applied ${seconds(run.addressedMs)} after the server came back: ${mine.map((m) => `${m.alias} ${m.from} -> ${m.to}`).join(', ')}`);
      return run;
    }),
  );
}

/**
 * The filer's kernel against what the description means (check.ts): written to
 * <filer>-<run>-checks.txt; every difference is a problem of the run.
 */
function compare(ctx: Ctx, loaded: LoadedCluster, f: LabFiler, state: ObservedState, run: RunName): KernelCheck[] {
  const checks = checkKernel(expectedKernel(loaded, f.name), state);
  const text = renderChecks(f.name, checks);
  writeFileSync(join(ctx.opts.out, `${f.name.toLowerCase()}-${run}-checks.txt`), `${text}\n`);
  const differ = checks.filter((c) => !c.ok);
  if (differ.length > 0) {
    ctx.problem(`${f.name} (${run} run): ${differ.length} of ${checks.length} fields differ from the description: ${differ.map((c) => `${c.subject} ${c.field}: wanted ${c.want}, kernel has ${c.got}`).join('; ')}`);
  } else if (run !== 'dhcp') {
    ctx.r.info(`${f.name}: the kernel against the description: ${checks.length} fields, all match`);
  }
  return checks;
}

/** Copies the agent's cache files to `out` and reads the best copy back. */
async function copyCache(setup: AgentSetup, loaded: LoadedCluster, out: string, filer: string) {
  const cache = openCache(setup.cacheDir, { clusterId: loaded.description.cluster.id });
  const files: string[] = [];
  for (const [i, file] of cache.files.entries()) {
    try {
      const name = `${filer.toLowerCase()}-cache.${i === 0 ? 'a' : 'b'}.json`;
      writeFileSync(join(out, name), readFileSync(file));
      files.push(name);
    } catch {
      // that copy is missing
    }
  }
  const got = await cache.read().catch(() => undefined);
  const entry = got?.kind === 'ok' ? got.entry : undefined;
  return { files, generation: entry?.generation, leases: entry ? Object.keys(entry.leases).length : undefined };
}

function sameState(out: string, a: string, b: string): boolean {
  const load = (f: string) => comparable(parseObservation(JSON.parse(readFileSync(join(out, f), 'utf8')) as RawObservation));
  return isDeepStrictEqual(load(a), load(b));
}

function describeLab(lab: LabPlan): string {
  const pad = ' '.repeat(8 + lab.serverNetns.length + 2);
  const lines = [
    `switch  ${lab.switchNetns}: bridge br0, forwarding tagged frames; LACP partners ${lab.switchBonds.map((b) => `${b.name} (${b.filer} ${b.bond})`).join(', ')}`,
    ...lab.serverInterfaces.map((i, n) => `${n === 0 ? `server  ${lab.serverNetns}: ` : pad}${i.ifname.padEnd(8)} ${i.vlanPath.length ? `VLAN ${i.vlanPath.join('.')}` : 'untagged'}  ${i.addresses.join(' ')}`),
  ];
  for (const f of lab.filers) {
    const first = f.nics[0];
    const last = f.nics.at(-1);
    const range = first && last ? `${first.name}..${last.name}, MACs ${first.mac}..${last.mac.slice(-2)}` : 'no NICs';
    lines.push(`${f.name.padEnd(7)} ${f.netns}: ${f.nics.length} NICs ${range}, base MAC ${f.baseMac}`);
  }
  return lines.join('\n');
}

function describeServer(s: ServerReady, loaded: LoadedCluster): string {
  const g = s.ready;
  return `ready in ${seconds(s.readyMs)}: cluster ${String(g.cluster)} generation ${String(g.generation)}, ${String(g.topologies)} topologies, ${String(g.reservations)} reservations, vendor class "${loaded.description.cluster.vendorClass}"`;
}

function summarize(r: Reporter, res: FlowResults): void {
  r.line();
  r.line('Summary');
  for (const s of res.steps) r.line(`   ${s.n}. ${s.title.padEnd(84)} ${seconds(s.ms).padStart(9)}`);
  const label: Record<RunName, string> = {
    dhcp: 'from DHCP: agent start -> every alias addressed',
    cache: `from the cache: agent start -> up (DHCP timeout ${seconds(res.dhcpTimeoutMs)})`,
    live: 'generation 2 in place, after the server came back',
  };
  for (const [name, runs] of Object.entries(res.runs) as Array<[RunName, FilerRun[]]>) {
    for (const x of runs) {
      const own = x.agentUpMs !== undefined ? `  (agent log ${seconds(x.agentUpMs)})` : '';
      r.line(`   ${x.filer.padEnd(7)} ${label[name].padEnd(76)} ${(x.addressedMs === undefined ? 'not up' : seconds(x.addressedMs)).padStart(9)}${own}`);
    }
  }
  r.line(res.ok ? '   every check passed' : `   ${res.problems.length} problem(s):\n${res.problems.map((p) => `     - ${p}`).join('\n')}`);
}
