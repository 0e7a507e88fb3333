// Long-running programs of the demo (the DHCP server, the agents) inside the lab's namespaces:
// spawned with `ip netns exec`, their stdout read line by line, stopped with a signal. The short
// commands go through net/runner.ts instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RackstrapError } from '../errors.js';

/** Set when this module runs in the lab's bundle (bundle.ts): the bundled CLI next to it. */
declare const RACKSTRAP_LAB_CLI: string | undefined;

/**
 * The CLI the lab's programs run: the lab's bundled CLI in the guest when the lab was bundled,
 * otherwise bin/rackstrap.js of this checkout (dist/src/lab -> the project root).
 */
export const RACKSTRAP_BIN =
  typeof RACKSTRAP_LAB_CLI === 'string' ? RACKSTRAP_LAB_CLI : fileURLToPath(new URL('../../../bin/rackstrap.js', import.meta.url));

export class ChildError extends RackstrapError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RS_LAB_CHILD', message, options);
  }
}

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  /** performance.now() at spawn. */
  readonly startedAt: number;
  /** Every stdout line so far, and stderr's. */
  readonly lines: string[];
  readonly stderr: string[];
  /** Resolves with the exit code (or the signal's name) when it ends. */
  readonly exited: Promise<number | string>;
  /** Resolves with the first line (stdout or stderr) `match` accepts and when it came; rejects on exit or timeout. */
  waitLine(match: (line: string) => boolean, timeoutMs: number, what: string): Promise<{ line: string; at: number }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended. */
  stop(graceMs?: number): Promise<number | string>;
}

/** Runs `node bin/rackstrap.js ARGS` in namespace `netns`. */
export function spawnRackstrap(name: string, netns: string, args: readonly string[], env: Record<string, string> = {}): Child {
  return spawnIn(name, netns, [process.execPath, RACKSTRAP_BIN, ...args], env);
}

export function spawnIn(name: string, netns: string, argv: readonly string[], env: Record<string, string> = {}): Child {
  const startedAt = performance.now();
  const proc = spawn('ip', ['netns', 'exec', netns, ...argv], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<{ match: (l: string) => boolean; resolve: (v: { line: string; at: number }) => void }>();
  const splitter = (sink: string[], onLine?: (l: string) => void) => {
    let rest = '';
    return (chunk: Buffer) => {
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      for (const l of parts) {
        sink.push(l);
        onLine?.(l);
      }
    };
  };
  const notify = (l: string) => {
    const at = performance.now();
    for (const w of waiters) if (w.match(l)) {
      waiters.delete(w);
      w.resolve({ line: l, at });
    }
  };
  proc.stdout!.on('data', splitter(lines, notify));
  proc.stderr!.on('data', splitter(stderr, notify));
  const exited = new Promise<number | string>((resolve) => {
    proc.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    proc.on('error', () => resolve('spawn-error'));
  });
  const child: Child = {
    name,
    proc,
    startedAt,
    lines,
    stderr,
    exited,
    waitLine(match, timeoutMs, what) {
      const seen = lines.find(match) ?? stderr.find(match);
      if (seen !== undefined) return Promise.resolve({ line: seen, at: performance.now() });
      return new Promise((resolve, reject) => {
        const w = { match, resolve: (v: { line: string; at: number }) => { clearTimeout(timer); resolve(v); } };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new ChildError(`${name}: no ${what} within ${timeoutMs} ms${tail(stderr)}`));
        }, timeoutMs);
        waiters.add(w);
        void exited.then((how) => {
          if (!waiters.has(w)) return;
          waiters.delete(w);
          clearTimeout(timer);
          reject(new ChildError(`${name} exited (${how}) before ${what}${tail(stderr)}`));
        });
      });
    },
    async stop(graceMs = 5000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      const how = await exited;
      clearTimeout(timer);
      return how;
    },
  };
  return child;
}

function tail(stderr: string[]): string {
  const last = stderr.filter((l) => l.trim() !== '').slice(-5);
  return last.length ? `:\n    ${last.join('\n    ')}` : '';
}
