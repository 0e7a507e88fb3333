// The client against ISC dhcpd 4.4 in network namespaces (host blocks by dhcp-client-identifier
// text, option 43 from a vendor option space chosen by option 60). 4 s leases, T1 2 s, T2 3 s.

import t from 'tap';
import {
  boundByTextIdentifier, makeEnv, nakOnWrongCachedAddress, renewKeepsTheAddressThenRelease, topologyOnOneOfTwoInterfaces,
  twoIdentifiersShareTheSocket,
} from './helpers/scenarios.js';
import type { RunningServer } from './helpers/servers.js';

/** dhcpd keeps no lease for fixed-address hosts, so the RELEASE is read from its log. */
function released(server: RunningServer, address: string): boolean {
  return server.log().includes(`DHCPRELEASE of ${address} `);
}

t.test('dhcpd', async (t) => {
  const env = await makeEnv(t, 'dhcpd', 4);
  await t.test('reserved address by text identifier on an address-less interface, junk ignored', (t) => boundByTextIdentifier(t, env));
  await t.test('two identifiers on one interface share the socket, each its own address', (t) => twoIdentifiersShareTheSocket(t, env));
  await t.test('RENEW at T1 keeps the address; RELEASE reaches the server', (t) => renewKeepsTheAddressThenRelease(t, env, released));
  await t.test('INIT-REBOOT with a wrong address: NAK, then the reserved address', (t) => nakOnWrongCachedAddress(t, env));
  await t.test('topology request on two interfaces, one reaching the server', (t) => topologyOnOneOfTwoInterfaces(t, env));
});
