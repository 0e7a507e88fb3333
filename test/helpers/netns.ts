// The network-namespace lab every integration test uses: hosts and "switches" as namespaces,
// bridges as segments, veth pairs as cables, and long-lived processes (servers, clients) inside
// them. Everything a lab creates is removed in the test's teardown, even when the test fails or
// throws; namespaces left by a crashed earlier run are removed when the next lab starts.
//
//   const lab = await makeLab(t, { prefix: 'rssock' });
//   const sw = await lab.ns('sw'); const a = await lab.ns('a', { hostname: 'filer1' });
//   await lab.bridge(sw, 'br-mgmt');
//   await lab.link(a, 'mgmt0', sw, 'br-mgmt');          // cable from a's mgmt0 to the bridge
//   await lab.ip(a, 'addr', 'add', '10.0.0.2/24', 'dev', 'mgmt0');
//   const server = lab.spawn(a, 'dnsmasq', ['-d', ...]); // killed in teardown
//
// Names: `<prefix><pid>-<name>`, so parallel test files never collide and cleanupStale() can tell
// a dead run's namespaces (its pid is gone) from a live one's. See shared notes
// test-environment.md for what the kernel here supports (no bonding/VLAN: use user-mode Linux).

import { execa, execaSync, type ResultPromise } from 'execa';
import { readFileSync } from 'node:fs';

/** What makeLab needs from a tap test: a place to register cleanup. */
export interface TeardownHost {
  teardown(fn: () => unknown): void;
}

export interface LabOptions {
  /** Short tag of the test file, e.g. `rssock`; the pid and `-` are appended. */
  prefix: string;
}

export interface NsOptions {
  /** Own hostname for every exec/spawn in this namespace (`unshare --uts`): namespaces share it otherwise. */
  hostname?: string;
}

export interface ExecOptions {
  env?: Record<string, string>;
  /** Overrides the namespace's hostname for this command. */
  hostname?: string;
  cwd?: string;
  input?: string;
  timeout?: number;
  /** Default true: a non-zero exit rejects. */
  reject?: boolean;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number | undefined;
  failed: boolean;
}

export interface LinkOptions {
  /** Hardware address of the host-side interface. */
  mac?: string;
  /** Name of the switch-side end (default: generated, unique in the lab). */
  peer?: string;
}

const IP = 'ip';
const NETNS_DIR = '/run/netns';

/** True while `pid` runs. A zombie (dead, not yet reaped: orphans here are reaped late by pid 1)
 *  counts as gone. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ...": the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Names of all network namespaces (`ip netns list` prints `name (id: N)` or `name`). */
export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await execa(IP, ['netns', 'list']);
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
}

