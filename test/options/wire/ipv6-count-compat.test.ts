// The topology's IPv6 count (`~v6=` in the header, format 1.1) is skipped by a 1.0 reader (the
// frozen copy, test/helpers/wire-1.0), signed or not: the same rule the cache follows
// (test/cache/compat.test.ts) — an older minor reads the rest, only a new major is refused.
import t from 'tap';
import type { Topology } from '../../../src/options/schema.js';
import { decodeTopology, encodeTopology, subOptionsToBytes } from '../../../src/options/wire/index.js';
import { decodeTopology as decodeTopology10 } from '../../helpers/wire-1.0/index.js';

const KEY = Buffer.from('ipv6-count-test-cluster-key-0123');
const topology: Topology = {
  filer: 'Filer2',
  generation: 3,
  stack: { bonds: {}, failovers: {}, vlans: [], aliases: { mgmt0: 'eth0', data0: 'eth1' }, mtu: {} },
  vservers: [{ name: 'VsvrB', table: 2, addresses: [{ alias: 'data0', instance: 0 }] }],
  mysql: [],
  ipv6: 2,
};
const { ipv6: _count, ...without } = topology;

t.test('a 1.0 reader skips the IPv6 count and reads everything else', async (t) => {
  for (const key of [undefined, KEY]) {
    const bytes = subOptionsToBytes(encodeTopology(topology, key ? { key } : {}));
    t.match(bytes.toString('latin1'), /~v6=2/, 'the count is on the wire');
    const old = decodeTopology10(bytes, key ? { key, requireSignature: true } : {});
    t.same(old.topology, without, `${key ? 'signed' : 'unsigned'}: the same topology without the count`);
    t.ok(old.skipped.includes('sub-option 1 (header): ~v6'), 'and says what it skipped');
    t.equal(decodeTopology(bytes, key ? { key, requireSignature: true } : {}).topology.ipv6, 2, 'this version reads it');
  }
});
