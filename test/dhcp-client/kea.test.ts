// The client against ISC Kea 2.2 in network namespaces (raw sockets, reservations by the text
// client identifier, option 43 from a client class on option 60). 4 s leases: T1 2 s, T2 3 s.

import t from 'tap';
import {
  boundByTextIdentifier, makeEnv, nakOnWrongCachedAddress, renewKeepsTheAddressThenRelease, serverGoneRebindThenExpiry,
  topologyOnOneOfTwoInterfaces, twoIdentifiersShareTheSocket,
} from './helpers/scenarios.js';
import type { RunningServer } from './helpers/servers.js';

/** Kea's memfile appends every change; a RELEASE is a row for the address with valid lifetime 0. */
function released(server: RunningServer, address: string): boolean {
  const csv = server.leases();
  // address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,...
  return csv.split('\n').some((row) => {
    const cols = row.split(',');
    return cols[0] === address && cols[3] === '0';
  });
}

t.test('Kea', async (t) => {
  const env = await makeEnv(t, 'kea', 4);
  await t.test('reserved address by text identifier on an address-less interface, junk ignored', (t) => boundByTextIdentifier(t, env));
  await t.test('two identifiers on one interface share the socket, each its own address', (t) => twoIdentifiersShareTheSocket(t, env));
  await t.test('RENEW at T1 keeps the address; RELEASE reaches the lease file', (t) => renewKeepsTheAddressThenRelease(t, env, released));
  await t.test('INIT-REBOOT with a wrong address: NAK, then the reserved address', (t) => nakOnWrongCachedAddress(t, env));
  await t.test('topology request on two interfaces, one reaching the server', (t) => topologyOnOneOfTwoInterfaces(t, env));
  await t.test('server stopped: RENEWING, REBINDING, expiry event', (t) => serverGoneRebindThenExpiry(t, env));
});
