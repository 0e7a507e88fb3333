// Runs a generated configuration in the real DHCP server and asks it with the real dhclient, in
// network namespaces: one "switch" namespace with a bridge per subnet, the server with one
// interface on each, and one client interface (its own MAC, like an alias) per identifier on the
// bridge of its subnet. Each identifier is asked by its own `dhclient -1` with the generated
// dhclient.conf plus its `send dhcp-client-identifier`, and a script that saves what dhclient got.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLab, type Lab, type TeardownHost } from '../../helpers/netns.js';
import { contains, formatIp, parseCidr, parseIp } from '../../../src/options/rules/ip.js';
import type { GenModel } from '../../../src/generate/model.js';
import { dhclientIdentifierStatement } from '../../../src/generate/dhclient.js';

export type ServerKind = 'dhcpd' | 'kea' | 'dnsmasq';

export interface Net {
  lab: Lab;
  dir: string;
  srv: string;
  cli: string;
  sw: string;
  /** Subnet prefix -> bridge name and the server's interface on it. */
  bridges: Map<string, { bridge: string; serverIf: string; serverIp: string }>;
}

/** An address in the subnet the cluster does not use (reservations, routers, DNS, NTP, bootstrap). */
function freeAddress(model: GenModel, prefix: string): string {
  const c = parseCidr(prefix)!;
  const used = new Set<string>();
  const s = model.subnets.find((x) => x.prefix === prefix)!;
  for (const a of [...s.routers, ...s.dns, ...s.ntp]) used.add(a);
  for (const r of model.addresses) used.add(r.address);
  const boot = s.bootstrap ? [parseIp(s.bootstrap.start)!.value, parseIp(s.bootstrap.end)!.value] : undefined;
  for (let v = c.network + 1n; ; v++) {
    const text = formatIp(4, v);
    if (!contains(c, parseIp(text)!)) throw new Error(`no free address in ${prefix}`);
    if (used.has(text) || (boot && v >= boot[0]! && v <= boot[1]!)) continue;
    return text;
  }
}

/** The lab: a bridge per subnet, the server on each. Removed at teardown. */
export async function buildNet(t: TeardownHost, prefix: string, model: GenModel): Promise<Net> {
  const lab = await makeLab(t, { prefix });
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const [sw, srv, cli] = await Promise.all([lab.ns('sw'), lab.ns('srv'), lab.ns('cli')]);
  const bridges: Net['bridges'] = new Map();
  let i = 0;
  for (const s of model.subnets) {
    const bridge = `br${i}`;
    const serverIf = `s${i}`;
    i++;
    await lab.bridge(sw, bridge);
    await lab.link(srv, serverIf, sw, bridge);
    const serverIp = freeAddress(model, s.prefix);
    await lab.ip(srv, 'addr', 'add', `${serverIp}/${s.prefixLength}`, 'dev', serverIf);
    bridges.set(s.prefix, { bridge, serverIf, serverIp });
  }
  return { lab, dir, srv, cli, sw, bridges };
}

export interface Started {
  /** The server's own check of the configuration. */
  check: { exitCode: number | undefined; output: string };
  /** The server's output so far (for failure messages). */
  log: () => string;
  /** Stops the server and waits for it to exit (the lab kills whatever is left at teardown). */
  stop: () => Promise<void>;
}

async function port67Bound(net: Net): Promise<boolean> {
  const r = await net.lab.exec(net.srv, 'ss', ['-H', '-uln', 'sport = :67'], { reject: false });
  return r.stdout.trim() !== '';
}

async function waitForPort67(net: Net, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const r = await net.lab.exec(net.srv, 'ss', ['-H', '-uln', 'sport = :67'], { reject: false });
    if (r.stdout.trim() !== '') return;
    await new Promise((r2) => setTimeout(r2, 50));
  }
  throw new Error('server did not bind UDP port 67');
}

/**
 * Wraps the generated text in the minimal configuration a site has around it (global settings,
 * the interfaces to serve, lease storage), runs the server's own check, then starts the server.
 */
