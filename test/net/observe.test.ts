// observe(): real `ip -j` output (UML with bonds and VLANs, the host kernel in a namespace) parsed
// into ObservedState; ownership read back from the kernel's own markers.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { observe, ObserveError, OBSERVE_COMMANDS, parseIptablesSave, parseObservation, type RawObservation } from '../../src/net/observe.js';
import type { Runner } from '../../src/net/runner.js';

const raw = (path: string) => JSON.parse(readFileSync(`test/fixtures/ip-json/${path}.json`, 'utf8')) as RawObservation;

t.test('bonds, slaves, VLANs and macvlans from user-mode Linux', async (t) => {
  const s = parseObservation(raw('uml-filer1/after'));
  const link = (n: string) => s.links.find((l) => l.ifname === n);
  t.match(link('bond0'), {
    kind: 'bond',
    owned: true,
    ifalias: 'rackstrap:bond',
    up: true,
    mtu: 9000,
    bond: { mode: '802.3ad', miimon: 100, lacpRate: 'fast', hashPolicy: 'layer3+4' },
  });
  t.notOk(link('bond0')!.bond!.primary, 'no primary on an LACP bond');
  t.match(link('fail0'), { kind: 'bond', bond: { mode: 'active-backup', primary: 'eth2', miimon: 100 } });
  t.match(link('eth0'), { kind: 'veth', master: 'bond0', owned: false, slave: { state: 'ACTIVE', miiStatus: 'UP' } });
  t.ok(link('eth0')!.slave!.adPortState!.includes('distributing'));
  t.equal(link('eth0')!.parent, undefined, 'a veth\'s "link" is its peer, not a parent');
  t.match(link('bond0.10'), { kind: 'vlan', parent: 'bond0', vlanId: 10, owned: true });
  t.match(link('fail0.40'), { kind: 'vlan', parent: 'fail0', vlanId: 40 });
  t.match(link('data0'), { kind: 'macvlan', parent: 'bond0.10', macvlanMode: 'bridge', mac: /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/ });
  t.equal(s.iptables.available, false, 'no iptables in that kernel');
  if (!s.iptables.available) t.match(s.iptables.reason, /nft|iptables/);
});

t.test('addresses, routes and rules, with ownership markers', async (t) => {
  const s = parseObservation(raw('netns-applied/after'));
  const a = s.addresses.find((x) => x.local === '10.2.2.1')!;
  t.match(a, { dev: 'data0', prefixlen: 24, broadcast: '10.2.2.255', metric: 114, noprefixroute: true, owned: true });
  t.match(s.addresses.find((x) => x.local === '10.1.1.2'), { dev: 'mgmt0', noprefixroute: false, owned: true });
  t.notOk(s.addresses.some((x) => x.local.includes(':')), 'IPv4 only');

  const r = s.routes.find((x) => x.table === 1 && x.dst === 'default')!;
  t.match(r, { gateway: '10.2.2.254', dev: 'data0', protocol: 114, realm: 1, metric: 0, type: 1, owned: true });
  t.match(s.routes.find((x) => x.table === 254 && x.dst === '10.1.1.0/24'), { protocol: 2, metric: 114, owned: false, prefsrc: '10.1.1.2' }, 'kernel connected route: not ours');
  t.match(s.routes.find((x) => x.table === 255 && x.dst === '10.2.2.1/32'), { type: 2, owned: false }, 'local host routes get /32');
  t.notOk(s.routes.some((x) => x.dst.includes(':')));

  t.match(s.rules.find((x) => x.src === '10.3.4.1'), { priority: 31000, srclen: 32, table: 2, realmFrom: 2, realmTo: 2, protocol: 114, owned: true });
  t.match(s.rules.find((x) => x.priority === 32766), { table: 254, owned: false, src: undefined });

  t.ok(s.iptables.available);
  if (s.iptables.available) {
    t.same(s.iptables.chains.sort(), ['RACKSTRAP-IN', 'RACKSTRAP-OUT']);
    t.ok(s.iptables.rules.some((x) => x.chain === 'RACKSTRAP-IN' && x.spec.join(' ') === '-d 10.2.2.1/32 -m comment --comment vs.VsvrA'), 'quoted comment read back bare');
    t.ok(s.iptables.rules.some((x) => x.chain === 'INPUT' && x.spec.join(' ') === '-m comment --comment rackstrap -j RACKSTRAP-IN'));
  }
  const before = parseObservation(raw('netns-applied/before'));
  t.same(before.links.filter((l) => l.owned), [], 'nothing of ours before');
});

