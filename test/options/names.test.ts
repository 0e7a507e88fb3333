import t from 'tap';
import { parseInterfaceName, vlanBase, vlanPath, isAddressable, isReservedVserverName } from '../../src/options/names.js';

t.test('allowed names parse to their kind, lower-cased', async (t) => {
  const cases: Array<[string, string]> = [
    ['eth0', 'ethernet'], ['ETH12', 'ethernet'], ['bond0', 'bond'], ['fail3', 'failover'],
    ['mgmt0', 'alias'], ['Data1', 'alias'], ['san0', 'alias'], ['bond0.10', 'vlan'], ['fail0.5', 'vlan'],
    ['data0.5', 'vlan'], ['eth0.5.7', 'vlan'],
  ];
  for (const [name, kind] of cases) {
    const r = parseInterfaceName(name);
    t.ok(r.ok, name);
    if (r.ok) {
      t.equal(r.value.kind, kind, `${name} is ${kind}`);
      t.equal(r.value.name, name.toLowerCase());
    }
  }
});

t.test('names outside the rules are refused with the reason', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['en0', /not an allowed interface name/],
    ['eth01', /not an allowed interface name/],
    ['bond0.0', /outside 1-4094/],
    ['bond0.4095', /outside 1-4094/],
    ['bond0.010', /no leading zero/],
    ['foo.10', /VLAN "foo.10": .*not an allowed/],
    ['', /empty/],
    ['bond1000.1000.20', /longer than 15/],
    ['mgmt', /not an allowed/],
  ];
  for (const [name, re] of cases) {
    const r = parseInterfaceName(name);
    t.notOk(r.ok, `${name} refused`);
    if (!r.ok) t.match(r.reason, re, name);
  }
});

t.test('vlan helpers and addressability', async (t) => {
  t.equal(vlanBase('bond0.10.20'), 'bond0');
  t.same(vlanPath('bond0.10.20'), [10, 20]);
  t.same(vlanPath('eth0'), []);
  t.ok(isAddressable('data0.5'));
  t.ok(isAddressable('MGMT1'));
  t.notOk(isAddressable('bond0.10'));
  t.ok(isReservedVserverName('VS_MGMT'));
  t.ok(isReservedVserverName('vs_mgmt2'));
  t.notOk(isReservedVserverName('vsmgmt'));
});
