// The discovery tests' lab: a switch namespace with separate management and data segments
// (br-mgmt, br-data), hosts with mgmt0 on one and data0 on the other, an address on each; member
// advertisers as real processes (helpers/advertise-main.js); avahi-daemon with a private D-Bus in
// its own mount namespace (so its pid file and socket never meet another test's avahi); tcpdump
// captures on the bridges.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResultPromise } from 'execa';
import type { AdvertiseOptions } from '../../../src/discovery/advertiser.js';
import type { ClusterTxt } from '../../../src/discovery/txt.js';
import type { Lab } from '../../helpers/netns.js';

export const ADVERTISE_MAIN = join(process.cwd(), 'dist', 'test', 'discovery', 'helpers', 'advertise-main.js');
export const BIN = join(process.cwd(), 'bin', 'rackstrap.js');

export interface Host {
  ns: string;
  mgmt: string;
  data: string;
}

/** `count` hosts: host i has mgmt0 10.60.0.(i+1)/24 on br-mgmt and data0 10.61.0.(i+1)/24 on br-data. */
export async function segmentLab(lab: Lab, names: readonly string[]): Promise<{ sw: string; hosts: Map<string, Host> }> {
  const sw = await lab.ns('sw');
  await lab.bridge(sw, 'br-mgmt');
  await lab.bridge(sw, 'br-data');
  const hosts = new Map<string, Host>();
  let i = 0;
  for (const name of names) {
    i++;
    const ns = await lab.ns(name);
    await lab.link(ns, 'mgmt0', sw, 'br-mgmt');
    await lab.link(ns, 'data0', sw, 'br-data');
    const mgmt = `10.60.0.${i}`;
    const data = `10.61.0.${i}`;
    await lab.ip(ns, 'addr', 'add', `${mgmt}/24`, 'dev', 'mgmt0');
    await lab.ip(ns, 'addr', 'add', `${data}/24`, 'dev', 'data0');
    hosts.set(name, { ns, mgmt, data });
  }
  return { sw, hosts };
}

export interface AdvertiserProcess {
  child: ResultPromise;
  events: Array<Record<string, unknown>>;
  /** Resolves with the first event (seen or coming) matching `pred`. */
  waitFor(pred: (e: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown> & { at: number }>;
  send(cmd: unknown): void;
}

/** Follows a child's stdout JSON lines; each event gets `at` (performance.now() when read). */
export function followJsonLines(child: ResultPromise): AdvertiserProcess {
  const events: Array<Record<string, unknown> & { at: number }> = [];
  const waiters: Array<() => void> = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) {
      if (!p.startsWith('{')) continue;
      events.push({ ...(JSON.parse(p) as Record<string, unknown>), at: performance.now() });
      for (const w of waiters.splice(0)) w();
    }
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  return {
    child,
    events,
    waitFor(pred, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching event in ${ms} ms; events: ${JSON.stringify(events)}; stderr: ${stderr}`)), ms);
        const check = () => {
          const e = events.find(pred);
          if (e !== undefined) {
            clearTimeout(timer);
            resolve(e);
          } else waiters.push(check);
        };
        check();
      });
    },
    send(cmd) {
      child.stdin?.write(`${JSON.stringify(cmd)}\n`);
    },
  };
}

export function txtFor(cluster: string, id: string, extra: Partial<ClusterTxt> = {}): ClusterTxt {
  return { cluster, id, version: '0.1.0', members: 3, ...extra };
}

/** Starts an advertiser process in `ns`; stdin stays open for address/TXT changes. */
export function spawnAdvertiser(lab: Lab, ns: string, opts: AdvertiseOptions, env: Record<string, string> = {}): AdvertiserProcess {
  const child = lab.spawn(ns, process.execPath, [ADVERTISE_MAIN, JSON.stringify(opts)], { env });
  // lab.spawn ignores stdin; advertise-main only reads it when given, so re-pipe is not needed for most tests.
  return followJsonLines(child);
}

// ---- capture ----------------------------------------------------------------------------------

export interface Capture {
  /** Stops tcpdump and returns the packets it saw, one text line each. */
  stop(): Promise<string[]>;
}

/** `tcpdump -i <iface> <filter>` inside `ns`; resolves once tcpdump says it is listening. */
export async function capture(lab: Lab, ns: string, iface: string, filter: string[], dir: string): Promise<Capture> {
  const out = join(dir, `${iface}.txt`);
  const child = lab.spawn(ns, 'sh', ['-c', `exec tcpdump --immediate-mode -l -n -i "$0" "$@" > ${out}`, iface, ...filter]);
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump on ${iface} did not start: ${err}`)), 10_000);
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString('utf8');
      if (/listening on/.test(err)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    async stop() {
      // Let the last packets reach tcpdump's output before it is stopped.
      await new Promise((r) => setTimeout(r, 200));
      child.kill('SIGINT');
      await child.catch(() => undefined);
      return readFileSync(out, 'utf8').split('\n').filter((l) => l.trim() !== '');
    },
  };
}

// ---- avahi --------------------------------------------------------------------------------------

export interface Avahi {
  /** Environment for avahi-browse/avahi-publish and rackstrap in that namespace. */
  env: Record<string, string>;
  hostName: string;
}

/** A private system bus and avahi-daemon on `allowInterface` in `ns`, ready (startup complete). */
export async function startAvahi(lab: Lab, ns: string, dir: string, hostName: string, allowInterface = 'mgmt0'): Promise<Avahi> {
  mkdirSync(dir, { recursive: true });
  const bus = join(dir, 'bus');
  writeFileSync(
    join(dir, 'dbus.conf'),
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${bus}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy>
</busconfig>
`,
  );
  writeFileSync(
    join(dir, 'avahi.conf'),
    `[server]\nhost-name=${hostName}\nuse-ipv4=yes\nuse-ipv6=no\nallow-interfaces=${allowInterface}\nenable-dbus=yes\n[publish]\npublish-hinfo=no\npublish-workstation=no\n`,
  );
  const env = { DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${bus}` };
  lab.spawn(ns, 'dbus-daemon', ['--config-file', join(dir, 'dbus.conf'), '--nofork', '--nopidfile']);
  await waitUntil(async () => (await lab.exec(ns, 'test', ['-S', bus], { reject: false })).exitCode === 0, 5000, 'the private D-Bus socket');
  const avahi = lab.spawn(
    ns,
    'unshare',
    ['--mount', 'sh', '-c', `mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && exec avahi-daemon -f ${join(dir, 'avahi.conf')} --no-drop-root --no-chroot --no-rlimits`],
    { env },
  );
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`avahi-daemon did not start:\n${log}`)), 10_000);
    const on = (c: Buffer) => {
      log += c.toString('utf8');
      if (/Server startup complete/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    avahi.stdout?.on('data', on);
    avahi.stderr?.on('data', on);
  });
  return { env, hostName };
}

export async function waitUntil(fn: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
