// Format 1.1: the gateway, the address tags and the request binding, and what "compatible" means
// across the step: a 1.0 reader (a frozen copy, test/helpers/wire-1.0) reads what 1.1 writes and
// skips what it does not know; a 1.1 reader that checks bindings refuses another filer's genuine
// topology, a replayed one, and a 1.0 or stripped one (the binding is what a forger would remove).
import t from 'tap';
import type { Topology } from '../../../src/options/schema.js';
import {
  addressTag,
  decodeTopology,
  encodeTopology,
  exchangeSigner,
  hasAddressTag,
  parseSubOptions,
  subOptionsToBytes,
  TAGS_PER_OBJECT,
  type AddressFacts,
  type SubOption,
} from '../../../src/options/wire/index.js';
import { decodeTopology as decodeTopology10, encodeTopology as encodeTopology10 } from '../../helpers/wire-1.0/index.js';

const KEY = Buffer.from('binding-test-cluster-key-0123456789');
const OTHER_KEY = Buffer.from('another-cluster-key-9876543210-xyz');
const CID = '02:00:00:00:12:0E';
const FILER1 = { clusterId: CID, baseMac: '02:00:00:10:00:00' };
const FILER2 = { clusterId: CID, baseMac: '02:00:00:20:00:00' };

const topology = (filer: string): Topology => ({
  filer,
  generation: 3,
  stack: { bonds: {}, failovers: {}, vlans: [], aliases: { mgmt0: 'eth0', data0: 'eth1' }, mtu: {} },
  vservers: [{ name: 'VsvrA', table: 1, gateway: '10.3.255.1', addresses: [{ alias: 'data0', instance: 0 }] }],
  mysql: [],
});
const facts = (filer: string): AddressFacts[] => [
  { identifier: `${CID}:mgmt0:${filer}`, address: '10.1.1.2', prefixLength: 24, router: '10.1.1.254' },
  { identifier: `${CID}:data0:VsvrA:0`, address: '10.3.3.1', prefixLength: 16, router: '10.3.255.254' },
];
const signed = (filer: string, binding = filer === 'Filer1' ? FILER1 : FILER2): SubOption[] =>
  encodeTopology(topology(filer), { key: KEY, addresses: facts(filer), binding });
const withoutGateway = (x: Topology): Topology => ({ ...x, vservers: x.vservers.map(({ gateway: _g, ...v }) => v) });

t.test('a 1.0 reader reads a 1.1 topology: signature checks, gateway, binding and tags skipped', async (t) => {
  const objs = signed('Filer1');
  const old = decodeTopology10(subOptionsToBytes(objs), { key: KEY, requireSignature: true, expectFiler: 'Filer1' });
  t.equal(old.signed, true, 'the 1.0 MAC still verifies');
  t.same(old.version, { major: 1, minor: 1 });
  t.same(old.topology, withoutGateway(topology('Filer1')), 'everything but the gateway, which it takes from the leases as it always did');
  t.same(old.skipped.sort(), ['sub-option 2 (signature): ~to', 'sub-option 5 (vs VsvrA): ~gw', 'sub-option 6: ~addr'].sort());
  // rackstrap's own server binds per exchange: the same holds for ~xid.
  const live = exchangeSigner(objs, KEY, FILER1)(0xdeadbeef);
  t.equal(decodeTopology10(live, { key: KEY, requireSignature: true }).signed, true, 'an exchange-bound answer verifies for a 1.0 agent too');
});

t.test('a 1.1 reader reads what 1.0 wrote; only a binding check refuses it', async (t) => {
  const old = encodeTopology10(withoutGateway(topology('Filer1')), { key: KEY });
  const d = decodeTopology(old, { key: KEY, requireSignature: true });
  t.same(d.topology, withoutGateway(topology('Filer1')));
  t.same(d.version, { major: 1, minor: 0 });
  t.equal(d.binding, 'none');
  t.same(d.addressTags, []);
  t.throws(() => decodeTopology(old, { key: KEY, binding: FILER1 }), { code: 'RS_WIRE_NOT_BOUND' });
  t.same(decodeTopology(encodeTopology10(withoutGateway(topology('Filer1')))).topology, withoutGateway(topology('Filer1')), 'unsigned 1.0 too');
});

