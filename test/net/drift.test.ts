// Link health, the part of drift that is reported and never repaired: a NIC or bond member without
// carrier, a NIC that is gone, and an alias whose every path to the wire is down, each with the
// reason. The stack is the example filer's shape (two NICs in an 802.3ad bond, a VLAN on it, an
// alias on the VLAN; a third NIC with an alias of its own).
import t from 'tap';
import type { DesiredLink, DesiredState } from '../../src/net/desired.js';
import { linkHealth } from '../../src/net/drift.js';
import type { ObservedLink, ObservedState } from '../../src/net/observe.js';

const links: DesiredLink[] = [
  { kind: 'ethernet', name: 'eth0', ifname: 'eth0' },
  { kind: 'ethernet', name: 'eth1', ifname: 'eth1' },
  { kind: 'ethernet', name: 'eth2', ifname: 'eth2' },
  { kind: 'bond', name: 'bond0', ifname: 'bond0', role: 'bond', mode: '802.3ad', miimon: 100, members: ['eth0', 'eth1'] },
  { kind: 'vlan', name: 'bond0.10', ifname: 'bond0.10', parent: 'bond0', vlanId: 10 },
  { kind: 'macvlan', name: 'data0', ifname: 'data0', parent: 'bond0.10', mac: '02:00:00:00:00:10' },
  { kind: 'macvlan', name: 'mgmt0', ifname: 'mgmt0', parent: 'eth2', mac: '02:00:00:00:00:20' },
];
const desired: DesiredState = { filer: 'Filer1', generation: 1, links, addresses: [], routes: [], rules: [], counters: [] };

const DISTRIBUTING = ['active', 'short_timeout', 'aggregating', 'in_sync', 'collecting', 'distributing'];
const up = (ifname: string, extra: Partial<ObservedLink> = {}): ObservedLink => ({ ifname, ifindex: 1, up: true, carrier: true, mtu: 1500, owned: true, ...extra });
const member = (ifname: string, extra: Partial<ObservedLink> = {}) => up(ifname, { owned: false, master: 'bond0', slave: { adPortState: DISTRIBUTING }, ...extra });
const healthy = (): ObservedLink[] => [member('eth0'), member('eth1'), up('eth2', { owned: false }), up('bond0', { kind: 'bond' }), up('bond0.10', { kind: 'vlan', parent: 'bond0' }), up('data0', { kind: 'macvlan', parent: 'bond0.10' }), up('mgmt0', { kind: 'macvlan', parent: 'eth2' })];
const state = (l: ObservedLink[]): ObservedState => ({ links: l, addresses: [], routes: [], rules: [], iptables: { available: false, reason: 'n/a' } });
const change = (name: string, extra: Partial<ObservedLink>) => healthy().map((l) => (l.ifname === name ? { ...l, ...extra } : l));

t.test('a healthy stack has nothing to say', async (t) => {
  t.same(linkHealth(desired, state(healthy())), []);
});

t.test('one member without carrier: that member is reported, the alias above still has a path', async (t) => {
  const h = linkHealth(desired, state(change('eth1', { carrier: false })));
  t.same(h, [{ ifname: 'eth1', role: 'bond member', problem: 'no-carrier', message: 'eth1 (eth1) has no carrier (member of bond0): check its cable and the switch port' }]);
});

t.test('every member down: each member, and the alias reported down with the reason for every path', async (t) => {
  const l = healthy().map((x) => (x.ifname === 'eth0' ? { ...x, carrier: false } : x.ifname === 'eth1' ? { ...x, slave: { adPortState: ['active', 'aggregating'] } } : x));
  const h = linkHealth(desired, state(l));
  t.same(h.map((x) => [x.ifname, x.problem]), [['eth0', 'no-carrier'], ['data0', 'down']]);
  t.equal(h[1]!.role, 'alias');
  t.equal(h[1]!.message, 'data0 is down: every member of bond0 is down (eth0 has no carrier, eth1 is not distributing (LACP))');
});

t.test('a NIC gone, a NIC without carrier under an alias, a VLAN set down by hand', async (t) => {
  const gone = linkHealth(desired, state(healthy().filter((x) => x.ifname !== 'eth2')));
  t.same(gone.map((x) => [x.ifname, x.problem, x.message]), [
    ['eth2', 'missing', 'eth2 (eth2) is not present on this host'],
    ['mgmt0', 'down', 'mgmt0 is down: eth2 does not exist'],
  ]);
  const cable = linkHealth(desired, state(change('eth2', { carrier: false })));
  t.same(cable.map((x) => [x.ifname, x.role, x.message]), [
    ['eth2', 'nic', 'eth2 (eth2) has no carrier: check its cable and the switch port'],
    ['mgmt0', 'alias', 'mgmt0 is down: eth2 has no carrier'],
  ]);
  const vlan = linkHealth(desired, state(change('bond0.10', { up: false })));
  t.same(vlan.map((x) => x.message), ['data0 is down: bond0.10 is administratively down']);
});
