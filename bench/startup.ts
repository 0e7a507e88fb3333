// Start-up of the packaged CLI and the agent, side by side with their peers in one run:
//   1. hyperfine: `node -e 0` next to the installed `rackstrap --version`, `rackstrap status` (a
//      filer's agent.yaml in place, the status file an agent wrote) and `rackstrap show info`
//      against a running agent (its control socket), and the checkout's `node bin/rackstrap.js`
//      for the same three; target: within 1.3x of node (show: plus the socket round trip);
//   2. the namespace lab of the tests (flat cluster, embedded server): spawn of the installed
//      `rackstrap agent --once` -> every alias of Filer1 addressed (the agent's `up` line, after
//      its last address is in the kernel), target 250 ms, next to ISC dhclient getting one lease
//      (Filer1's mgmt0 identifier) on the same NIC, same server.
//      The agent's own log gives where its time goes (JSON lines: start, topology, apply, up).
// Installs the package (built here, or --deb FILE) with dpkg -i and removes it at the end;
// --checkout measures the checkout's launcher only (no package). As root:
//   npm run build && node dist/bench/startup.js [--reps 10] [--deb FILE | --checkout]
import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { filerIdentifier } from '../src/options/identifiers.js';
import { agentArgs, CHECKOUT_RACKSTRAP, FLAT, flatLab, startServer, stopProcess, writeEmptyConfig } from '../test/bootstrap/helpers/flat-lab.js';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '10' }, deb: { type: 'string' }, checkout: { type: 'boolean', default: false } } });
const reps = Number(values.reps);
const work = mkdtempSync(join(tmpdir(), 'rc-startup-'));
const INSTALLED = '/usr/bin/rackstrap';
/** The rackstrap the lab runs: the installed one, or the checkout's launcher. */
const RS: readonly string[] = values.checkout ? CHECKOUT_RACKSTRAP : [INSTALLED];
/** The agent's log events whose time (after the spawn) the bench reports, in order. */
const PHASES = ['start', 'topology', 'apply', 'up'] as const;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!;
}
const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

async function main(): Promise<void> {
  const load0 = loadavg()[0]!.toFixed(1);
  if (!values.checkout) {
    const deb = values.deb ?? (await execa('bash', ['scripts/build-deb.sh', '--no-compile', join(work, 'pkg')])).stdout.trim();
    await execa('dpkg', ['-i', deb]);
  }
  try {
    // A status file to read: the one an agent --once run leaves (written below first).
    const cache = join(work, 'status-cache');
    // 2 first: it also writes the status file that 1 reads.
    const lab = await labRuns(cache, (socket) => hyperfine(cache, socket));
    const cli = lab.cli;
    const load1 = loadavg()[0]!.toFixed(1);
    const node = cli.find((c) => c.name === 'node -e 0')!.median;
    process.stdout.write(`\nrackstrap start-up, ${new Date().toISOString().slice(0, 16)} UTC, Node ${process.version}, load average ${load0} at start, ${load1} at the end (2 CPUs shared with other engineers' work)\n\n`);
    process.stdout.write('| command | median | user CPU | × node -e 0 |\n| --- | --- | --- | --- |\n');
    for (const c of cli) process.stdout.write(`| \`${c.name}\` | ${c.median.toFixed(0)} ms | ${c.user.toFixed(0)} ms | ${(c.median / node).toFixed(2)} |\n`);
    process.stdout.write(`\n| agent lab (flat, embedded server), ${reps} runs | median | range |\n| --- | --- | --- |\n`);
    process.stdout.write(`| ${values.checkout ? 'checkout' : 'installed'} \`rackstrap agent --once\`: spawn → every alias of Filer1 addressed | ${median(lab.agentUp).toFixed(0)} ms | ${range(lab.agentUp)} |\n`);
    process.stdout.write(`| … the agent's own log, start → up | ${median(lab.agentOwn).toFixed(0)} ms | ${range(lab.agentOwn)} |\n`);
    for (const p of PHASES) if (lab.phases[p].length > 0) process.stdout.write(`| … spawn → first \`${p}\` line | ${median(lab.phases[p]).toFixed(0)} ms | ${range(lab.phases[p])} |\n`);
    process.stdout.write(`| dhclient, one lease (spawn → bound) | ${median(lab.dhclient).toFixed(0)} ms | ${range(lab.dhclient)} |\n`);
  } finally {
    if (!values.checkout) await execa('dpkg', ['-r', 'rackstrap'], { reject: false });
    rmSync(work, { recursive: true, force: true });
  }
}

type CliFigures = Array<{ name: string; median: number; user: number }>;

