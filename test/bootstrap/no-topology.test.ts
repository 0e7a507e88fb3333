// The agent's "no topology" message names the identifier it asked for, where its base MAC came
// from, and what the description must say for the DHCP configs to hold that identifier.
import t from 'tap';
import { noTopologyAdvice } from '../../src/bootstrap/no-topology.js';

const base = { clusterId: '00:07:34:04:12:0E', vendorClass: 'rackstrap', nics: { eth1: 'eth1', eth0: 'eth0' } };

t.test('a base MAC read from eth0: the identifier, its source, and eth0 in the description', async (t) => {
  const s = noTopologyAdvice({ ...base, baseMac: '00:07:34:10:00:01', derivedBaseMac: true }, ['eth0', 'eth1']);
  t.match(s, /^asked on eth0, eth1 for 00:07:34:04:12:0E:00:07:34:10:00:01 \(cluster ID 00:07:34:04:12:0E, base MAC 00:07:34:10:00:01: the permanent MAC of eth0\) with vendor class "rackstrap"/);
  t.match(s, /the cluster description must list this filer with eth0 00:07:34:10:00:01 and no other baseMac, under cluster ID 00:07:34:04:12:0E/);
});

t.test('a configured base MAC: the description must carry the same baseMac; a NIC map shows the kernel name', async (t) => {
  const s = noTopologyAdvice({ ...base, nics: { eth0: 'ens3' }, baseMac: '00:07:34:10:00:00', derivedBaseMac: false }, ['ens3']);
  t.match(s, /base MAC 00:07:34:10:00:00: as configured \(baseMac\)/);
  t.match(s, /must give this filer baseMac: 00:07:34:10:00:00/);
  const derived = noTopologyAdvice({ ...base, nics: { eth0: 'ens3' }, baseMac: '52:54:00:00:00:01', derivedBaseMac: true }, ['ens3']);
  t.match(derived, /the permanent MAC of eth0 \(ens3\)/);
});