/** Kills whatever still runs in a namespace (daemons that forked away from their spawner). */
async function killNamespacePids(ns: string): Promise<void> {
  const { stdout } = await execa(IP, ['netns', 'pids', ns], { reject: false });
  for (const pid of stdout.split(/\s+/).filter(Boolean).map(Number)) {
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Removes namespaces named `<prefix><pid>-...` whose pid is no longer running (a crashed or
 *  killed earlier run). Live runs' namespaces are kept. Returns the names removed. */
export async function cleanupStale(prefix: string): Promise<string[]> {
  const pattern = new RegExp(`^${escapeRegExp(prefix)}(\\d+)-`);
  const removed: string[] = [];
  for (const name of await listNamespaces()) {
    const match = pattern.exec(name);
    if (!match || isRunning(Number(match[1]))) continue;
    await killNamespacePids(name);
    const r = await execa(IP, ['netns', 'del', name], { reject: false });
    if (r.exitCode === 0) removed.push(name);
  }
  return removed;
}

// Last resort when the process exits without running teardowns (process.exit, a fatal error):
// delete what live labs still hold, synchronously. Signals that kill us skip this; cleanupStale
// at the next start handles those.
const liveLabs = new Set<Lab>();
process.once('exit', () => {
  for (const lab of liveLabs) lab.closeSync();
});

export class Lab {
  /** `<prefix><pid>-`: every namespace of this lab starts with it. */
  readonly prefix: string;
  readonly #namespaces: string[] = [];
  readonly #hostnames = new Map<string, string>();
  readonly #children: ResultPromise[] = [];
  #links = 0;
  #closed = false;

  constructor(prefix: string) {
    this.prefix = `${prefix}${process.pid}-`;
    liveLabs.add(this);
  }

  /** Creates namespace `<prefix><pid>-<name>` with loopback up; returns its full name. */
  async ns(name: string, opts: NsOptions = {}): Promise<string> {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`lab.ns: bad namespace name ${JSON.stringify(name)}`);
    const full = `${this.prefix}${name}`;
    this.#namespaces.push(full); // before creating: a half-made namespace is still removed
    await execa(IP, ['netns', 'add', full]);
    await execa(IP, ['-n', full, 'link', 'set', 'lo', 'up']);
    if (opts.hostname !== undefined) this.#hostnames.set(full, opts.hostname);
    return full;
  }

  /** Path of a namespace for setns() users (openInterfaceSocket's `netns`). */
  netnsPath(ns: string): string {
    return `${NETNS_DIR}/${ns}`;
  }

  /** `ip -n <ns> ...args`; returns stdout. */
  async ip(ns: string, ...args: string[]): Promise<string> {
    const { stdout } = await execa(IP, ['-n', ns, ...args]);
    return stdout;
  }

  /** `ip -n <ns> -j ...args`, parsed. */
  async ipJson<T = unknown>(ns: string, ...args: string[]): Promise<T> {
    const { stdout } = await execa(IP, ['-n', ns, '-j', ...args]);
    return JSON.parse(stdout === '' ? '[]' : stdout) as T;
  }

  /** A bridge (a switch segment) in `ns`, up. STP is off, so ports forward at once. */
  async bridge(ns: string, br: string): Promise<void> {
    await this.ip(ns, 'link', 'add', br, 'type', 'bridge');
    await this.ip(ns, 'link', 'set', br, 'up');
  }

  /** A cable from interface `ifname` of `hostNs` to bridge `brName` in `bridgeNs`. The veth pair is
   *  made in the switch namespace and one end moved into the host (test-environment.md). */
  async link(
    hostNs: string,
    ifname: string,
    bridgeNs: string,
    brName: string,
    opts: LinkOptions = {},
  ): Promise<{ ifname: string; peer: string }> {
    // Switch-side name: unique in the lab thanks to the counter, cut to IFNAMSIZ - 1.
    const peer = opts.peer ?? `p${++this.#links}${ifname}`.slice(0, 15);
    const hostEnd = ['name', ifname, ...(opts.mac ? ['address', opts.mac] : []), 'netns', hostNs];
    await this.ip(bridgeNs, 'link', 'add', peer, 'type', 'veth', 'peer', ...hostEnd);
    await this.ip(bridgeNs, 'link', 'set', peer, 'master', brName, 'up');
    await this.ip(hostNs, 'link', 'set', ifname, 'multicast', 'on', 'up');
    return { ifname, peer };
  }

  /** A direct cable between two namespaces: `ifA` in nsA, `ifB` in nsB, both up. */
  async veth(nsA: string, ifA: string, nsB: string, ifB: string): Promise<void> {
    await this.ip(nsA, 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB);
    await this.ip(nsA, 'link', 'set', ifA, 'multicast', 'on', 'up');
    await this.ip(nsB, 'link', 'set', ifB, 'multicast', 'on', 'up');
  }

  /** argv that runs cmd inside ns (with its own hostname when one is set). */
  #argv(ns: string, hostname: string | undefined, cmd: string, args: readonly string[]): string[] {
    const host = hostname ?? this.#hostnames.get(ns);
    if (host === undefined) return ['netns', 'exec', ns, cmd, ...args];
    // unshare gives the command its own UTS namespace; sh sets the name, then becomes cmd.
    return ['netns', 'exec', ns, 'unshare', '--uts', 'sh', '-c', 'hostname "$0" && exec "$@"', host, cmd, ...args];
  }

  /** Runs a command to completion inside `ns` (`ip netns exec`). */
  async exec(ns: string, cmd: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await execa(IP, this.#argv(ns, opts.hostname, cmd, args), {
      env: opts.env,
      cwd: opts.cwd,
      input: opts.input,
      timeout: opts.timeout,
      reject: opts.reject ?? true,
    });
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode, failed: r.failed };
  }

  /** Starts a long-lived process inside `ns`; it is killed (TERM, then KILL after 2 s) in
   *  teardown. Run daemons in the foreground: forked-off ones are only caught by the final
   *  kill of everything left in the namespace. Awaiting the result after teardown rejects. */
  spawn(ns: string, cmd: string, args: readonly string[] = [], opts: Omit<ExecOptions, 'reject' | 'input'> = {}): ResultPromise {
    if (this.#closed) throw new Error('lab.spawn after teardown');
    const child = execa(IP, this.#argv(ns, opts.hostname, cmd, args), {
      env: opts.env,
      cwd: opts.cwd,
      timeout: opts.timeout,
      stdin: 'ignore',
      forceKillAfterDelay: 2000,
    });
    // Marks the promise handled: a child killed in teardown must not be an unhandled rejection.
    child.catch(() => undefined);
    this.#children.push(child);
    return child;
  }

  /** Kills every child, then everything left in the lab's namespaces, then deletes them.
   *  Idempotent; makeLab registers it as the test's teardown. Throws if a namespace survived. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const child of this.#children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.allSettled(this.#children);
    const failures: string[] = [];
    for (const ns of [...this.#namespaces].reverse()) {
      await killNamespacePids(ns);
      const r = await execa(IP, ['netns', 'del', ns], { reject: false });
      if (r.exitCode !== 0 && !/No such file/.test(r.stderr)) failures.push(`${ns}: ${r.stderr}`);
    }
    liveLabs.delete(this);
    if (failures.length > 0) throw new Error(`lab teardown left namespaces:\n${failures.join('\n')}`);
  }

  /** close() for process exit: synchronous and best-effort. */
  closeSync(): void {
    this.#closed = true;
    for (const child of this.#children) child.kill('SIGKILL');
    for (const ns of this.#namespaces) {
      const pids = execaSync(IP, ['netns', 'pids', ns], { reject: false }).stdout;
      for (const pid of String(pids).split(/\s+/).filter(Boolean).map(Number)) {
        try {
          if (pid !== process.pid) process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      execaSync(IP, ['netns', 'del', ns], { reject: false });
    }
    liveLabs.delete(this);
  }
}

/** A lab whose namespaces and processes are removed in `t`'s teardown. Starts by removing
 *  namespaces with the same prefix left by dead processes. */
export async function makeLab(t: TeardownHost, opts: LabOptions): Promise<Lab> {
  // Letters only: a digit would make `rs` + `1234` ambiguous with prefix `rs1` + pid `234`.
  if (!/^[a-z]+$/.test(opts.prefix)) throw new Error(`makeLab: prefix must be lower-case letters, got ${opts.prefix}`);
  await cleanupStale(opts.prefix);
  const lab = new Lab(opts.prefix);
  t.teardown(() => lab.close());
  return lab;
}