export async function startServer(net: Net, kind: ServerKind, generated: string, tag: string): Promise<Started> {
  const d = join(net.dir, tag);
  rmSync(d, { recursive: true, force: true });
  const { lab, srv } = net;
  await lab.exec(srv, 'mkdir', ['-p', d]);
  const ifaces = [...net.bridges.values()].map((b) => b.serverIf);
  // A server left running would answer instead of this one.
  if (await port67Bound(net)) throw new Error('a DHCP server is still running in the server namespace');
  let logText = '';
  let check: Started['check'];
  let child;
  if (kind === 'dhcpd') {
    const conf = join(d, 'dhcpd.conf');
    writeFileSync(conf, ['# site settings', 'authoritative;', 'ping-check false;', 'ddns-update-style none;', '', generated].join('\n'));
    writeFileSync(join(d, 'dhcpd.leases'), '');
    const r = await lab.exec(srv, 'dhcpd', ['-t', '-cf', conf], { reject: false });
    check = { exitCode: r.exitCode, output: r.stdout + r.stderr };
    if (r.exitCode !== 0) return { check, log: () => logText, stop: async () => undefined };
    child = lab.spawn(srv, 'dhcpd', ['-4', '-d', '-cf', conf, '-lf', join(d, 'dhcpd.leases'), '-pf', join(d, 'dhcpd.pid'), ...ifaces]);
  } else if (kind === 'kea') {
    const fragment = JSON.parse(generated) as Record<string, unknown>;
    const site = {
      'interfaces-config': { interfaces: ifaces, 'dhcp-socket-type': 'raw' },
      'lease-database': { type: 'memfile', persist: false, 'lfc-interval': 0 },
      loggers: [{ name: 'kea-dhcp4', output_options: [{ output: 'stderr' }], severity: 'INFO' }],
    };
    const conf = join(d, 'kea-dhcp4.json');
    writeFileSync(conf, JSON.stringify({ Dhcp4: { ...site, ...fragment } }, null, 2));
    const env = { KEA_PIDFILE_DIR: d, KEA_LOCKFILE_DIR: d };
    const r = await lab.exec(srv, 'kea-dhcp4', ['-t', conf], { reject: false, env });
    check = { exitCode: r.exitCode, output: r.stdout + r.stderr };
    if (r.exitCode !== 0) return { check, log: () => logText, stop: async () => undefined };
    child = lab.spawn(srv, 'kea-dhcp4', ['-c', conf], { env });
  } else {
    const conf = join(d, 'dnsmasq.conf');
    const site = [
      '# site settings',
      'port=0',
      ...ifaces.map((i) => `interface=${i}`),
      'bind-interfaces',
      'no-resolv',
      'no-hosts',
      'no-ping',
      'dhcp-authoritative',
      `dhcp-leasefile=${join(d, 'dnsmasq.leases')}`,
      `pid-file=${join(d, 'dnsmasq.pid')}`,
      'user=root',
      'group=root',
      'log-dhcp',
      'log-facility=-',
    ];
    writeFileSync(conf, [...site, '', generated].join('\n'));
    const r = await lab.exec(srv, 'dnsmasq', ['--test', '-C', conf], { reject: false });
    check = { exitCode: r.exitCode, output: r.stdout + r.stderr };
    if (r.exitCode !== 0) return { check, log: () => logText, stop: async () => undefined };
    child = lab.spawn(srv, 'dnsmasq', ['-k', '-C', conf]);
  }
  child.stdout?.on('data', (b: Buffer) => (logText += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (logText += b.toString()));
  const running = child;
  const stop = async (): Promise<void> => {
    if (running.exitCode === null && running.signalCode === null) running.kill('SIGTERM');
    await running.catch(() => undefined);
  };
  try {
    await waitForPort67(net, 5000);
  } catch (e) {
    await stop();
    throw new Error(`${kind} did not start: ${(e as Error).message}\n${logText}`);
  }
  return { check, log: () => logText, stop };
}

/** Starts a server, runs `fn`, and always stops the server before returning. */
export async function withServer(net: Net, kind: ServerKind, generated: string, tag: string, fn: (s: Started) => Promise<void>): Promise<void> {
  const server = await startServer(net, kind, generated, tag);
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

export interface Ask {
  identifier: string;
  /** Subnet whose bridge the client interface is on. */
  subnet: string;
  /** Drop the vendor class from the client's configuration (to see the server refuse it). */
  withoutVendorClass?: boolean;
  /** dhclient's `timeout`, seconds. */
  timeout?: number;
}

export interface Answer {
  ask: Ask;
  /** dhclient's script environment at BOUND, or undefined when no lease came. */
  env: Record<string, string> | undefined;
  exitCode: number | undefined;
}

let clientCounter = 0;

/** Runs one dhclient per ask, `parallel` at a time; returns what each one's script saw. */
export async function askAll(net: Net, dhclientConf: string, asks: Ask[], parallel = 8): Promise<Answer[]> {
  const { lab, cli } = net;
  const dir = join(net.dir, `clients-${++clientCounter}`);
  await lab.exec(cli, 'mkdir', ['-p', dir]);
  // dhclient gives its script a fresh environment: the output folder is written into the script.
  const script = join(dir, 'save-env.sh');
  writeFileSync(script, `#!/bin/sh\n[ "$reason" = BOUND ] && env > "${dir}/$interface.env.tmp" && mv "${dir}/$interface.env.tmp" "${dir}/$interface.env"\nexit 0\n`);
  chmodSync(script, 0o755);
  const answers: Answer[] = new Array(asks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= asks.length) return;
      const ask = asks[i]!;
      const ifname = `c${clientCounter}x${i}`;
      const b = net.bridges.get(ask.subnet);
      if (!b) throw new Error(`no bridge for ${ask.subnet}`);
      await lab.link(cli, ifname, net.sw, b.bridge);
      let conf = dhclientConf;
      if (ask.withoutVendorClass) conf = conf.replace(/^send vendor-class-identifier .*$/m, '');
      conf += `${dhclientIdentifierStatement(ask.identifier)}\ntimeout ${ask.timeout ?? 10};\nretry 1;\n`;
      const confFile = join(dir, `${ifname}.conf`);
      writeFileSync(confFile, conf);
      const pidFile = join(dir, `${ifname}.pid`);
      const r = await lab.exec(cli, 'dhclient', ['-1', '-4', '-cf', confFile, '-sf', script, '-lf', join(dir, `${ifname}.leases`), '-pf', pidFile, ifname], {
        reject: false,
        timeout: ((ask.timeout ?? 10) + 10) * 1000,
      });
      // On success dhclient went to the background to renew: stop it (the lab would at teardown).
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        try {
          if (pid > 0) process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      const envFile = join(dir, `${ifname}.env`);
      let env: Record<string, string> | undefined;
      if (existsSync(envFile)) {
        env = {};
        for (const line of readFileSync(envFile, 'utf8').split('\n')) {
          const eq = line.indexOf('=');
          if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
        }
      }
      answers[i] = { ask, env, exitCode: r.exitCode };
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, asks.length) }, worker));
  return answers;
}