t.test('the gateway round-trips, and is checked as an IPv4 address', async (t) => {
  const d = decodeTopology(encodeTopology(topology('Filer1')));
  t.equal(d.topology.vservers[0]!.gateway, '10.3.255.1');
  const unmarked = encodeTopology(topology('Filer1')).map((o) => ({ ...o, text: o.text.replace('~gw=', 'gw=') }));
  t.equal(decodeTopology(unmarked).topology.vservers[0]!.gateway, '10.3.255.1', 'a reader that knows gw= reads it marked or not');
  const bad = encodeTopology(topology('Filer1')).map((o) => ({ ...o, text: o.text.replace('~gw=10.3.255.1', '~gw=10.3.255') }));
  t.throws(() => decodeTopology(bad), { code: 'RS_WIRE_SCHEMA' });
});

t.test("first boot: another filer's genuine signed topology is refused by its base MAC", async (t) => {
  const filer2 = signed('Filer2');
  t.equal(decodeTopology(filer2, { key: KEY, binding: FILER2 }).binding, 'request', 'genuine for Filer2');
  // No expectFiler: a filer at first boot does not know its name; only its base MAC.
  t.throws(() => decodeTopology(filer2, { key: KEY, requireSignature: true, binding: FILER1 }), { code: 'RS_WIRE_WRONG_REQUEST' });
  t.throws(() => decodeTopology(filer2, { key: KEY, binding: { ...FILER2, clusterId: '02:00:00:00:99:99' } }), { code: 'RS_WIRE_WRONG_REQUEST' }, 'another cluster ID');
  // Header renamed to Filer1: the 1.0 MAC breaks before the binding is looked at.
  const renamed = filer2.map((o) => (o.code === 1 ? { ...o, text: o.text.replace('filer=Filer2', 'filer=Filer1') } : o));
  t.throws(() => decodeTopology(renamed, { key: KEY, binding: FILER1 }), { code: 'RS_WIRE_BAD_SIGNATURE' });
});

t.test('a stripped or forged binding is refused; two bindings are a grammar error', async (t) => {
  const objs = signed('Filer1');
  const strip = objs.map((o) => (o.code === 2 ? { ...o, text: o.text.replace(/ ~to=\S+/, '') } : o));
  t.equal(decodeTopology(strip, { key: KEY }).signed, true, 'the 1.0 MAC does not cover code 2, so stripping leaves it valid...');
  t.throws(() => decodeTopology(strip, { key: KEY, binding: FILER1 }), { code: 'RS_WIRE_NOT_BOUND' }, '...which is why a binding is required');
  const forged = objs.map((o) => (o.code === 2 ? { ...o, text: o.text.replace(/~to=\S+/, '~to=AAAAAAAAAAAAAAAAAAAAAA') } : o));
  t.throws(() => decodeTopology(forged, { key: KEY, binding: FILER1 }), { code: 'RS_WIRE_WRONG_REQUEST' });
  const both = objs.map((o) => (o.code === 2 ? { ...o, text: `${o.text} ~xid=AAAAAAAAAAAAAAAAAAAAAA` } : o));
  t.throws(() => decodeTopology(both, { key: KEY, binding: FILER1 }), { code: 'RS_WIRE_GRAMMAR' });
  t.throws(() => decodeTopology(encodeTopology(topology('Filer1'), { key: OTHER_KEY, binding: FILER1 }), { key: KEY, binding: FILER1 }), { code: 'RS_WIRE_KEY_MISMATCH' });
});

