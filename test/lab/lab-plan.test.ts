// The demo's lab decided from a description: the server reaches every alias's subnet on the right
// VLAN with addresses nobody else uses, LACP bonds get LACP partners, NICs keep their MACs.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { planLab, wireVlanPath } from '../../src/lab/lab-plan.js';
import { loadClusterFile, loadClusterText } from '../../src/options/load.js';
import { reservationsOf } from '../../src/options/resolve.js';
import { Stack } from '../../src/options/schema.js';

t.test('the example cluster: server interfaces per VLAN path, one address per subnet', async (t) => {
  const loaded = await loadClusterFile('examples/cluster.yaml');
  const lab = planLab(loaded, { prefix: 'x' });
  const by = new Map(lab.serverInterfaces.map((i) => [i.ifname, i]));
  t.same([...by.keys()], ['srv0', 'srv0.10', 'srv0.20', 'srv0.30', 'srv0.40']);
  const subnets = (ifname: string) => by.get(ifname)!.addresses.map((a) => a.replace(/\.\d+\//, '.x/')).sort();
  // 10.1.1.0/24 untagged (mgmt0, topology requests) and on VLAN 30 (mgmt1); 10.2.2.0/24 on 10, 20
  // and 40; 10.3.0.0/16 on VLAN 10 (data0) and untagged (Filer2's data2 on bond1).
  t.same(subnets('srv0'), ['10.1.1.x/24', '10.3.255.x/16']);
  t.same(subnets('srv0.10'), ['10.2.2.x/24', '10.3.255.x/16']);
  t.same(subnets('srv0.20'), ['10.2.2.x/24']);
  t.same(subnets('srv0.30'), ['10.1.1.x/24']);
  t.same(subnets('srv0.40'), ['10.2.2.x/24']);

  const used = new Set(reservationsOf(loaded).flatMap((r) => (r.kind === 'topology' ? [] : [r.address])));
  const mine = lab.serverInterfaces.flatMap((i) => i.addresses.map((a) => a.split('/')[0]!));
  t.equal(new Set(mine).size, mine.length, 'every server address is distinct (option 54 names one interface)');
  for (const a of mine) {
    t.notOk(used.has(a), `${a} is nobody's reservation`);
    t.notOk(['10.1.1.254', '10.2.2.254', '10.3.255.254', '10.1.1.53', '10.1.1.123'].includes(a), `${a} is no router or server of the scope`);
    const last = Number(a.split('.')[3]);
    t.notOk(a.startsWith('10.1.1.') && last >= 200 && last <= 215, `${a} is outside the bootstrap range`);
  }
});

t.test('the example cluster: switch side and filers', async (t) => {
  const loaded = await loadClusterFile('examples/cluster.yaml');
  const lab = planLab(loaded, { prefix: 'x' });
  t.same(lab.namespaces, ['xsw', 'xsrv', 'xfiler1', 'xfiler2']);
  t.same(lab.switchBonds.map((b) => [b.filer, b.bond, b.mode, b.members]), [
    ['Filer1', 'bond0', '802.3ad', ['f1e0', 'f1e1']],
    ['Filer2', 'bond0', '802.3ad', ['f2e0', 'f2e1']],
    ['Filer2', 'bond1', '802.3ad', ['f2e4', 'f2e5']],
  ]);
  const f2 = lab.filers.find((f) => f.name === 'Filer2')!;
  t.same(f2.nics.map((n) => `${n.name} ${n.mac}`), ['eth0', 'eth1', 'eth2', 'eth3', 'eth4', 'eth5'].map((n, i) => `${n} 00:07:34:20:00:0${i + 1}`));
  t.equal(f2.baseMac, '00:07:34:20:00:01');
  const sw = lab.batches[0]!;
  t.equal(sw.netns, 'xsw');
  t.ok(sw.lines.includes('link add f1b0 type bond mode 802.3ad lacp_rate fast miimon 100'), 'LACP partner for Filer1 bond0');
  t.ok(sw.lines.includes('link set f1e2 master br0'), 'failover members are plain bridge ports');
  t.notOk(sw.lines.includes('link set f1e0 master br0'), 'LACP members are in the partner bond, not the bridge');
  t.ok(sw.lines.includes('link add f1e0 type veth peer name eth0 address 00:07:34:10:00:01 netns xfiler1'));
  const srv = lab.batches.at(-1)!;
  t.ok(srv.lines.includes('link add link srv0 name srv0.40 type vlan id 40'));
});

t.test('VLAN paths on the wire: failover over VLANs, VLANs on aliases, nested VLANs', async (t) => {
  const stack = Stack.parse({
    bonds: { bond0: { mode: '802.3ad', members: ['eth0', 'eth1'] }, bond1: { mode: 'balance-xor', members: ['eth2', 'eth3'] } },
    failovers: { fail0: { members: ['bond0.10', 'bond1.10'] } },
    vlans: ['bond0.10', 'bond1.10', 'bond0.20.30', 'bond0.20', 'data1.5'],
    aliases: { mgmt0: 'fail0', data0: 'bond0.20.30', data1: 'bond1' },
  });
  t.same(wireVlanPath(stack, 'mgmt0'), [10]);
  t.same(wireVlanPath(stack, 'data0'), [20, 30]);
  t.same(wireVlanPath(stack, 'data1.5'), [5]);
  t.same(wireVlanPath(stack, 'data1'), []);
  t.throws(() => wireVlanPath(stack, 'san0'), /alias san0 is not in the stack/);
});

t.test('a static bond gets a static partner; nested VLANs get nested server interfaces', async (t) => {
  const text = readFileSync('examples/cluster.yaml', 'utf8')
    .replace('bond0: { mode: 802.3ad, members: [eth0, eth1], lacpRate: fast, hashPolicy: layer3+4, miimon: 100 }', 'bond0: { mode: balance-xor, members: [eth0, eth1], hashPolicy: layer3+4, miimon: 100 }')
    .replace('vlans: [bond0.10, bond0.20, fail0.30, fail0.40]', 'vlans: [bond0.10, bond0.20, bond0.20.7, fail0.30, fail0.40]')
    .replace('data1: bond0.20\n', 'data1: bond0.20.7\n');
  const loaded = loadClusterText(text, 'variant.yaml');
  const lab = planLab(loaded, { prefix: 'x' });
  t.match(lab.switchBonds.find((b) => b.filer === 'Filer1' && b.bond === 'bond0'), { mode: 'balance-xor' });
  t.ok(lab.serverInterfaces.some((i) => i.ifname === 'srv0.20.7' && i.addresses.some((a) => a.startsWith('10.2.2.'))), 'srv0.20.7 reaches data1');
  t.ok(lab.batches.at(-1)!.lines.includes('link add link srv0.20 name srv0.20.7 type vlan id 7'));
});
