// `rackstrap serve` as a child process inside a lab namespace (node bin/rackstrap.js serve ...),
// with its JSON log lines collected so a test can wait for one. Started through lab.spawn, so a
// server still running at teardown is killed with the lab.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../../helpers/netns.js';

export const BIN = join(process.cwd(), 'bin', 'rackstrap.js');

export type LogLine = Record<string, unknown> & { event: string; level: string };

export interface ServeArgs {
  config: string;
  interfaces: string[];
  leaseFile: string;
  logLevel?: string;
  extra?: string[];
}

export class ServeProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  #waiters: Array<() => void> = [];
  #exit: { code: number | null; signal: string | null } | undefined;

  private constructor(child: ReturnType<Lab['spawn']>) {
    if (child.pid === undefined) throw new Error('rackstrap serve did not start');
    this.pid = child.pid;
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      partial += chunk.toString('utf8');
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) {
        if (p.trim() === '') continue;
        try {
          this.lines.push(JSON.parse(p) as LogLine);
        } catch {
          this.lines.push({ event: 'unparsed', level: 'error', text: p });
        }
      }
      this.#wake();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr.push(chunk.toString('utf8'));
      this.#wake();
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
        this.#wake();
      });
    });
  }

  static start(lab: Lab, ns: string, args: ServeArgs): ServeProcess {
    const argv = [BIN, 'serve', args.config, ...args.interfaces.flatMap((i) => ['--interface', i]), '--lease-file', args.leaseFile, '--log-level', args.logLevel ?? 'debug', '--log-format', 'json', ...(args.extra ?? [])];
    return new ServeProcess(lab.spawn(ns, process.execPath, argv, { env: { ...process.env, NO_COLOR: '1' } as Record<string, string> }));
  }

  /** Starts a server and waits for its `ready` line. */
  static async ready(lab: Lab, ns: string, args: ServeArgs, ms = 15_000): Promise<ServeProcess> {
    const s = ServeProcess.start(lab, ns, args);
    await s.waitFor((l) => l.event === 'ready', ms, 'the ready line');
    return s;
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  get exitStatus(): { code: number | null; signal: string | null } | undefined {
    return this.#exit;
  }

  /** The first log line (already logged or to come) matching `pred`. */
  async waitFor(pred: (l: LogLine) => boolean, ms = 10_000, what = 'a matching log line'): Promise<LogLine> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.lines.find(pred);
      if (found) return found;
      if (this.#exit) throw new Error(`rackstrap serve exited (${JSON.stringify(this.#exit)}) before ${what}\nstderr: ${this.stderr.join('')}\nlog:\n${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${ms} ms\nstderr: ${this.stderr.join('')}\nlog:\n${this.tail()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  exchanges(pred: (l: LogLine) => boolean = () => true): LogLine[] {
    return this.lines.filter((l) => l.event === 'exchange' && pred(l));
  }

  tail(n = 15): string {
    return this.lines.slice(-n).map((l) => JSON.stringify(l)).join('\n');
  }

  signal(sig: NodeJS.Signals): void {
    process.kill(this.pid, sig);
  }
}

/** Polls `file` until its text matches `re` (client scripts append events there). */
export async function waitForFile(file: string, re: RegExp, ms = 15_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const m = text.match(re);
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`${file}: nothing matching ${re} within ${ms} ms; it holds:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
