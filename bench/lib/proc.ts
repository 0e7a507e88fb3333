// Processes the bench starts, and what it reads about them from /proc. Every child runs in its own
// process group (detached) so that stopping it also stops whatever it exec'd or forked, and every
// live child is tracked so an interrupted run can still stop them (see killTrackedSync).
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchError } from './errors.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Spawned {
  readonly pid: number;
  readonly argv: readonly string[];
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** Set once `exited` has resolved. */
  exitInfo: ExitInfo | null;
}

/** Process-group ids of children still running; read by the emergency cleanup. */
const tracked = new Set<number>();

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr both go to this file (perfdhcp output can be tens of MB: never a pipe). */
  outFile: string;
}

export function spawnTracked(argv: readonly string[], opts: SpawnOptions): Spawned {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new BenchError('spawnTracked: empty command line');
  const fd = openSync(opts.outFile, 'w');
  let child;
  try {
    child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true, // own process group: Ctrl-C reaches only us, and we stop the group
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new BenchError(`could not start ${cmd}`);
  tracked.add(pid);
  const spawned: Spawned = {
    pid,
    argv,
    exitInfo: null,
    exited: new Promise<ExitInfo>((resolve) => {
      const done = (info: ExitInfo): void => {
        tracked.delete(pid);
        spawned.exitInfo = info;
        resolve(info);
      };
      child.once('exit', (code, signal) => done({ code, signal }));
      child.once('error', () => done({ code: null, signal: null }));
    }),
  };
  return spawned;
}

/** SIGTERM to the process group, then SIGKILL after `graceMs`. Resolves when the leader exited. */
export async function stopProcess(p: Spawned, graceMs = 5000): Promise<ExitInfo> {
  if (p.exitInfo) return p.exitInfo;
  signalGroup(p.pid, 'SIGTERM');
  const timer = sleep(graceMs).then(() => 'timeout' as const);
  const first = await Promise.race([p.exited, timer]);
  if (first !== 'timeout') return first;
  signalGroup(p.pid, 'SIGKILL');
  return p.exited;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** Last resort on exit or a signal: SIGKILL every group we started that is still running. */
export function killTrackedSync(): void {
  for (const pgid of tracked) signalGroup(pgid, 'SIGKILL');
}

// ---- /proc readers ----------------------------------------------------------------------------

export interface MemoryStatus {
  /** Resident set size now, kB (VmRSS). */
  rssKb: number;
  /** Peak resident set size, kB (VmHWM). */
  hwmKb: number;
}

export function readMemory(pid: number): MemoryStatus | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const field = (name: string): number | null => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  const rssKb = field('VmRSS');
  const hwmKb = field('VmHWM');
  return rssKb === null || hwmKb === null ? null : { rssKb, hwmKb };
}

let clockTicks: number | null = null;
function ticksPerSecond(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds of the whole process (all threads), from /proc/PID/stat. */
export function readCpuSeconds(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Field 2 (comm) is in parentheses and may hold spaces: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime and stime are fields 14 and 15 (proc(5)).
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) / ticksPerSecond();
}

/** Inode of a network namespace, as `ip netns` names it. */
export function netnsInode(name: string): number {
  return statSync(`/run/netns/${name}`).ino;
}

/** True once `pid` lives in the namespace with inode `nsInode` (after `ip netns exec` did setns). */
export function isInNetns(pid: number, nsInode: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`) === `net:[${nsInode}]`;
  } catch {
    return false;
  }
}

/** True when the process's network namespace has a UDP socket bound to `port` (/proc/PID/net/udp). */
export function hasUdpSocket(pid: number, port: number): boolean {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/net/udp`, 'utf8');
  } catch {
    return false;
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return text.split('\n').some((line) => line.trim().split(/\s+/)[1]?.endsWith(`:${hexPort}`) ?? false);
}

/**
 * The first child of `pid` (the bench wraps servers in `timeout`, whose child is the server once
 * `ip netns exec` and `taskset` have exec'd). Reads /proc/PID/task/PID/children (proc(5)).
 */
export function firstChild(pid: number): number | null {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : null;
  } catch {
    return null;
  }
}

/** Polls `check` every `intervalMs` until it is true (resolves true) or `timeoutMs` passes (false). */
export async function pollUntil(check: () => boolean, timeoutMs: number, intervalMs = 2): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (performance.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}
