// The bench's server table writes configs each real server accepts (checked by the servers' own
// syntax checkers, no network needed), and the rackstrap entry stays valid against the schema.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { ClusterDescription } from '../../src/options/schema.js';
import { benchNetworkLayout } from '../../bench/lib/netns.js';
import { findInPath, rackstrapBenchCluster, serverById, type ServerContext } from '../../bench/lib/servers.js';

// Kea's checker wants the interface to exist; loopback does, in any namespace.
const net = { ...benchNetworkLayout('test'), serverIf: 'lo' };
const ctx = (dir: string): ServerContext => ({ net, dir, leaseTimeS: 4000, projectRoot: process.cwd() });

const checks: Array<{ id: string; check: (argv: string[], dir: string) => string[] }> = [
  { id: 'kea', check: (argv) => ['kea-dhcp4', '-t', argv[2] ?? ''] },
  { id: 'kea-nopersist', check: (argv) => ['kea-dhcp4', '-t', argv[2] ?? ''] },
  { id: 'dhcpd', check: (argv) => ['dhcpd', '-t', '-q', '-cf', argv[argv.indexOf('-cf') + 1] ?? ''] },
  { id: 'dnsmasq', check: (argv) => ['dnsmasq', '--test', '-C', argv[argv.indexOf('-C') + 1] ?? ''] },
];

for (const { id, check } of checks) {
  const cmd = check([], '')[0] ?? '';
  const skip = findInPath(cmd) === null ? `${cmd} is not installed (scripts/setup-system.sh)` : false;
  t.test(`${id}: the generated config passes the server's own check`, { skip }, async (t) => {
    const spec = serverById(id);
    if (!spec) throw new Error(`no ${id} in SERVERS`);
    const dir = t.testdir({});
    const launch = await spec.launch(ctx(dir));
    const [checkCmd, ...checkArgs] = check(launch.argv, dir);
    const r = spawnSync(findInPath(checkCmd ?? '') ?? '', checkArgs, {
      env: { ...process.env, ...launch.env },
      encoding: 'utf8',
      timeout: 10_000,
    });
    t.equal(r.status, 0, `${checkCmd} ${checkArgs.join(' ')}\n${r.stdout}${r.stderr}`);
  });
}

t.test('every peer keeps per-packet logging off and its state in the private folder', async (t) => {
  const dir = t.testdir({});
  const kea = await serverById('kea')?.launch(ctx(dir));
  t.same(kea?.env, { KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir });
  const keaConf = JSON.parse(readFileSync(kea?.argv[2] ?? '', 'utf8')) as {
    Dhcp4: { loggers: Array<{ severity: string }>; 'lease-database': { name: string; persist: boolean } };
  };
  t.equal(keaConf.Dhcp4.loggers[0]?.severity, 'WARN');
  t.ok(keaConf.Dhcp4['lease-database'].name.startsWith(dir));
  t.equal(keaConf.Dhcp4['lease-database'].persist, true);

  const dhcpd = await serverById('dhcpd')?.launch(ctx(dir));
  t.match(readFileSync(`${dir}/dhcpd.conf`, 'utf8'), /^ping-check false;$/m);
  t.ok(dhcpd?.argv[dhcpd.argv.indexOf('-lf') + 1]?.startsWith(dir));

  await serverById('dnsmasq')?.launch(ctx(dir));
  const dnsmasq = readFileSync(`${dir}/dnsmasq.conf`, 'utf8');
  for (const line of ['no-ping', 'quiet-dhcp', 'dhcp-lease-max=70000', `dhcp-leasefile=${dir}/dnsmasq.leases`]) {
    t.match(dnsmasq, new RegExp(`^${line}$`, 'm'), line);
  }
});

t.test('rackstrap: the bench cluster is a valid description with the same 64k pool', async (t) => {
  const parsed = ClusterDescription.safeParse(rackstrapBenchCluster({ net, leaseTimeS: 4000 }));
  t.ok(parsed.success, parsed.success ? 'valid' : parsed.error.message);
  const subnet = parsed.success ? parsed.data.scope.subnets[0] : undefined;
  t.equal(subnet?.prefix, net.prefix);
  const toInt = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  t.equal(toInt(subnet?.pool?.end ?? '0.0.0.0') - toInt(subnet?.pool?.start ?? '0.0.0.0') + 1, 65521);

  const spec = serverById('rackstrap');
  t.equal(spec?.peer, false, 'rackstrap never sets the bar it is measured against');
  t.match(await spec?.unavailable(t.testdir({})), /dist\/src\/cli\/main\.js is not built/);
  // In this tree: skipped with the reason until `serve` exists, then available.
  const here = await spec?.unavailable(process.cwd());
  t.ok(here === null || /has no "serve" command yet \(commands: /.test(here ?? ''), String(here));
});
