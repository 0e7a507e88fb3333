// The one module that runs programs (house style: net/runner.ts is the only execa importer).
// Everything else receives a Runner, so tests can record, fail on purpose, or target a namespace.
import { execa } from 'execa';

export interface RunResult {
  argv: readonly string[];
  /** -1 when the program could not be started (ENOENT, timeout). */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The underlying error (execa's, with its shortMessage) when the command failed. */
  error?: Error;
}

export interface RunOptions {
  /** Written to the command's stdin (for `ip -batch -`, `iptables-restore`). */
  input?: string;
}

export interface Runner {
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

export interface RunnerOptions {
  /** Run inside this network namespace: `ip -n NS ...`, anything else via `ip netns exec NS ...`. */
  netns?: string;
  /** Per command; a hung netlink call must not hang the agent. */
  timeoutMs?: number;
}

/** Rewrites an argv to run inside a namespace; exported for tests and for printing. */
export function inNamespace(argv: readonly string[], netns: string | undefined): string[] {
  if (netns === undefined) return [...argv];
  if (argv[0] === 'ip') return ['ip', '-n', netns, ...argv.slice(1)];
  return ['ip', 'netns', 'exec', netns, ...argv];
}

export function makeRunner(opts: RunnerOptions = {}): Runner {
  return {
    async run(argv, runOpts = {}) {
      const full = inNamespace(argv, opts.netns);
      const [file, ...args] = full;
      const r = await execa(file!, args, {
        reject: false,
        timeout: opts.timeoutMs ?? 30_000,
        ...(runOpts.input === undefined ? { stdin: 'ignore' as const } : { input: runOpts.input }),
        // Untranslated messages: stderr is parsed by people reading logs and by nothing else, but
        // it should read the same on every filer.
        env: { LC_ALL: 'C' },
      });
      const out: RunResult = {
        argv,
        exitCode: typeof r.exitCode === 'number' ? r.exitCode : -1,
        stdout: typeof r.stdout === 'string' ? r.stdout : '',
        stderr: typeof r.stderr === 'string' ? r.stderr : '',
      };
      if (r.failed && r instanceof Error) out.error = r;
      return out;
    },
  };
}