async function hyperfine(cache: string, socket: string): Promise<CliFigures> {
  const out = join(work, 'hyperfine.json');
  // A filer's agent.yaml (the settings an installed agent reads), so status and show read one.
  const conf = join(work, 'filer-agent.yaml');
  writeFileSync(conf, 'clusterId: 02:00:00:00:aa:00\nlogLevel: info\nreconcile: repair\n');
  const three = (rs: string) => [`${rs} --version`, `${rs} status --config ${conf} --cache-dir ${cache}`, `${rs} show info --json --config ${conf} --control-socket ${socket}`];
  const cmds = ['node -e 0', ...(values.checkout ? [] : three(INSTALLED)), ...three('node bin/rackstrap.js')];
  // -i: status exits 3 (no agent runs now), which is its answer, not a failure.
  await execa('hyperfine', ['-N', '-i', '-w', '3', '-r', String(Math.max(reps * 3, 20)), '--export-json', out, ...cmds]);
  const j = JSON.parse(readFileSync(out, 'utf8')) as { results: Array<{ command: string; median: number; user: number }> };
  return j.results.map((r) => ({ name: r.command.replace(cache, 'DIR').replace(conf, 'agent.yaml').replace(socket, 'SOCK'), median: r.median * 1000, user: r.user * 1000 }));
}

async function labRuns(
  statusCache: string,
  withAgent: (socket: string) => Promise<CliFigures>,
): Promise<{ agentUp: number[]; agentOwn: number[]; dhclient: number[]; phases: Record<(typeof PHASES)[number], number[]>; cli: CliFigures }> {
  const cleanups: Array<() => unknown> = [];
  const host = { teardown: (fn: () => unknown) => void cleanups.push(fn) };
  const phases = Object.fromEntries(PHASES.map((p) => [p, [] as number[]])) as Record<(typeof PHASES)[number], number[]>;
  const res = { agentUp: [] as number[], agentOwn: [] as number[], dhclient: [] as number[], phases, cli: [] as CliFigures };
  try {
    const l = await flatLab(host, ['Filer1'], 'rcsu');
    writeEmptyConfig(work);
    const server = await startServer(l, FLAT, join(work, 'leases.log'), RS);
    cleanups.push(() => stopProcess(server.child));
    const ns = l.ns.get('Filer1')!;
    for (let i = 0; i < reps; i++) {
      const cacheDir = i === 0 ? statusCache : join(work, `cache-${i}`);
      const t0 = Date.now();
      const r = await l.lab.exec(ns, RS[0]!, [...RS.slice(1), 'agent', '--once', ...agentArgs(l, cacheDir)], { reject: false });
      const lines = r.stderr.split('\n').filter((x) => x.startsWith('{')).map((x) => JSON.parse(x) as { time: string; event: string });
      const start = lines.find((x) => x.event === 'start');
      const up = lines.find((x) => x.event === 'up');
      if (r.exitCode !== 0 || up === undefined) throw new Error(`agent --once failed (${r.exitCode}):\n${r.stderr.slice(-2000)}`);
      res.agentUp.push(Date.parse(up.time) - t0);
      if (start !== undefined) res.agentOwn.push(Date.parse(up.time) - Date.parse(start.time));
      for (const p of PHASES) {
        const first = lines.find((x) => x.event === p);
        if (first !== undefined) res.phases[p].push(Date.parse(first.time) - t0);
      }
      await l.lab.exec(ns, RS[0]!, [...RS.slice(1), 'agent', '--down', ...agentArgs(l, cacheDir)], { reject: false });
    }
    // A running agent (the daemon) for `show`: its control socket, reached from here by its path.
    const socket = join(work, 'agent.sock');
    const daemonCache = join(work, 'daemon-cache');
    const daemon = l.lab.spawn(ns, RS[0]!, [...RS.slice(1), 'agent', ...agentArgs(l, daemonCache, ['--control-socket', socket])]);
    cleanups.push(() => stopProcess(daemon));
    for (let k = 0; k < 200 && !existsSync(socket); k++) await new Promise((r) => setTimeout(r, 50));
    res.cli = await withAgent(socket);
    await stopProcess(daemon);
    await l.lab.exec(ns, RS[0]!, [...RS.slice(1), 'agent', '--down', ...agentArgs(l, daemonCache)], { reject: false });
    const { id, vendorClass } = l.loaded.description.cluster;
    const conf = join(work, 'dhclient.conf');
    writeFileSync(conf, `send dhcp-client-identifier "${filerIdentifier(id, 'mgmt0', 'Filer1')}";\nsend vendor-class-identifier "${vendorClass}";\nrequest subnet-mask, broadcast-address, routers;\n`);
    for (let i = 0; i < reps; i++) {
      const pid = join(work, `dh-${i}.pid`);
      const t0 = performance.now();
      // Without -d dhclient forks once bound: its exit is the lease. -sf /bin/true: nothing configured.
      await l.lab.exec(ns, 'dhclient', ['-1', '-4', '-sf', '/bin/true', '-cf', conf, '-lf', join(work, `dh-${i}.leases`), '-pf', pid, 'eth0']);
      res.dhclient.push(performance.now() - t0);
      for (let k = 0; k < 40; k++) {
        try {
          process.kill(Number(readFileSync(pid, 'utf8').trim()), 'SIGTERM');
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
  return res;
}

await main();
