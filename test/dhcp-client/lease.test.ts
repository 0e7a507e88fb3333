// Lease fields from an ACK: prefix from option 1, broadcast from option 28 or computed.

import t from 'tap';
import { createMessage, MESSAGE_TYPE, OP, OPTION } from '../../src/dhcp-packet/index.js';
import { broadcastOf, classfulPrefix, DhcpLease, leaseFromAck, maskToPrefix } from '../../src/dhcp-client/lease.js';

t.test('netmask to prefix length', async (t) => {
  for (const [mask, len] of [['255.255.255.0', 24], ['255.255.255.255', 32], ['0.0.0.0', 0], ['255.255.240.0', 20], ['128.0.0.0', 1]] as const) {
    t.equal(maskToPrefix(mask), len, mask);
  }
  t.equal(maskToPrefix('255.0.255.0'), undefined, 'not contiguous');
  t.equal(maskToPrefix('nonsense'), undefined);
  t.equal(classfulPrefix('10.1.2.3'), 8);
  t.equal(classfulPrefix('172.16.0.1'), 16);
  t.equal(classfulPrefix('192.168.1.1'), 24);
  t.equal(broadcastOf('10.1.1.2', 24), '10.1.1.255');
  t.equal(broadcastOf('10.1.1.2', 20), '10.1.15.255');
  t.equal(broadcastOf('10.1.1.2', 32), '10.1.1.2');
  t.equal(broadcastOf('10.1.1.2', 0), '255.255.255.255');
});

t.test('an ACK becomes a lease that passes its own schema', async (t) => {
  const ack = createMessage({
    op: OP.BOOTREPLY, type: MESSAGE_TYPE.ACK, xid: 1, yiaddr: '10.1.1.2',
    options: [[OPTION.SERVER_ID, '10.1.1.1'], [OPTION.LEASE_TIME, 600], [OPTION.SUBNET_MASK, '255.255.255.0'], [OPTION.BROADCAST_ADDRESS, '10.1.1.127']],
  });
  const r = leaseFromAck(ack, { identifier: 'x:mgmt0:Filer1', interface: 'mgmt0', requestedAt: 5000 });
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.lease.broadcast, '10.1.1.127', 'option 28 wins over the computed one');
  t.equal(r.lease.expiresAt, 5000 + 600_000);
  t.same(r.warnings, []);
  t.ok(DhcpLease.safeParse(r.lease).success);
  const noServer = createMessage({ op: OP.BOOTREPLY, type: MESSAGE_TYPE.ACK, xid: 1, yiaddr: '10.1.1.2', options: [[OPTION.LEASE_TIME, 600]] });
  const bad = leaseFromAck(noServer, { identifier: 'x', interface: 'mgmt0', requestedAt: 0 });
  t.same(bad, { ok: false, reason: 'ACK without a server identifier (option 54)' });
  const fallback = leaseFromAck(noServer, { identifier: 'x', interface: 'mgmt0', requestedAt: 0, fallbackServerId: '10.1.1.1' });
  t.ok(fallback.ok && fallback.lease.serverId === '10.1.1.1', 'server id of the REQUEST when the ACK has none');
});
