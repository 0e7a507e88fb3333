// The generated kea configuration in the real kea, asked by the real dhclient (see
// helpers/prove-server.ts for what is proved).
import t from 'tap';
import { proveServer } from './helpers/prove-server.js';

t.test('kea', async (t) => {
  await proveServer(t, 'kea', 'rsgenkea');
});
