// Switch mistakes from the bonding driver's own report (/proc/net/bonding/<bond>, in the format
// Linux 6.1 prints) and link state: each mistake is found, named with its fix, and a correct LACP
// bond gives no finding.
import t from 'tap';
import type { ObservedLink, ObservedState } from '../../src/net/observe.js';
import { checkSwitch, parseProcBonding } from '../../src/net/switch-check.js';

const SWITCH_A = '52:54:00:aa:00:01';
const SWITCH_B = '52:54:00:bb:00:01';

function member(name: string, o: { partner?: string; key?: number; state?: number; speed?: string; duplex?: string } = {}): string {
  return `
Slave Interface: ${name}
MII Status: up
Speed: ${o.speed ?? '10000 Mbps'}
Duplex: ${o.duplex ?? 'full'}
Link Failure Count: 0
Permanent HW addr: 02:00:00:00:00:0${name.slice(-1)}
Slave queue ID: 0
Aggregator ID: 1
Actor Churn State: none
Partner Churn State: none
Actor Churned Count: 0
Partner Churned Count: 0
details actor lacp pdu:
    system priority: 65535
    system mac address: 02:00:00:00:00:02
    port key: 15
    port priority: 255
    port number: 1
    port state: ${o.state ?? 61}
details partner lacp pdu:
    system priority: 65535
    system mac address: ${o.partner ?? SWITCH_A}
    oper key: ${o.key ?? 9}
    port priority: 255
    port number: 1
    port state: 61
`;
}

function proc(...members: string[]): string {
  return `Ethernet Channel Bonding Driver: v6.1.0

Bonding Mode: IEEE 802.3ad Dynamic link aggregation
Transmit Hash Policy: layer3+4 (1)
MII Status: up
MII Polling Interval (ms): 100

802.3ad info
LACP active: on
LACP rate: fast
${members.join('')}`;
}

const link = (ifname: string, extra: Partial<ObservedLink> = {}): ObservedLink => ({ ifname, ifindex: 1, up: true, carrier: true, mtu: 9000, owned: false, ...extra });
const observed = (links: ObservedLink[]): ObservedState => ({ links, addresses: [], routes: [], rules: [], iptables: { available: false, reason: 'n/a' } });
const LINKS = observed([link('eth2', { master: 'bond0' }), link('eth3', { master: 'bond0' }), link('bond0', { kind: 'bond', owned: true })]);

t.test('the driver report parses', async (t) => {
  const b = parseProcBonding(proc(member('eth2'), member('eth3', { partner: '00:00:00:00:00:00', key: 1, state: 69 })));
  t.equal(b.mode, '802.3ad');
  t.same(b.members[1], { ifname: 'eth3', miiStatus: 'up', speed: 10000, duplex: 'full', aggregatorId: 1, actorState: 69, partnerMac: '00:00:00:00:00:00', partnerKey: 1 });
});

t.test('a correct LACP bond gives no finding', async (t) => {
  t.same(checkSwitch({ observed: LINKS, bonds: new Map([['bond0', parseProcBonding(proc(member('eth2'), member('eth3')))]]), devices: [] }), []);
});

const cases: Array<[string, string, RegExp]> = [
  ['lacp-no-partner', proc(member('eth2'), member('eth3', { partner: '00:00:00:00:00:00', key: 1, state: 69 })), /eth3 .* hears no LACP .*partner MAC 00:00:00:00:00:00/],
  ['lacp-split', proc(member('eth2'), member('eth3', { partner: SWITCH_B, key: 17 })), /members of bond0 see different LACP partners: eth2 → 52:54:00:aa:00:01 key 9, eth3 → 52:54:00:bb:00:01 key 17/],
  ['not-distributing', proc(member('eth2'), member('eth3', { state: 0x0d })), /eth3 .* not distributing \(actor state 0xd\)/],
  ['speed-mismatch', proc(member('eth2'), member('eth3', { speed: '1000 Mbps' })), /eth2 10000 Mb\/s full, eth3 1000 Mb\/s full/],
  ['speed-mismatch', proc(member('eth2'), member('eth3', { duplex: 'half' })), /eth2 10000 Mb\/s full, eth3 10000 Mb\/s half/],
];
for (const [kind, text, message] of cases) {
  t.test(`${kind} is found with a fix`, async (t) => {
    const found = checkSwitch({ observed: LINKS, bonds: new Map([['bond0', parseProcBonding(text)]]), devices: [] });
    const mine = found.filter((p) => p.kind === kind);
    t.equal(mine.length, 1, JSON.stringify(found));
    t.match(mine[0]!.message, message);
    t.ok(mine[0]!.fix.length > 20, 'a fix for the switch admin');
  });
}

