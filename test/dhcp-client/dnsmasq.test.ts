// The client against dnsmasq 2.90 in network namespaces (dhcp-host=id:"text", option 43 by
// vendor class). dnsmasq's shortest lease is 2 minutes, so T1 2 s / T2 3 s come from options
// 58/59; the expiry scenario runs against Kea only.

import t from 'tap';
import {
  boundByTextIdentifier, makeEnv, nakOnWrongCachedAddress, renewKeepsTheAddressThenRelease, topologyOnOneOfTwoInterfaces,
  twoIdentifiersShareTheSocket,
} from './helpers/scenarios.js';
import type { RunningServer } from './helpers/servers.js';

/** dnsmasq rewrites its lease file on every change; a released lease's line is gone. */
function released(server: RunningServer, address: string): boolean {
  return !server.leases().split('\n').some((line) => line.split(' ')[2] === address);
}

t.test('dnsmasq', async (t) => {
  const env = await makeEnv(t, 'dnsmasq', 120);
  await t.test('reserved address by text identifier on an address-less interface, junk ignored', (t) => boundByTextIdentifier(t, env));
  await t.test('two identifiers on one interface share the socket, each its own address', (t) => twoIdentifiersShareTheSocket(t, env));
  await t.test('RENEW at T1 keeps the address; RELEASE reaches the lease file', (t) => renewKeepsTheAddressThenRelease(t, env, released));
  await t.test('INIT-REBOOT with a wrong address: NAK, then the reserved address', (t) => nakOnWrongCachedAddress(t, env));
  await t.test('topology request on two interfaces, one reaching the server', (t) => topologyOnOneOfTwoInterfaces(t, env));
});
