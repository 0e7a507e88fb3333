import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadClusterText } from '../../src/options/load.js';
import { Topology } from '../../src/options/schema.js';
import { addressFactsByFiler, placementsOf, reservationsOf, subnetsOf, topologyFor } from '../../src/options/resolve.js';

const example = readFileSync(join(process.cwd(), 'examples/cluster.yaml'), 'utf8');
const loaded = loadClusterText(example, 'cluster.yaml');

t.test("every identifier of the seed's tables, with its address (§5.2.6.3, §5.11)", async (t) => {
  const table = new Map(reservationsOf(loaded).flatMap((r) => (r.kind === 'topology' ? [] : [[r.identifier, r.address] as const])));
  const seed: Array<[string, string]> = [
    ['data0:VsvrA:0', '10.2.2.1'], ['data0:VsvrA:1', '10.3.3.1'], ['data0:VsvrB:0', '10.3.4.1'], ['data1:VsvrA:0', '10.2.2.3'],
    ['mgmt0:Filer1', '10.1.1.2'], ['mgmt1:Filer1', '10.1.1.3'], ['san0:Filer1', '10.2.2.2'], ['data2:VsvrC:0', '10.3.5.1'],
    ['mgmt0:Filer2', '10.1.1.4'], ['mgmt1:Filer2', '10.1.1.5'],
    ['san0:Filer2', '10.2.2.4'], // the seed says 10.2.2.3, data1:VsvrA:0's address: the one entry changed
    ['mgmt0:MySQLMgmtNode', '10.1.1.10'], ['mgmt1:MySQLMgmtNode', '10.1.1.11'], ['mgmt0:MySQLDataNode1', '10.1.1.12'],
    ['mgmt1:MySQLDataNode1', '10.1.1.13'], ['mgmt0:MySQLDataNode2', '10.1.1.14'], ['mgmt1:MySQLDataNode2', '10.1.1.15'],
    ['mgmt0:MySQLAppNode1', '10.1.1.16'], ['mgmt1:MySQLAppNode1', '10.1.1.17'], ['mgmt0:MySQLAppNode2', '10.1.1.18'],
    ['mgmt1:MySQLAppNode2', '10.1.1.19'], ['mgmt0:MySQLAppNode3', '10.1.1.20'], ['mgmt1:MySQLAppNode3', '10.1.1.21'],
  ];
  t.same(new Map(seed.map(([id, a]) => [`00:07:34:04:12:0E:${id}`, a])), table);
});

t.test('reservations carry kind, names, instance and the subnet with inherited options', async (t) => {
  const rs = reservationsOf(loaded);
  t.same(rs.filter((r) => r.kind === 'topology').map((r) => [r.identifier, r.filer]), [
    ['00:07:34:04:12:0E:00:07:34:10:00:01', 'Filer1'],
    ['00:07:34:04:12:0E:00:07:34:20:00:01', 'Filer2'],
  ]);
  const v = rs.find((r) => r.identifier === '00:07:34:04:12:0E:data0:VsvrA:1');
  t.match(v, { kind: 'vserver', vserver: 'VsvrA', alias: 'data0', instance: 1, home: 'Filer1', family: 4 });
  if (v?.kind === 'vserver') {
    t.same(v.subnet, {
      prefix: '10.3.0.0/16', family: 4, network: '10.3.0.0', prefixLength: 16, netmask: '255.255.0.0',
      routers: ['10.3.255.254'], dns: ['10.1.1.53'], ntp: ['10.1.1.123'], domain: 'lab.example', leaseTime: 86400,
      pool: undefined, bootstrap: undefined,
    });
  }
  t.match(rs.find((r) => r.identifier.endsWith(':mgmt1:MySQLAppNode3')), { kind: 'mysql', role: 'MySQLAppNode3', home: 'Filer2' });
  t.match(rs.find((r) => r.identifier.endsWith(':san0:Filer1')), { kind: 'filer', filer: 'Filer1', alias: 'san0' });
});

