// The generated dhcpd configuration in the real dhcpd, asked by the real dhclient (see
// helpers/prove-server.ts for what is proved).
import t from 'tap';
import { proveServer } from './helpers/prove-server.js';

t.test('dhcpd', async (t) => {
  await proveServer(t, 'dhcpd', 'rsgendhcpd');
});
