// The host half of the lab: boots user-mode Linux (the host kernel has no bonding or 802.1Q),
// runs a guest program in it as init's script, streams the guest console live, and returns what the
// guest wrote to its output folder. Everything the lab creates lives in the guest (gone when it
// powers off) or in runUml's temporary folder (removed before this returns, also on abort).
//
//   runGuestProgram({ program, args })  any Node program of this checkout, as root in the guest
//   runLab({ cluster })                 `rackstrap lab`: guest-main.js, the lab's own flow
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runUml, umlUnavailable } from './uml.js';
import { labBundle, type LabBundle } from './bundle.js';
import type { FlowResults } from './flow.js';
import { GUEST_DONE_MARK, GUEST_START_MARK } from './marks.js';

/** The project root (dist/src/lab -> ../../..). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const GUEST_MAIN = fileURLToPath(new URL('./guest-main.js', import.meta.url));

export const GUEST_MODULES = ['bonding max_bonds=0', '8021q', 'macvlan', 'veth', 'bridge'];

/** Why the lab cannot run here, or undefined. */
export function labUnavailable(): string | undefined {
  return umlUnavailable();
}

export interface GuestProgramOptions {
  /** Absolute path of a Node program (compiled JS); it runs as root in the guest, cwd the project root. */
  program: string;
  /** Its arguments; `--out <dir>` (the folder shared with the host) is added first. */
  args?: string[];
  /** What the guest prints between GUEST_START_MARK and GUEST_DONE_MARK on /dev/console, live. */
  print?: (text: string) => void;
  signal?: AbortSignal;
  /** Guest memory, MB: Node processes and the kernel. */
  memMb?: number;
  timeoutMs?: number;
  modules?: string[];
  /** Environment of the program in the guest (besides what init sets). */
  env?: Record<string, string>;
}

export interface GuestRun {
  /** Every file the guest wrote to its output folder, by relative path. */
  files: Map<string, string>;
  /** The program's exit status; undefined when the guest never finished (crash, timeout). */
  exitCode: number | undefined;
  /** The program's stdout and stderr (what it did not write to the console). */
  log: string;
  /** UML's console, for failures (kernel messages, panics). */
  console: string;
  elapsedMs: number;
  cancelled: boolean;
}

/** Boots a guest, runs `node program --out $OUT args...` in it, returns what it wrote. */
export async function runGuestProgram(opts: GuestProgramOptions): Promise<GuestRun> {
  const args = ['--out "$OUT"', ...(opts.args ?? []).map((a) => JSON.stringify(a))];
  const script = [
    // Kernel messages (bonding's "no 802.3ad partner yet" warnings) would interleave with the output.
    'echo 1 > /proc/sys/kernel/printk',
    `cd ${JSON.stringify(PROJECT_ROOT)}`,
    ...Object.entries(opts.env ?? {}).map(([k, v]) => `export ${k}=${JSON.stringify(v)}`),
    `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(opts.program)} ${args.join(' ')}`,
  ].join('\n');
  const r = await runUml({
    script,
    modules: opts.modules ?? GUEST_MODULES,
    memMb: opts.memMb ?? 768,
    timeoutMs: opts.timeoutMs ?? 900_000,
    ...(opts.print ? { onConsole: consoleFilter(opts.print) } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { files: r.files, exitCode: r.exitCode, log: r.log, console: r.console, elapsedMs: r.elapsedMs, cancelled: r.cancelled === true };
}

export interface LabOptions {
  /** Cluster description (absolute, or relative to the current folder). */
  cluster?: string;
  /** Only these filers (names as in the description); default every filer. */
  filers?: string[];
  /** Where the guest's console (the lab's output) goes, live. */
  print?: (text: string) => void;
  signal?: AbortSignal;
  dhcpTimeoutMs?: number;
  skipLiveUpdate?: boolean;
  /** Skip the cache step (stop the server, tear down, up from the cache). */
  skipCache?: boolean;
  memMb?: number;
  timeoutMs?: number;
  /** Run the programs from dist/ even when the lab's bundle can be built (bundle.ts). */
  noBundle?: boolean;
}

export interface LabRun extends GuestRun {
  /** The guest's results.json, when it got that far. */
  results: FlowResults | undefined;
  /** What the guest ran: the lab's bundle (built now or reused, and how long that took), or dist/ and why. */
  programs: { bundle: true; built: boolean; ms: number } | { bundle: false; why: string };
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

/** `rackstrap lab`: the lab's whole flow for one description in a fresh guest. */
export async function runLab(opts: LabOptions = {}): Promise<LabRun> {
  const args = [
    '--work', '/run/rackstrap-lab',
    '--cluster', resolve(opts.cluster ?? 'examples/cluster.yaml'),
    '--console', '/dev/console',
    '--dhcp-timeout', String(opts.dhcpTimeoutMs ?? 3000),
    ...(opts.skipLiveUpdate ? ['--skip-live'] : []),
    ...(opts.skipCache ? ['--skip-cache'] : []),
    ...(opts.filers ?? []).flatMap((f) => ['--filer', f]),
    '--host-start', String(Date.now()),
  ];
  let why = 'asked for dist/';
  const bundle: LabBundle | undefined = opts.noBundle ? undefined : await labBundle(PROJECT_ROOT, (w) => (why = w));
  const r = await runGuestProgram({
    program: bundle?.guest ?? GUEST_MAIN,
    ...(bundle ? { env: bundle.env } : {}),
    args,
    ...(opts.print ? { print: opts.print } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.memMb ? { memMb: opts.memMb } : {}),
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
  });
  const raw = r.files.get('results.json');
  let results: FlowResults | undefined;
  try {
    results = raw === undefined ? undefined : (JSON.parse(raw) as FlowResults);
  } catch {
    results = undefined;
  }
  return { ...r, results, programs: bundle ? { bundle: true, built: bundle.built, ms: bundle.ms } : { bundle: false, why } };
}
