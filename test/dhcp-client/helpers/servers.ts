// Real DHCP servers (Debian's Kea 2.2, dnsmasq 2.90 and ISC dhcpd 4.4) in a lab namespace, configured the way
// dhcp-servers.md says serves text client identifiers and option 43: reservations by the
// identifier's text, a small bootstrap pool for the topology OFFER, option 43 sub-options chosen
// by option 60.

import { execa } from 'execa';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultPromise } from 'execa';
import type { Lab, TeardownHost } from '../../helpers/netns.js';

export type ServerKind = 'kea' | 'dnsmasq' | 'dhcpd';

export interface ServerSetup {
  ns: string;
  ifname: string;
  /** The server's own address on ifname (already configured). */
  address: string;
  /** e.g. 10.20.0.0/24 */
  prefix: string;
  netmask: string;
  router: string;
  reservations: ReadonlyArray<{ identifier: string; address: string }>;
  /** Bootstrap range the topology OFFER comes from. */
  pool: { start: string; end: string };
  leaseSeconds: number;
  t1: number;
  t2: number;
  vendorClass: string;
  /** Option 43 sub-options (code, text) for clients of the vendor class. */
  subOptions: ReadonlyArray<{ code: number; text: string }>;
}

export interface RunningServer {
  kind: ServerKind;
  leaseFile: string;
  logFile: string;
  /** Kills it (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  leases(): string;
  log(): string;
}

const colonHexOfText = (text: string): string => [...Buffer.from(text, 'latin1')].map((b) => b.toString(16).padStart(2, '0')).join(':');

function keaConfig(s: ServerSetup, dir: string): object {
  return {
    Dhcp4: {
      'interfaces-config': { interfaces: [s.ifname], 'dhcp-socket-type': 'raw' },
      'lease-database': { type: 'memfile', persist: true, name: join(dir, 'leases.csv'), 'lfc-interval': 0 },
      'valid-lifetime': s.leaseSeconds,
      'renew-timer': s.t1,
      'rebind-timer': s.t2,
      authoritative: true,
      // Text identifiers: Kea matches the whole option 61 as client-id (dhcp-servers.md).
      'host-reservation-identifiers': ['client-id'],
      'option-def': s.subOptions.map((o) => ({ space: 'vendor-encapsulated-options-space', name: `rs${o.code}`, code: o.code, type: 'string' })),
      'client-classes': [
        {
          name: 'rackstrap',
          test: `option[60].text == '${s.vendorClass}'`,
          'option-data': [
            { name: 'vendor-encapsulated-options' },
            ...s.subOptions.map((o) => ({ space: 'vendor-encapsulated-options-space', name: `rs${o.code}`, data: o.text })),
          ],
        },
      ],
      subnet4: [
        {
          id: 1,
          subnet: s.prefix,
          pools: [{ pool: `${s.pool.start} - ${s.pool.end}` }],
          reservations: s.reservations.map((r) => ({ 'client-id': colonHexOfText(r.identifier), 'ip-address': r.address })),
          'option-data': [{ name: 'routers', data: s.router }],
        },
      ],
      loggers: [{ name: 'kea-dhcp4', output_options: [{ output: join(dir, 'server.log') }], severity: 'DEBUG', debuglevel: 40 }],
    },
  };
}

function dnsmasqConfig(s: ServerSetup, dir: string): string {
  return [
    'port=0',
    `interface=${s.ifname}`,
    'bind-interfaces',
    `dhcp-range=${s.pool.start},${s.pool.end},${s.netmask},${s.leaseSeconds}`,
    // Quotes make dnsmasq read the identifier as text, not hex (dhcp-servers.md).
    ...s.reservations.map((r) => `dhcp-host=id:"${r.identifier}",${r.address},${s.leaseSeconds}`),
    `dhcp-option=option:router,${s.router}`,
    // dnsmasq's shortest lease is 2 minutes; T1/T2 can still be short.
    `dhcp-option=option:T1,${s.t1}`,
    `dhcp-option=option:T2,${s.t2}`,
    ...s.subOptions.map((o) => `dhcp-option=vendor:${s.vendorClass},${o.code},"${o.text}"`),
    `dhcp-leasefile=${join(dir, 'leases')}`,
    'dhcp-authoritative',
    'no-ping',
    'log-dhcp',
    'no-resolv',
    'no-hosts',
    'user=root',
    'group=root',
    `pid-file=${join(dir, 'dnsmasq.pid')}`,
    `log-facility=${join(dir, 'server.log')}`,
    '',
  ].join('\n');
}

function dhcpdConfig(s: ServerSetup): string {
  const [net] = s.prefix.split('/');
  return [
    'authoritative;',
    'ping-check false;', // 1 s per new address otherwise (perf-baselines.md)
    'ddns-update-style none;',
    `default-lease-time ${s.leaseSeconds};`,
    `max-lease-time ${s.leaseSeconds};`,
    `min-lease-time ${s.leaseSeconds};`,
    // Option 43 as a sub-option space selected by option 60 (dhcp-servers.md).
    'option space rs code width 1 length width 1;',
    ...s.subOptions.map((o) => `option rs.o${o.code} code ${o.code} = text;`),
    `class "rackstrap" {`,
    `  match if option vendor-class-identifier = "${s.vendorClass}";`,
    '  vendor-option-space rs;',
    ...s.subOptions.map((o) => `  option rs.o${o.code} "${o.text}";`),
    '}',
    `subnet ${net} netmask ${s.netmask} {`,
    `  range ${s.pool.start} ${s.pool.end};`,
    `  option routers ${s.router};`,
    `  option dhcp-renewal-time ${s.t1};`,
    `  option dhcp-rebinding-time ${s.t2};`,
    '}',
    ...s.reservations.map((r, i) => `host h${i} { option dhcp-client-identifier "${r.identifier}"; fixed-address ${r.address}; }`),
    '',
  ].join('\n');
}

/** True once something in `ns` listens on UDP `port` (/proc/net/udp is per namespace). */
async function isListening(lab: Lab, ns: string, port: number): Promise<boolean> {
  const { stdout } = await lab.exec(ns, 'cat', ['/proc/net/udp']);
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  // Lines read "sl local_address rem_address ...", the local address as HEXIP:HEXPORT.
  return stdout.split('\n').some((line) => (line.trim().split(/\s+/)[1] ?? '').endsWith(suffix));
}

export async function startServer(t: TeardownHost, lab: Lab, kind: ServerKind, s: ServerSetup): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), `rscli-${kind}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let child: ResultPromise;
  let leaseFile: string;
  if (kind === 'kea') {
    const conf = join(dir, 'kea.json');
    writeFileSync(conf, JSON.stringify(keaConfig(s, dir), null, 2));
    await execa('kea-dhcp4', ['-t', conf], { env: { KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir } }).catch(async () => {
      // -t checks interfaces too: run the check where the interface exists.
      await lab.exec(s.ns, 'kea-dhcp4', ['-t', conf], { env: { KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir } });
    });
    child = lab.spawn(s.ns, 'kea-dhcp4', ['-c', conf], { env: { KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir } });
    leaseFile = join(dir, 'leases.csv');
  } else if (kind === 'dhcpd') {
    const conf = join(dir, 'dhcpd.conf');
    writeFileSync(conf, dhcpdConfig(s));
    leaseFile = join(dir, 'dhcpd.leases');
    writeFileSync(leaseFile, ''); // dhcpd refuses to start without it
    await execa('dhcpd', ['-t', '-q', '-cf', conf]);
    // -d: foreground, log to stderr (captured below as the server log).
    child = lab.spawn(s.ns, 'dhcpd', ['-4', '-d', '-cf', conf, '-lf', leaseFile, '-pf', join(dir, 'dhcpd.pid'), s.ifname]);
    child.stderr?.on('data', (chunk: Buffer) => appendFileSync(join(dir, 'server.log'), chunk));
  } else {
    const conf = join(dir, 'dnsmasq.conf');
    writeFileSync(conf, dnsmasqConfig(s, dir));
    await execa('dnsmasq', ['--test', '-C', conf]);
    child = lab.spawn(s.ns, 'dnsmasq', ['-k', '-C', conf]);
    leaseFile = join(dir, 'leases');
  }
  const logFile = join(dir, 'server.log');
  const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  const deadline = Date.now() + 10_000;
  while (!(await isListening(lab, s.ns, 67))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`${kind} did not start (exit ${String(child.exitCode)}):\n${read(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    kind,
    leaseFile,
    logFile,
    leases: () => read(leaseFile),
    log: () => read(logFile),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await child.catch(() => undefined);
    },
  };
}
