// Drift figures of the running agent (flat cluster, network namespaces, embedded server):
//   - kernel event → drift detected → repaired: an owned address deleted with `ip addr del`, timed
//     from the moment the command returns to the agent's `drift` log line and to its `repair` line;
//   - the daemon's idle CPU: process CPU time over a quiet window with the watch and control socket
//     running, as a share of one core.
// Run: npm run build && node dist/bench/agent-drift.js [rounds=30] [idleSeconds=30]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeAgentLog } from '../src/bootstrap/agent-log.js';
import { Agent } from '../src/bootstrap/bootstrap.js';
import { startAgentService } from '../src/control/agent-service.js';
import { TransportPool } from '../src/dhcp-client/index.js';
import { makeRunner } from '../src/net/runner.js';
import { FLAT, filer1AgentSettings, flatLab, startServer, stopProcess } from '../test/bootstrap/helpers/flat-lab.js';

const rounds = Number(process.argv[2] ?? 30);
const idleSeconds = Number(process.argv[3] ?? 30);
const teardowns: Array<() => unknown> = [];
const host = { teardown: (fn: () => unknown) => teardowns.push(fn) };

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]!.toFixed(0)} ms, worst ${s.at(-1)!.toFixed(0)} ms (n=${s.length})`;
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const l = await flatLab(host, ['Filer1'], 'qobench');
  const ns = l.ns.get('Filer1')!;
  const dir = mkdtempSync(join(tmpdir(), 'qobench-'));
  teardowns.push(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startServer(l, FLAT, join(dir, 'leases.log'));
  teardowns.push(() => stopProcess(server.child));
  const settings = filer1AgentSettings(l, join(dir, 'cache'), { reconcile: 'repair' });
  const marks: Array<{ event: string; at: number }> = [];
  // No rate limit on the log here: the rounds come faster than one warning of a kind a second, and
  // the held lines would time the limiter instead of the agent.
  const log = makeAgentLog({ level: 'info', limitMs: 0, write: (line) => {
    const m = /"event":"(drift|repair)"/.exec(line);
    if (m) marks.push({ event: m[1]!, at: performance.now() });
  } });
  const runner = makeRunner({ netns: ns });
  const agent = new Agent(settings, { runner, netns: ns, pool: new TransportPool(), daemon: true, log });
  const service = await startAgentService({ agent, runner, log, netns: ns, socketPath: join(dir, 'a.sock'), stateDir: settings.cacheDir, agentVersion: 'bench', onRelease: () => undefined });
  teardowns.push(async () => { await service.close(); await agent.stop(); });
  await agent.bringUp();
  agent.keepUp();
  await new Promise((r) => setTimeout(r, 1000));

  const detected: number[] = [];
  const repaired: number[] = [];
  for (let i = 0; i < rounds; i++) {
    marks.length = 0;
    await l.lab.ip(ns, 'addr', 'del', '10.2.2.3/24', 'dev', 'data1');
    const t0 = performance.now();
    const deadline = t0 + 10_000;
    while (!marks.some((m) => m.event === 'repair') && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    const d = marks.find((m) => m.event === 'drift');
    const rep = marks.find((m) => m.event === 'repair');
    if (d) detected.push(d.at - t0);
    if (rep) repaired.push(rep.at - t0);
    await new Promise((r) => setTimeout(r, 300));
  }

  await new Promise((r) => setTimeout(r, 2000));
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - w0;
  const load1 = loadavg();
  console.log(`event → drift detected: ${stats(detected)}`);
  console.log(`event → repaired:       ${stats(repaired)}`);
  console.log(`idle CPU over ${idleSeconds} s (watch + control socket + periodic full check every 60 s): ${(((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(3)} % of one core`);
  console.log(`load average before ${load0.map((x) => x.toFixed(1)).join(' ')}, after ${load1.map((x) => x.toFixed(1)).join(' ')}`);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const fn of teardowns.reverse()) await fn();
  });