t.test('a VLAN that hears nothing while its sibling does', async (t) => {
  const o = observed([link('bond0', { kind: 'bond' }), link('bond0.10', { kind: 'vlan', parent: 'bond0', vlanId: 10 }), link('bond0.20', { kind: 'vlan', parent: 'bond0', vlanId: 20 })]);
  const dev = (ifname: string, packets: number) => ({ ifname, rx: { packets } });
  const found = checkSwitch({ observed: o, bonds: new Map(), devices: [dev('bond0.10', 15), dev('bond0.20', 0)] });
  t.same(found.map((p) => [p.kind, p.ifname]), [['vlan-silent', 'bond0.20']]);
  t.match(found[0]!.fix, /allow VLAN 20 tagged on the switch ports of bond0/);
  t.same(checkSwitch({ observed: o, bonds: new Map(), devices: [dev('bond0.10', 0), dev('bond0.20', 0)] }), [], 'all silent: nothing to compare with');
});

t.test('one switch, two port channels: the same partner system under two keys at one speed is a split', async (t) => {
  const found = checkSwitch({ observed: LINKS, bonds: new Map([['bond0', parseProcBonding(proc(member('eth2'), member('eth3', { key: 17, state: 0x07 })))]]), devices: [] });
  t.same(found.map((p) => [p.kind, p.ifname]), [['lacp-split', 'bond0']], 'the split explains the member held back');
  t.match(found[0]!.fix, /into one port channel: the switch answers them under 2 different keys/);
});

t.test('a member at another speed: its own key, held out of distributing, and no split', async (t) => {
  // What Linux 6.1 printed for a 20000 Mb/s member among 10000 Mb/s ones, LACP partner a Linux
  // bond: the driver keys each port by its speed (15 for 10G, 19 for 20G) on both ends.
  const text = proc(member('eth2', { key: 15, state: 63 }), member('eth3', { key: 19, state: 7, speed: '20000 Mbps' }));
  const found = checkSwitch({ observed: LINKS, bonds: new Map([['bond0', parseProcBonding(text)]]), devices: [] });
  t.same(found.map((p) => [p.kind, p.ifname]).sort(), [['not-distributing', 'eth3'], ['speed-mismatch', 'bond0']]);
  const stuck = found.find((p) => p.kind === 'not-distributing')!;
  t.match(stuck.message, /eth3 \(member of bond0\) has a LACP partner but is not distributing \(actor state 0x7, 20000 Mb\/s full while the others run at 10000 Mb\/s full\)/);
  t.match(stuck.fix, /set the switch port of eth3 to the speed and duplex of bond0's other ports \(10000 Mb\/s full\)/);
});

t.test('two members at two speeds: the one the driver holds back is the odd one, whichever comes first', async (t) => {
  const text = proc(member('eth2', { key: 19, state: 7, speed: '20000 Mbps' }), member('eth3', { key: 15, state: 63 }));
  const stuck = checkSwitch({ observed: LINKS, bonds: new Map([['bond0', parseProcBonding(text)]]), devices: [] }).find((p) => p.kind === 'not-distributing');
  t.match(stuck?.message, /eth2 .*20000 Mb\/s full while the others run at 10000 Mb\/s full/);
});
