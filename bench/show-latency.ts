// How fast `rackstrap show …` answers from a running agent (goal: 50 ms), side by side with what
// an operator would otherwise type: `ip -j link` / `ip -s -j link` in the same namespace
// (`networkctl status` needs systemd-networkd on D-Bus, which this machine does not run: the
// script says so when it cannot). One run, hyperfine for every command, and split in two:
//   - the control request alone, in this process (the agent's share: read the kernel, answer);
//   - `node -e 0` and `rackstrap --version` (what Node's start and the CLI's own start-up cost).
// The agent runs in this process on the flat lab (network namespaces, embedded DHCP server).
// Run: npm run build && node dist/bench/show-latency.js [runs=20]
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeAgentLog } from '../src/bootstrap/agent-log.js';
import { Agent } from '../src/bootstrap/bootstrap.js';
import { startAgentService } from '../src/control/agent-service.js';
import { controlRequest } from '../src/control/client.js';
import type { CommandName } from '../src/control/protocol.js';
import { TransportPool } from '../src/dhcp-client/index.js';
import { makeRunner } from '../src/net/runner.js';
import { BIN, FLAT, filer1AgentSettings, flatLab, startServer, stopProcess } from '../test/bootstrap/helpers/flat-lab.js';

const runs = Number(process.argv[2] ?? 20);
const teardowns: Array<() => unknown> = [];
const host = { teardown: (fn: () => unknown) => teardowns.push(fn) };
const TOPICS: CommandName[] = ['info', 'links', 'stats', 'drift', 'leases'];

const ms = (x: number) => `${x.toFixed(1)} ms`;
function spread(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${ms(s[Math.floor(s.length / 2)]!)}, min ${ms(s[0]!)}, max ${ms(s.at(-1)!)} (n=${s.length})`;
}

interface HyperfineResult {
  command: string;
  median: number;
  min: number;
  max: number;
  user: number;
  system: number;
}

async function hyperfine(commands: Array<[string, string]>): Promise<HyperfineResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'qoshow-hf-'));
  try {
    const out = join(dir, 'hf.json');
    const args = ['-N', '--warmup', '3', '--runs', String(runs), '--export-json', out, ...commands.flatMap(([name, cmd]) => ['-n', name, cmd])];
    const r = await execa('hyperfine', args, { reject: false });
    if (r.exitCode !== 0) throw new Error(`hyperfine failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const json = JSON.parse(readFileSync(out, 'utf8')) as { results: Array<{ command: string; median: number; min: number; max: number; user: number; system: number }> };
    return json.results.map((x) => ({ command: x.command, median: x.median * 1000, min: x.min * 1000, max: x.max * 1000, user: x.user * 1000, system: x.system * 1000 }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const l = await flatLab(host, ['Filer1'], 'qoshow');
  const ns = l.ns.get('Filer1')!;
  const dir = mkdtempSync(join(tmpdir(), 'qoshow-'));
  teardowns.push(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startServer(l, FLAT, join(dir, 'leases.log'));
  teardowns.push(() => stopProcess(server.child));
  const settings = filer1AgentSettings(l, join(dir, 'cache'), { reconcile: 'repair' });
  const log = makeAgentLog({ level: 'warn', write: () => undefined });
  const runner = makeRunner({ netns: ns });
  const agent = new Agent(settings, { runner, netns: ns, pool: new TransportPool(), daemon: true, log });
  const socket = join(dir, 'a.sock');
  const service = await startAgentService({ agent, runner, log, netns: ns, socketPath: socket, stateDir: settings.cacheDir, agentVersion: 'bench', onRelease: () => undefined });
  teardowns.push(async () => { await service.close(); await agent.stop(); });
  await agent.bringUp();
  agent.keepUp();
  await new Promise((r) => setTimeout(r, 1000));

  // The agent's share: one request per topic, from this process (no process start at all).
  const inProcess: Array<[string, number[]]> = [];
  for (const topic of TOPICS) {
    await controlRequest(socket, topic);
    const xs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await controlRequest(socket, topic);
      xs.push(performance.now() - t0);
    }
    inProcess.push([topic, xs]);
  }

  const rs = `${process.execPath} ${BIN}`;
  const hf = await hyperfine([
    ...TOPICS.map((topic): [string, string] => [`rackstrap show ${topic}`, `${rs} show ${topic} --json --control-socket ${socket}`]),
    ['rackstrap --version', `${rs} --version`],
    ['node -e 0', `${process.execPath} -e 0`],
    ['ip -j link (same namespace)', `ip -n ${ns} -j link show`],
    ['ip -s -j link (same namespace)', `ip -n ${ns} -s -j link show`],
    ['ip -j -d link + addr + route + rule (what links reads)', `sh -c "ip -n ${ns} -j -d link show >/dev/null; ip -n ${ns} -j addr show >/dev/null; ip -n ${ns} -j route show table all >/dev/null; ip -n ${ns} -j rule show >/dev/null"`],
  ]);
  const networkctl = await execa('networkctl', ['status'], { reject: false });
  const load1 = loadavg();

  console.log(`rackstrap show against a running agent (flat lab, ${runs} runs each; load average ${load0.map((x) => x.toFixed(2)).join(' ')} at start, ${load1.map((x) => x.toFixed(2)).join(' ')} at end)`);
  console.log('\ncontrol request alone, in-process (the agent reads the kernel where the topic needs it):');
  for (const [topic, xs] of inProcess) console.log(`  ${topic.padEnd(8)} ${spread(xs)}`);
  console.log('\nwhole commands (hyperfine, wall; user+system CPU):');
  const width = Math.max(...hf.map((h) => h.command.length));
  for (const h of hf) console.log(`  ${h.command.padEnd(width)}  median ${ms(h.median).padStart(9)}  min ${ms(h.min).padStart(9)}  max ${ms(h.max).padStart(9)}  cpu ${ms(h.user + h.system)}`);
  const node0 = hf.find((h) => h.command === 'node -e 0')!;
  const version = hf.find((h) => h.command === 'rackstrap --version')!;
  const links = hf.find((h) => h.command === 'rackstrap show links')!;
  const linksAgent = inProcess.find(([t]) => t === 'links')![1].sort((a, b) => a - b)[Math.floor(runs / 2)]!;
  console.log(
    `\nshow links: ${ms(links.median)} = Node's start ${ms(node0.median)} + the CLI's own start-up ${ms(version.median - node0.median)} (from --version) + the request ${ms(linksAgent)} + the rest ${ms(links.median - version.median - linksAgent)}`,
  );
  console.log(`networkctl status: ${networkctl.exitCode === 0 ? 'ran (not timed here)' : `not comparable here: ${(networkctl.stderr || networkctl.stdout).trim().split('\n')[0]}`}`);
}

try {
  await main();
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
