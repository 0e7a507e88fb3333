// The host half of the demo: boots user-mode Linux (the host kernel has no bonding or 802.1Q),
// runs guest-main.js in it as init's script, streams the guest console live, and returns what the
// guest wrote to its output folder. Everything the demo creates lives in the guest (gone when it
// powers off) or in runUml's temporary folder (removed before this returns, also on abort).
//
// The UML machinery (ptrace shim for AVX-512 hosts, hostfs root, module loading) is the test
// lab's own: uml.ts in this folder.
import { fileURLToPath } from 'node:url';
import { runUml, umlUnavailable } from './uml.js';
import type { FlowResults } from './flow.js';
import { GUEST_DONE_MARK, GUEST_START_MARK } from './marks.js';

/** The project root (dist/src/lab -> ../../..). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const GUEST_MAIN = fileURLToPath(new URL('./guest-main.js', import.meta.url));

export interface DemoOptions {
  /** Cluster description, relative to the project root. */
  cluster?: string;
  /** Where the guest's console (the demo's output) goes, live. */
  print?: (text: string) => void;
  signal?: AbortSignal;
  dhcpTimeoutMs?: number;
  skipLiveUpdate?: boolean;
  /** Guest memory, MB: three Node processes and the kernel. */
  memMb?: number;
  timeoutMs?: number;
}

export interface DemoRun {
  /** The guest's results.json, when it got that far. */
  results: FlowResults | undefined;
  /** Every file the guest wrote (results.json, <filer>-<run>.json raw `ip -j -d`, caches, transcript). */
  files: Map<string, string>;
  /** 0 when the guest passed every check. */
  exitCode: number | undefined;
  /** The guest's stderr and anything not meant for the console (for failures). */
  log: string;
  /** UML's console, for failures (kernel messages, panics). */
  console: string;
  elapsedMs: number;
  cancelled: boolean;
}

export const GUEST_MODULES = ['bonding max_bonds=0', '8021q', 'macvlan', 'veth', 'bridge'];

/** Why the demo cannot run here, or undefined. */
export function demoUnavailable(): string | undefined {
  return umlUnavailable();
}

/** Passes through only what the guest prints between its marks, line by line. */
export function consoleFilter(print: (text: string) => void): (chunk: string) => void {
  let buffer = '';
  let on = false;
  return (chunk) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line.includes(GUEST_START_MARK)) on = true;
      else if (line.includes(GUEST_DONE_MARK)) on = false;
      else if (on) print(`${line}\n`);
    }
  };
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoRun> {
  const args = [
    '--out "$OUT"',
    '--work /run/rackstrap-demo',
    `--cluster ${JSON.stringify(opts.cluster ?? 'examples/cluster.yaml')}`,
    '--console /dev/console',
    `--dhcp-timeout ${opts.dhcpTimeoutMs ?? 3000}`,
    ...(opts.skipLiveUpdate ? ['--skip-live'] : []),
    `--host-start ${Date.now()}`,
  ];
  const script = [
    // Kernel messages (bonding's "no 802.3ad partner yet" warnings) would interleave with the demo.
    'echo 1 > /proc/sys/kernel/printk',
    `cd ${JSON.stringify(PROJECT_ROOT)}`,
    `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(GUEST_MAIN)} ${args.join(' ')}`,
  ].join('\n');
  const r = await runUml({
    script,
    modules: GUEST_MODULES,
    memMb: opts.memMb ?? 768,
    timeoutMs: opts.timeoutMs ?? 180_000,
    ...(opts.print ? { onConsole: consoleFilter(opts.print) } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const raw = r.files.get('results.json');
  let results: FlowResults | undefined;
  try {
    results = raw === undefined ? undefined : (JSON.parse(raw) as FlowResults);
  } catch {
    results = undefined;
  }
  return { results, files: r.files, exitCode: r.exitCode, log: r.log, console: r.console, elapsedMs: r.elapsedMs, cancelled: r.cancelled === true };
}
