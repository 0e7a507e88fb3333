// The writer's refusals (each typed, naming what is wrong) and its packing decisions.
import t from 'tap';
import type { Topology } from '../../../src/options/schema.js';
import {
  decodeTopology,
  encodeTopology,
  ObjectTooLongError,
  WireEncodeError,
} from '../../../src/options/wire/index.js';

const base: Topology = {
  filer: 'Filer1',
  generation: 3,
  stack: { bonds: {}, failovers: {}, vlans: ['eth0.5'], aliases: { mgmt0: 'eth0.5' }, mtu: {} },
  vservers: [],
  mysql: [],
};
const withStack = (stack: Partial<Topology['stack']>, more: Partial<Topology> = {}): Topology => ({
  ...base,
  ...more,
  stack: { ...base.stack, ...stack },
});

t.test('an object over 253 bytes: ObjectTooLongError naming the object and its size', async (t) => {
  const addresses = Array.from({ length: 40 }, (_, i) => ({ alias: 'mgmt0', instance: i }));
  const big = { ...base, vservers: [{ name: 'VsvrBig', table: 5, addresses }] };
  try {
    encodeTopology(big);
    t.fail('expected a refusal');
  } catch (e) {
    t.ok(e instanceof ObjectTooLongError);
    t.match(e, { code: 'RS_WIRE_OBJECT_TOO_LONG', object: 'vs VsvrBig' });
    t.ok((e as ObjectTooLongError).size > 253);
    t.match((e as Error).message, /"vs VsvrBig" is \d+ bytes; a sub-option holds at most 253/);
  }
});

t.test('more objects than codes 3..254', async (t) => {
  const mtu = Object.fromEntries(Array.from({ length: 253 }, (_, i) => [`eth${i}`, 1500]));
  t.throws(() => encodeTopology(withStack({ mtu })), { code: 'RS_WIRE_TOO_MANY_OBJECTS' });
  const fits = Object.fromEntries(Array.from({ length: 251 }, (_, i) => [`eth${i}`, 1500]));
  const objs = encodeTopology(withStack({ mtu: fits }));
  t.equal(objs.at(-1)!.code, 254, 'the last code is 254');
  t.same(decodeTopology(objs).topology.stack.mtu, fits);
});

t.test('MySQL roles on the same aliases share objects, split when one would be too long', async (t) => {
  const roles = ['MySQLMgmtNode', ...Array.from({ length: 30 }, (_, i) => `MySQLDataNode${i + 1}`), ...Array.from({ length: 30 }, (_, i) => `MySQLAppNode${i + 1}`)];
  const x: Topology = { ...base, mysql: roles.map((role) => ({ role, aliases: ['mgmt0'] })) };
  const objs = encodeTopology(x);
  const mysqlObjs = objs.filter((o) => o.text.startsWith('mysql '));
  t.ok(mysqlObjs.length > 1, `${mysqlObjs.length} objects`);
  t.ok(mysqlObjs.every((o) => o.text.length <= 253 && o.text.endsWith(' on=mgmt0')));
  t.same(decodeTopology(objs).topology.mysql.map((m) => m.role), roles, 'decoded in the seed order: Mgmt, Data n, App n');
  const split: Topology = {
    ...base,
    mysql: [
      { role: 'MySQLMgmtNode', aliases: ['mgmt0'] },
      { role: 'MySQLDataNode1', aliases: ['mgmt0', 'eth0.5'] },
    ],
  };
  t.same(encodeTopology(split).filter((o) => o.text.startsWith('mysql ')).map((o) => o.text), [
    'mysql MySQLMgmtNode on=mgmt0',
    'mysql MySQLDataNode1 on=mgmt0+eth0.5',
  ]);
});

const refusals: Array<[string, Topology, string, RegExp]> = [
  ['alias on an undeclared VLAN', withStack({ vlans: [] }), 'RS_WIRE_UNREPRESENTABLE', /VLAN "eth0.5" is used but not declared/],
  ['VLAN on an undeclared VLAN', withStack({ vlans: ['eth0.5', 'bond0.1.2'] }), 'RS_WIRE_UNREPRESENTABLE', /"bond0.1.2" sits on VLAN "bond0.1"/],
  ['MTU of an undeclared bond', withStack({ mtu: { bond3: 9000 } }), 'RS_WIRE_UNREPRESENTABLE', /mtu: "bond3" is not declared/],
  ['a bond under the wrong name', withStack({ bonds: { eth7: { mode: 'balance-rr', members: ['eth1'] } } }), 'RS_WIRE_UNREPRESENTABLE', /"eth7" is not a bond# name/],
  ['an alias under the wrong name', withStack({ aliases: { 'data0.5': 'eth0' } }), 'RS_WIRE_UNREPRESENTABLE', /"data0.5" is not a mgmt#\/data#\/san# name/],
  ['a name declared twice across sections', withStack({ vlans: ['eth0.5', 'eth0.5'] }), 'RS_WIRE_UNREPRESENTABLE', /also declared/],
  ['two names that differ only in case', withStack({ mtu: { eth1: 1500, ETH1: 9000 } }), 'RS_WIRE_UNREPRESENTABLE', /given twice/],
  ['a member outside the naming rules', withStack({ bonds: { bond0: { mode: 'balance-rr', members: ['en0'] } } }), 'RS_WIRE_UNREPRESENTABLE', /"en0" is not an allowed/],
  ['a filer name with a space', { ...base, filer: 'Filer 1' }, 'RS_WIRE_UNREPRESENTABLE', /filer "Filer 1"/],
  ['a virtual server name with a comma', { ...base, vservers: [{ name: 'A,B', table: 1, addresses: [{ alias: 'mgmt0', instance: 0 }] }] }, 'RS_WIRE_UNREPRESENTABLE', /virtual server "A,B"/],
  ['a virtual server twice', { ...base, vservers: [1, 2].map((table) => ({ name: 'V', table, addresses: [{ alias: 'mgmt0', instance: 0 }] })) }, 'RS_WIRE_UNREPRESENTABLE', /listed twice/],
  ['a MySQL role twice', { ...base, mysql: [{ role: 'MySQLMgmtNode', aliases: ['mgmt0'] }, { role: 'MySQLMgmtNode', aliases: ['mgmt1'] }] }, 'RS_WIRE_UNREPRESENTABLE', /listed twice/],
  ['a schema violation (table 255)', { ...base, vservers: [{ name: 'V', table: 255, addresses: [{ alias: 'mgmt0', instance: 0 }] }] }, 'RS_WIRE_SCHEMA', /default\/main\/local/],
];

t.test('refusals', async (t) => {
  for (const [what, x, code, re] of refusals) {
    try {
      encodeTopology(x);
      t.fail(`${what}: expected a refusal`);
    } catch (e) {
      t.ok(e instanceof WireEncodeError, `${what}: WireEncodeError`);
      t.equal((e as WireEncodeError).code, code, `${what}: ${code}`);
      t.match((e as Error).message, re, `${what}: ${(e as Error).message}`);
    }
  }
});
