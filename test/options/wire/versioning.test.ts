// Forward compatibility (seed 001's IPVS sync v0/v1 idea): a newer minor is read, its `~`-marked
// additions skipped and reported; the signature covers them; the key never leaks into text.
import t from 'tap';
import { createHash } from 'node:crypto';
import {
  canonicalBytes,
  decodeTopology,
  encodeTopology,
  keyFingerprint,
  subOptionsToBytes,
  type SubOption,
} from '../../../src/options/wire/index.js';
import { signatureText } from '../../../src/options/wire/signature.js';
import type { Topology } from '../../../src/options/schema.js';

const base: Topology = {
  filer: 'Filer2',
  generation: 12,
  stack: {
    bonds: { bond1: { mode: 'active-backup', members: ['eth4', 'eth5'], primary: 'eth5' } },
    failovers: {},
    vlans: ['bond1.7', 'bond1.7.8'],
    aliases: { data2: 'bond1' },
    mtu: { eth4: 1500, 'bond1.7': 9000 },
  },
  vservers: [],
  mysql: [],
};

/** What a newer writer (minor 3) might send: optional attributes and a whole optional object. */
function newerMinor(): SubOption[] {
  const objs = encodeTopology(base).map((o) => ({ ...o }));
  const header = objs[0]!;
  header.text = header.text.replace(/rackstrap\/1\.\d+/, 'rackstrap/1.3').replace(/count=\d+/, `count=${objs.length + 1}`) + ' ~site=east';
  const bond = objs.find((o) => o.text.startsWith('bond1 '))!;
  bond.text += ' ~ad_select=bandwidth ~comment=lab-rack-4';
  objs.push({ code: 40, text: '~route data2 via=10.3.255.254 table=3' });
  return objs;
}

t.test('what the writer emits for this topology', async (t) => {
  t.same(encodeTopology(base).map((o) => o.text), [
    'rackstrap/1.1 gen=12 count=6 filer=Filer2',
    'eth4 mtu=1500',
    'bond1 mode=active-backup members=eth4+eth5 primary=eth5',
    'bond1.7 mtu=9000',
    'bond1.7.8',
    'data2 on=bond1',
  ], 'VLAN objects appear only with attributes or when nothing else implies them');
});

t.test('a newer minor is read; unknown optional things are skipped and listed', async (t) => {
  const d = decodeTopology(subOptionsToBytes(newerMinor()));
  t.same(d.topology, base);
  t.same(d.version, { major: 1, minor: 3 });
  t.same(d.skipped, [
    'sub-option 1 (header): ~site',
    'sub-option 4 (bond1): ~ad_select',
    'sub-option 4 (bond1): ~comment',
    'sub-option 40: ~route',
  ]);
});

t.test('a known attribute marked optional is still read', async (t) => {
  const objs = encodeTopology(base).map((o) => (o.text === 'eth4 mtu=1500' ? { ...o, text: 'eth4 ~mtu=1500' } : o));
  const d = decodeTopology(objs);
  t.equal(d.topology.stack.mtu.eth4, 1500);
  t.same(d.skipped, []);
});

t.test('the same additions without the ~ mark reject the whole topology', async (t) => {
  const plain = newerMinor().map((o) => ({ ...o, text: o.text.replace(/~(ad_select|route)/, '$1') }));
  t.throws(() => decodeTopology(plain), { code: 'RS_WIRE_UNKNOWN_ATTRIBUTE' });
  const objectOnly = newerMinor().map((o) => (o.code === 40 ? { ...o, text: 'route data2 via=10.3.255.254' } : o));
  t.throws(() => decodeTopology(objectOnly), { code: 'RS_WIRE_UNKNOWN_OBJECT' });
});

t.test('the signature covers optional additions too', async (t) => {
  const key = Buffer.from('versioning-test-key-0123456789ab');
  const unsigned = newerMinor();
  unsigned[0] = { ...unsigned[0]!, text: unsigned[0]!.text.replace(/count=\d+/, `count=${unsigned.length + 1}`) };
  const signed = [...unsigned, { code: 2, text: signatureText(unsigned, key) }];
  const d = decodeTopology(signed, { key, requireSignature: true });
  t.ok(d.signed);
  t.equal(d.skipped.length, 4);
  const changed = signed.map((o) => (o.code === 40 ? { ...o, text: '~route data2 via=10.6.6.6 table=3' } : o));
  t.throws(() => decodeTopology(changed, { key }), { code: 'RS_WIRE_BAD_SIGNATURE' });
});

t.test('the signed bytes: other sub-options sorted by code, <code>=<text> and a newline each', async (t) => {
  const objs = [
    { code: 11, text: 'b' },
    { code: 2, text: 'ignored' },
    { code: 1, text: 'a' },
    { code: 3, text: 'c' },
  ];
  t.equal(canonicalBytes(objs).toString('latin1'), '1=a\n3=c\n11=b\n');
});

t.test('key fingerprint: first 8 hex digits of SHA-256 of the key', async (t) => {
  const key = Buffer.from('0123456789abcdef0123456789abcdef');
  t.equal(keyFingerprint(key), createHash('sha256').update(key).digest('hex').slice(0, 8));
  t.match(keyFingerprint(key), /^[0-9a-f]{8}$/);
});

t.test('a signature without a key to check it: read, reported as not signed', async (t) => {
  const objs = encodeTopology(base, { key: Buffer.alloc(32, 9) });
  const d = decodeTopology(objs);
  t.equal(d.signed, false);
  t.same(d.topology, base);
});

t.test('the key never appears in objects, messages or stacks', async (t) => {
  const key = Buffer.from('TopSecretClusterKey-do-not-print');
  const other = Buffer.from('AnotherSecretClusterKey-0000000');
  const forms = (k: Buffer) => [k.toString('utf8'), k.toString('hex'), k.toString('base64'), k.toString('base64url')];
  const secrets = [...forms(key), ...forms(other)];
  const texts: string[] = [];
  const objs = encodeTopology(base, { key });
  texts.push(JSON.stringify(objs));
  const failures = [
    () => decodeTopology(encodeTopology(base, { key: other }), { key }),
    () => decodeTopology(objs.map((o) => (o.code === 3 ? { ...o, text: 'eth4 mtu=1400' } : o)), { key }),
    () => decodeTopology(encodeTopology(base), { key, requireSignature: true }),
    () => decodeTopology(objs, { key: Buffer.from('short-key') }),
  ];
  for (const f of failures) {
    try {
      f();
      t.fail('expected a refusal');
    } catch (e) {
      texts.push(String(e), (e as Error).stack ?? '', JSON.stringify(e));
    }
  }
  for (const s of secrets) t.notOk(texts.some((x) => x.includes(s)), `no trace of the key (${s.length} chars)`);
});
