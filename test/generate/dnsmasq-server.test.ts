// The generated dnsmasq configuration in the real dnsmasq, asked by the real dhclient (see
// helpers/prove-server.ts for what is proved).
import t from 'tap';
import { proveServer } from './helpers/prove-server.js';

t.test('dnsmasq', async (t) => {
  await proveServer(t, 'dnsmasq', 'rsgendnsmasq');
});