t.test("a subnet's own options win over the scope's; lists replace", async (t) => {
  const text = example.replace('      routers: [10.2.2.254]\n', '      routers: [10.2.2.254]\n      dns: [10.2.2.53]\n      leaseTime: 600\n      domain: san.example\n');
  const s = subnetsOf(loadClusterText(text, 'c.yaml'));
  t.match(s[1], { dns: ['10.2.2.53'], ntp: ['10.1.1.123'], leaseTime: 600, domain: 'san.example' });
  t.match(s[0], { dns: ['10.1.1.53'], leaseTime: 86400, bootstrap: { start: '10.1.1.200', end: '10.1.1.215' } });
});

t.test("one filer's topology: its stack and what it brings up at bootstrap", async (t) => {
  const f1 = topologyFor(loaded, 'Filer1');
  t.same(Topology.parse(f1), f1, 'is a valid Topology');
  t.equal(f1.filer, 'Filer1');
  t.equal(f1.generation, 1);
  t.same(f1.vservers, [
    { name: 'VsvrA', table: 1, gateway: '10.2.2.254', addresses: [{ alias: 'data0', instance: 0 }, { alias: 'data0', instance: 1 }, { alias: 'data1', instance: 0 }] },
  ]);
  t.same(f1.mysql.map((m) => m.role), ['MySQLMgmtNode', 'MySQLDataNode1', 'MySQLAppNode1']);
  t.same(f1.mysql[0]?.aliases, ['mgmt0', 'mgmt1']);
  t.notOk('bond1' in f1.stack.bonds);
  const f2 = topologyFor(loaded, 'filer2');
  t.equal(f2.filer, 'Filer2', 'looked up case-insensitively, returned as declared');
  t.same(f2.vservers.map((v) => v.name), ['VsvrB', 'VsvrC']);
  t.same(f2.stack.bonds.bond1?.members, ['eth4', 'eth5']);
  t.throws(() => topologyFor(loaded, 'Filer9'), { code: 'RS_NO_FILER' });
});

t.test("address facts per filer: its own reservations and those of what is homed on it, with the subnet's router", async (t) => {
  const facts = addressFactsByFiler(loaded);
  const f1 = facts.get('Filer1')!;
  t.same(f1.map((f) => f.identifier.slice('00:07:34:04:12:0E:'.length)), [
    'mgmt0:Filer1', 'mgmt1:Filer1', 'san0:Filer1',
    'data0:VsvrA:0', 'data0:VsvrA:1', 'data1:VsvrA:0',
    'mgmt0:MySQLMgmtNode', 'mgmt1:MySQLMgmtNode', 'mgmt0:MySQLDataNode1', 'mgmt1:MySQLDataNode1', 'mgmt0:MySQLAppNode1', 'mgmt1:MySQLAppNode1',
  ]);
  t.match(f1.find((f) => f.identifier.endsWith(':data0:VsvrA:1')), { address: '10.3.3.1', prefixLength: 16, router: '10.3.255.254' });
  t.match(f1.find((f) => f.identifier.endsWith(':mgmt0:Filer1')), { address: '10.1.1.2', prefixLength: 24, router: '10.1.1.254' });
  t.equal(facts.get('Filer2')!.length, 11);
  t.notOk(facts.get('Filer2')!.some((f) => f.identifier.includes('VsvrA')), 'a server is vouched for only on its home filer');
});

t.test('failover reachability per virtual server', async (t) => {
  const p = placementsOf(loaded);
  t.same(p.get('VsvrA'), { vserver: 'VsvrA', listed: false, candidates: ['Filer1', 'Filer2'], hosts: ['Filer1', 'Filer2'], excluded: [] });
  t.same(p.get('VsvrC'), { vserver: 'VsvrC', listed: false, candidates: ['Filer1', 'Filer2'], hosts: ['Filer2'], excluded: [{ filer: 'Filer1', missing: ['data2'] }] });
  const listed = placementsOf(loadClusterText(example.replace('    table: 2\n', '    table: 2\n    filers: [Filer2]\n'), 'c.yaml'));
  t.same(listed.get('VsvrB')?.candidates, ['Filer2']);
});