t.test('exchange binding: the xid of this DISCOVER, so a recorded answer cannot be replayed', async (t) => {
  const sign = exchangeSigner(signed('Filer1'), KEY, FILER1);
  const answer = sign(0x1234abcd);
  const d = decodeTopology(answer, { key: KEY, binding: { ...FILER1, xid: 0x1234abcd } });
  t.equal(d.binding, 'exchange');
  t.same(d.topology, topology('Filer1'));
  t.throws(() => decodeTopology(answer, { key: KEY, binding: { ...FILER1, xid: 0x1234abce } }), { code: 'RS_WIRE_WRONG_REQUEST' }, 'replayed into another exchange');
  t.throws(() => decodeTopology(answer, { key: KEY, binding: FILER1 }), { code: 'RS_WIRE_NOT_BOUND' }, 'no xid to check it with');
  t.throws(() => decodeTopology(signed('Filer1'), { key: KEY, binding: { ...FILER1, xid: 1 }, requireExchangeBinding: true }), { code: 'RS_WIRE_NOT_BOUND' });
  t.equal(answer.length, subOptionsToBytes(signed('Filer1')).length + 1, 'same objects; ~xid= is one byte longer than ~to=');
  t.same(parseSubOptions(answer).filter((o) => o.code !== 2), signed('Filer1').filter((o) => o.code !== 2));
});

t.test('address tags vouch for exactly the address, prefix and router of each identifier', async (t) => {
  const d = decodeTopology(signed('Filer1'), { key: KEY, binding: FILER1 });
  const tags = new Set(d.addressTags);
  t.equal(tags.size, 2);
  for (const f of facts('Filer1')) t.ok(hasAddressTag(KEY, tags, f), `${f.identifier}: the genuine offer`);
  const [mgmt] = facts('Filer1');
  const wrong: Array<[string, AddressFacts]> = [
    ['another address', { ...mgmt!, address: '10.1.1.99' }],
    ['another prefix length', { ...mgmt!, prefixLength: 16 }],
    ['another router', { ...mgmt!, router: '10.1.1.1' }],
    ['no router', { ...mgmt!, router: undefined }],
    ["another filer's identifier", { ...mgmt!, identifier: `${CID}:mgmt0:Filer2` }],
    ["the data address offered for mgmt0", { ...facts('Filer1')[1]!, identifier: mgmt!.identifier }],
  ];
  for (const [what, f] of wrong) t.notOk(hasAddressTag(KEY, tags, f), what);
  t.notOk(hasAddressTag(OTHER_KEY, tags, mgmt!), 'tags are keyed: another key computes other tags');
  t.same(decodeTopology(signed('Filer1')).addressTags, [], 'without the key nothing is vouched for');
});

t.test('address tags: 30 per object, so 64 virtual servers take 3 objects of 8 bytes per address', async (t) => {
  t.equal(TAGS_PER_OBJECT, 30);
  const many: AddressFacts[] = Array.from({ length: 64 }, (_, i) => ({ identifier: `${CID}:data0:V${i}:0`, address: `10.3.${i}.1`, prefixLength: 16, router: '10.3.255.254' }));
  const objs = encodeTopology(topology('Filer1'), { key: KEY, addresses: many, binding: FILER1 });
  const tagObjects = objs.filter((o) => o.text.startsWith('~addr '));
  t.same(tagObjects.map((o) => o.text.length), [246, 246, 38]);
  t.equal(decodeTopology(objs, { key: KEY, binding: FILER1 }).addressTags.length, 64);
  t.equal(addressTag(KEY, many[0]!).length, 8);
});

t.test('malformed tag objects are refused', async (t) => {
  const objs = signed('Filer1');
  const edit = (text: string) => objs.map((o) => (o.text.startsWith('~addr ') ? { ...o, text } : o));
  // Unsigned so the grammar is reached (a signed one fails its MAC first).
  const unsigned = (text: string): SubOption[] => {
    const base = encodeTopology(topology('Filer1'));
    return [...base.map((o) => (o.code === 1 ? { ...o, text: o.text.replace(/count=\d+/, `count=${base.length + 1}`) } : o)), { code: 40, text }];
  };
  t.throws(() => decodeTopology(unsigned('~addr abcdefg')), { code: 'RS_WIRE_GRAMMAR' }, 'not a multiple of 8');
  t.throws(() => decodeTopology(unsigned('~addr abcdefgh x=1')), { code: 'RS_WIRE_GRAMMAR' }, 'attributes');
  t.throws(() => decodeTopology(edit('~addr AAAAAAAA'), { key: KEY }), { code: 'RS_WIRE_BAD_SIGNATURE' }, 'a tag swapped after signing');
});