t.test('iproute2 names instead of numbers (output without -N) parse the same', async (t) => {
  const s = parseObservation({
    link: [],
    addr: [],
    route: [{ type: 'local', dst: '10.0.0.1', dev: 'eth0', table: 'local', protocol: 'kernel', scope: 'host' }, { dst: 'default', gateway: '10.0.0.254', dev: 'eth0', protocol: 'dhcp', metric: 100 }],
    rule: [{ priority: 32766, src: 'all', table: 'main' }],
    iptables: { ok: false, reason: 'x' },
  });
  t.match(s.routes, [{ type: 2, table: 255, protocol: 2, dst: '10.0.0.1/32' }, { type: 1, table: 254, protocol: 16, metric: 100 }]);
  t.match(s.rules, [{ table: 254, protocol: 0, owned: false }]);
});

t.test('unexpected output is an ObserveError naming the command and field', async (t) => {
  const base = raw('netns-applied/before');
  t.throws(() => parseObservation({ ...base, link: [{ ifname: 'x' }] }), { name: 'ObserveError', code: 'RS_OBSERVE', message: /ip link: .*ifindex/s });
  t.throws(() => parseObservation({ ...base, route: [{ dst: '1.2.3.0/24', table: 'mystery' }] }), { message: /ip route: .*unknown name "mystery"/s });
  t.throws(() => parseObservation({ ...base, rule: {} }), ObserveError);
});

t.test('iptables -S: chains, rules, quoted words', async (t) => {
  const p = parseIptablesSave('-P INPUT ACCEPT\n-N RACKSTRAP-IN\n-A RACKSTRAP-IN -d 10.0.0.1/32 -m comment --comment "a \\"quoted\\" word"\n-A INPUT -j RACKSTRAP-IN\n');
  t.same(p.chains, ['RACKSTRAP-IN']);
  t.same(p.rules, [
    { chain: 'RACKSTRAP-IN', spec: ['-d', '10.0.0.1/32', '-m', 'comment', '--comment', 'a "quoted" word'] },
    { chain: 'INPUT', spec: ['-j', 'RACKSTRAP-IN'] },
  ]);
});

t.test('observe() runs the five commands through the runner; iptables failing is not an error', async (t) => {
  const base = raw('netns-applied/before');
  const seen: string[] = [];
  const runner: Runner = {
    async run(argv) {
      seen.push(argv.join(' '));
      const key = (Object.keys(OBSERVE_COMMANDS) as Array<keyof typeof OBSERVE_COMMANDS>).find((k) => OBSERVE_COMMANDS[k].join(' ') === argv.join(' '))!;
      if (key === 'iptables') return { argv, exitCode: 1, stdout: '', stderr: 'iptables: Failed to initialize nft: Protocol not supported\n' };
      return { argv, exitCode: 0, stdout: JSON.stringify(base[key]), stderr: '' };
    },
  };
  const s = await observe(runner);
  t.equal(seen.length, 5);
  t.same(s.iptables, { available: false, reason: 'iptables: Failed to initialize nft: Protocol not supported' });
  t.ok(s.links.some((l) => l.ifname === 'nic0'));
  const broken: Runner = { run: async (argv) => ({ argv, exitCode: 1, stdout: '', stderr: 'Cannot open netlink socket\n' }) };
  await t.rejects(observe(broken), { code: 'RS_OBSERVE', message: /ip -N -j -d link show failed: Cannot open netlink socket/ });
});
