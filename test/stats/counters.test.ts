// Reading the kernel's counters: rackstrap's counting rules out of `iptables -w -v -S` (the form
// iptables-nft 1.8.9 prints, other rules of the same table left out) and the per-device figures
// out of `ip -s -j link`.
import t from 'tap';
import { parseDeviceStats, parseIptablesCounters } from '../../src/stats/counters.js';

const IPTABLES = `-P INPUT ACCEPT -c 912 81234
-P FORWARD ACCEPT -c 0 0
-P OUTPUT ACCEPT -c 877 80011
-N RACKSTRAP-IN
-N RACKSTRAP-OUT
-A INPUT -c 912 81234 -j RACKSTRAP-IN
-A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 22 -m comment --comment "admin ssh" -c 40 2400 -j ACCEPT
-A OUTPUT -c 877 80011 -j RACKSTRAP-OUT
-A RACKSTRAP-IN -d 10.2.2.3/32 -m comment --comment vs.VsvrA -c 29 3536
-A RACKSTRAP-IN -d 10.2.2.3/32 -p tcp -m comment --comment vs.VsvrA -c 0 0
-A RACKSTRAP-IN -d 10.2.2.3/32 -p udp -m comment --comment vs.VsvrA -c 25 3200
-A RACKSTRAP-IN -d 10.2.2.3/32 -p icmp -m comment --comment vs.VsvrA -c 4 336
-A RACKSTRAP-OUT -s 10.2.2.3/32 -m comment --comment "vs.VsvrA" -c 29 3536
-A RACKSTRAP-IN -d 10.3.3.3/32 -m comment --comment vs.VsvrB -c 5000000000 7000000000000
`;

t.test("rackstrap's counting rules, and nothing else", async (t) => {
  t.same(parseIptablesCounters(IPTABLES), [
    { server: 'VsvrA', address: '10.2.2.3', dir: 'in', packets: 29, bytes: 3536 },
    { server: 'VsvrA', address: '10.2.2.3', dir: 'in', proto: 'tcp', packets: 0, bytes: 0 },
    { server: 'VsvrA', address: '10.2.2.3', dir: 'in', proto: 'udp', packets: 25, bytes: 3200 },
    { server: 'VsvrA', address: '10.2.2.3', dir: 'in', proto: 'icmp', packets: 4, bytes: 336 },
    { server: 'VsvrA', address: '10.2.2.3', dir: 'out', packets: 29, bytes: 3536 },
    { server: 'VsvrB', address: '10.3.3.3', dir: 'in', packets: 5_000_000_000, bytes: 7_000_000_000_000 },
  ]);
  t.same(parseIptablesCounters(''), [], 'no table, no counters');
});

t.test('device figures from ip -s -j link', async (t) => {
  const json = [
    { ifname: 'lo', stats64: { rx: { bytes: 10, packets: 1, errors: 0, dropped: 0 }, tx: { bytes: 10, packets: 1, errors: 0, dropped: 0 } } },
    { ifname: 'bond0', stats64: { rx: { bytes: 9000, packets: 60, errors: 1, dropped: 2, over_errors: 0, multicast: 3 }, tx: { bytes: 7000, packets: 50, errors: 3, dropped: 4, carrier_errors: 0 } } },
    { ifname: 'eth9' },
  ];
  t.same(parseDeviceStats(json), [
    { ifname: 'lo', rx: { packets: 1, bytes: 10 }, tx: { packets: 1, bytes: 10 }, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0 },
    { ifname: 'bond0', rx: { packets: 60, bytes: 9000 }, tx: { packets: 50, bytes: 7000 }, rxErrors: 1, txErrors: 3, rxDropped: 2, txDropped: 4 },
  ], 'a link without stats64 is left out');
  t.same(parseDeviceStats({ not: 'a list' }), []);
});
