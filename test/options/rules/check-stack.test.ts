// checkStack: the stack-only rules, as the agent runs them on a topology decoded from DHCP.
import t from 'tap';
import { Stack } from '../../../src/options/schema.js';
import { checkStack } from '../../../src/options/rules/index.js';

const good = Stack.parse({
  bonds: { bond0: { mode: '802.3ad', members: ['eth0', 'eth1'], lacpRate: 'fast', miimon: 100 }, bond1: { mode: 'active-backup', members: ['eth2', 'eth3'], miimon: 100 } },
  failovers: { fail0: { members: ['bond0.10', 'bond1.10'], primary: 'bond0.10', miimon: 100 } },
  vlans: ['bond0.10', 'bond1.10', 'bond0.20', 'data0.5', 'data0.6'],
  aliases: { mgmt0: 'fail0', data0: 'bond0.20', san0: 'bond0.20' },
  mtu: { bond0: 9000, 'bond0.20': 9000, data0: 1500 },
});

function problems(stack: unknown, nics?: string[]) {
  return checkStack(Stack.parse(stack), nics ? { nics } : {}).map((p) => `${p.severity === 'warning' ? 'warning ' : ''}${p.field}: ${p.rule}`);
}

t.test("the seed's shapes pass: fail0 over bond0.10 and bond1.10, several VLANs and aliases on one interface, data0.5", async (t) => {
  t.same(checkStack(good, { nics: ['eth0', 'eth1', 'eth2', 'eth3'] }), []);
  t.same(checkStack(good), [], 'without a NIC list any eth# is a NIC');
});

t.test('each broken stack names its field and rule', async (t) => {
  const cases: Array<[unknown, RegExp, string[]?]> = [
    [{ bonds: { bond0: { mode: 'balance-rr', members: ['eth0', 'eth9'] } }, aliases: { data0: 'bond0' } }, /^bonds\.bond0\.members\[1\]: member eth9 is not a NIC of this stack \(its NICs: eth0, eth1\)/, ['eth0', 'eth1']],
    [{ bonds: { bond0: { mode: 'balance-rr', members: ['eth0', 'eth1'] }, bond1: { mode: 'balance-rr', members: ['bond0', 'eth2'] } }, aliases: { data0: 'bond1' } }, /^bonds\.bond1\.members\[0\]: bond0 is a bond: a bond's members are NICs or VLANs/],
    [{ bonds: { bond0: { mode: 'balance-rr', members: ['eth0', 'eth1'] } }, failovers: { fail0: { members: ['bond0', 'eth2'] }, fail1: { members: ['fail0', 'eth3'] } }, aliases: { mgmt0: 'fail1' } }, /^failovers\.fail1\.members\[0\]: fail0 is a failover group: failover groups do not nest/],
    [{ failovers: { fail0: { members: ['eth0', 'mgmt0'] } }, aliases: { mgmt0: 'eth1', mgmt1: 'fail0' } }, /^failovers\.fail0\.members\[1\]: mgmt0 is an alias; aliases sit on top of the stack/],
    [{ failovers: { fail0: { members: ['fail0.5', 'eth1'] } }, vlans: ['fail0.5'], aliases: { mgmt0: 'fail0' } }, /^failovers\.fail0: fail0 → fail0\.5 → fail0 is a loop/],
    [{ bonds: { bond0: { mode: 'balance-rr', members: ['eth0', 'eth0'] } }, aliases: { data0: 'bond0' } }, /^bonds\.bond0\.members\[1\]: eth0 is listed twice/],
    [{ bonds: { bond0: { mode: 'balance-rr', members: ['eth0', 'eth1'] } }, aliases: { data0: 'bond0', mgmt0: 'eth1' } }, /^aliases\.mgmt0: alias mgmt0 sits on eth1, which is a member of bond0/],
    [{ bonds: { bond0: { mode: 'balance-rr', members: ['eth0', 'eth1'] } }, aliases: { data0: 'bond0' }, mtu: { bond0: 9000, data0: 9216 } }, /^mtu\.data0: MTU 9216 of data0 is above the 9000 of bond0/],
    [{ bonds: { bond0: { mode: 'balance-rr', members: ['eth0', 'eth1'] } }, failovers: { fail0: { members: ['bond0.10', 'eth2'] } }, vlans: ['bond0.10'], aliases: { data0: 'fail0' }, mtu: { fail0: 9000 } }, /^mtu\.fail0: MTU 9000 of fail0 does not fit its member bond0\.10, whose parent bond0 has MTU 1500/],
    [{ bonds: { bond0: { mode: 'active-backup', members: ['eth0', 'eth1'], primary: 'eth2' } }, aliases: { data0: 'bond0' } }, /^bonds\.bond0\.primary: primary eth2 is not a member of bond0/],
    [{ bonds: { bond0: { mode: 'broadcast', members: ['eth0', 'eth1'], hashPolicy: 'layer2' } }, aliases: { data0: 'bond0' } }, /^bonds\.bond0\.hashPolicy: hashPolicy applies to modes/],
    [{ vlans: ['eth0.5'], aliases: { data0: 'eth0.6' } }, /^aliases\.data0: alias data0 sits on eth0\.6, but eth0\.6 does not exist on this stack/],
    [{ aliases: { 'data0.5': 'eth0' } }, /^aliases\["data0\.5"\]: data0\.5 is a VLAN on alias data0: list it under vlans/],
    [{ bonds: { eth0: { mode: 'balance-rr', members: ['eth1', 'eth2'] } } }, /^bonds\.eth0: eth0 is a NIC name/],
    [{ vlans: ['eth0.5'], aliases: { data0: 'eth0.5' }, mtu: { eth7: 1500 } }, /^mtu\.eth7: MTU set for eth7, which does not exist/, ['eth0']],
  ];
  for (const [stack, re, nics] of cases) {
    const got = problems(stack, nics);
    t.ok(got.some((g) => re.test(g)), `${re}\n  got: ${got.join('\n       ')}`);
  }
});

t.test('warnings: members on different VLANs, miimon 0, a lone member, something carrying nothing', async (t) => {
  const got = problems({
    bonds: { bond0: { mode: 'active-backup', members: ['eth0'], miimon: 0 } },
    failovers: { fail0: { members: ['bond0.10', 'eth1'] } },
    vlans: ['bond0.10', 'eth2.7'],
    aliases: { mgmt0: 'fail0' },
  });
  t.match(got, [
    /^warning bonds\.bond0\.miimon: miimon 0 turns link monitoring off/,
    /^warning bonds\.bond0\.members: bond0 has a single member/,
    /^warning failovers\.fail0\.members: the members of fail0 reach different VLANs \(bond0\.10: 10, eth1: untagged\)/,
    /^warning vlans\[1\]: eth2\.7 carries nothing/,
  ]);
  t.equal(got.length, 4, got.join('\n'));
});
