// The NIC map and base MAC defaults: every eth<N> as itself, base MAC = permanent MAC of the lowest
// eth# (a bond member's current MAC is the bond's). From `ip -j link show` output via a fake runner.
import t from 'tap';
import { defaultBaseMac, defaultNicMap, listHostLinks, NicDiscoveryError, resolveNicIdentity } from '../../src/bootstrap/nic-discovery.js';
import type { Runner } from '../../src/net/runner.js';

const IP_LINK = [
  { ifname: 'lo', link_type: 'loopback', address: '00:00:00:00:00:00' },
  { ifname: 'eth10', link_type: 'ether', address: '02:00:00:00:00:10' },
  { ifname: 'eth2', link_type: 'ether', address: '02:00:00:00:00:02', permaddr: '02:00:00:00:00:aa' },
  { ifname: 'ens3', link_type: 'ether', address: '02:00:00:00:00:33' },
  { ifname: 'mgmt0', link_type: 'ether', address: '02:00:00:00:00:44' },
  { ifname: 'eth02', link_type: 'ether', address: '02:00:00:00:00:55' },
];

function fakeRunner(stdout: string, exitCode = 0): Runner & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    run: async (argv) => {
      calls.push([...argv]);
      return { argv, exitCode, stdout, stderr: exitCode === 0 ? '' : 'Cannot open netlink socket' };
    },
  };
}

t.test('eth<N> links map to themselves; the lowest one gives the base MAC, permanent first', async (t) => {
  const links = await listHostLinks(fakeRunner(JSON.stringify(IP_LINK)));
  const nics = defaultNicMap(links);
  t.same(nics, { eth2: 'eth2', eth10: 'eth10' }, 'eth02 is not a canonical eth# name; ens3 and mgmt0 are not NICs by name');
  t.same(defaultBaseMac(nics, links), { mac: '02:00:00:00:00:AA' }, 'eth2 is lower than eth10, and its permaddr wins');
  t.same(defaultBaseMac({ eth0: 'ens3', eth1: 'eth10' }, links), { mac: '02:00:00:00:00:33' }, 'through the NIC map');
  t.match(defaultBaseMac({}, links), { why: /no NIC/ });
  t.match(defaultBaseMac({ eth0: 'ens9' }, links), { why: /eth0 \(ens9\)/ });
});

t.test('configured values are used as they are, without asking the host', async (t) => {
  const runner = fakeRunner('[]');
  const id = await resolveNicIdentity({ nics: { eth0: 'ens3' }, baseMac: '02:00:00:00:00:01' }, runner);
  t.same(id, { nics: { eth0: 'ens3' }, baseMac: '02:00:00:00:00:01', derived: { nics: false, baseMac: false } });
  t.same(runner.calls, []);
  const derived = await resolveNicIdentity({}, fakeRunner(JSON.stringify(IP_LINK)));
  t.same(derived, { nics: { eth2: 'eth2', eth10: 'eth10' }, baseMac: '02:00:00:00:00:AA', derived: { nics: true, baseMac: true } });
});

t.test('no eth# at all, or a failing ip, is a clear error naming the setting', async (t) => {
  await t.rejects(resolveNicIdentity({}, fakeRunner(JSON.stringify([IP_LINK[3]]))), { code: 'RS_NICS', message: /RACKSTRAP_NICS/ });
  await t.rejects(resolveNicIdentity({ nics: { eth0: 'ens9' } }, fakeRunner(JSON.stringify(IP_LINK))), { message: /--base-mac/ });
  await t.rejects(listHostLinks(fakeRunner('', 1)), NicDiscoveryError);
  await t.rejects(listHostLinks(fakeRunner('not json')), { message: /no JSON/ });
});
