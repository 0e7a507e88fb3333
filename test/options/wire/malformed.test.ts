// The malformed-input corpus: every input is refused with its own error code. Byte-level cases
// live in test/fixtures/wire/*.hex; text-level cases are a table built around Filer1's objects.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeTopology,
  encodeTopology,
  subOptionsToBytes,
  WireDecodeError,
  WireVersionError,
  type DecodeOptions,
  type SubOption,
} from '../../../src/options/wire/index.js';
import type { Topology } from '../../../src/options/schema.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/wire');
const KEY = Buffer.from('malformed-corpus-test-key-0123456789');
const OTHER_KEY = Buffer.from('some-other-cluster-key-9876543210');

function refusal(input: Buffer | SubOption[], opts: DecodeOptions = {}): unknown {
  try {
    decodeTopology(input, opts);
  } catch (e) {
    return e;
  }
  return undefined;
}

t.test('hex fixtures: each refused with the code it names', async (t) => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.hex')).sort();
  t.ok(files.length >= 10, `${files.length} hex fixtures`);
  for (const f of files) {
    const text = readFileSync(join(FIXTURES, f), 'utf8');
    const expect = /^# expect (RS_WIRE_[A-Z_]+)$/m.exec(text)?.[1];
    t.ok(expect, `${f} names its expected error`);
    const hex = text.split('\n').filter((l) => !l.startsWith('#')).join('').replace(/\s+/g, '');
    const e = refusal(Buffer.from(hex, 'hex'));
    t.ok(e instanceof WireDecodeError, `${f}: refused with a WireDecodeError`);
    t.equal((e as WireDecodeError).code, expect, `${f}: ${(e as Error).message}`);
  }
});

// A small valid topology to break in many ways.
const base: Topology = {
  filer: 'Filer1',
  generation: 7,
  stack: {
    bonds: { bond0: { mode: '802.3ad', members: ['eth0', 'eth1'], miimon: 100 } },
    failovers: { fail0: { members: ['eth2', 'eth3'], primary: 'eth2' } },
    vlans: ['bond0.10'],
    aliases: { data0: 'bond0.10', mgmt0: 'fail0' },
    mtu: { bond0: 9000 },
  },
  vservers: [{ name: 'VsvrA', table: 1, addresses: [{ alias: 'data0', instance: 0 }] }],
  mysql: [{ role: 'MySQLMgmtNode', aliases: ['mgmt0'] }],
};
const good = encodeTopology(base);
const goodSigned = encodeTopology(base, { key: KEY });

/** Filer1-like objects with code `code` replaced by `text` (or removed with null); count fixed up. */
function edit(changes: Record<number, string | null>, { fixCount = true, from = good } = {}): SubOption[] {
  const out = from.map((o) => ({ ...o }));
  for (const [c, text] of Object.entries(changes)) {
    const code = Number(c);
    const i = out.findIndex((o) => o.code === code);
    if (text === null) out.splice(i, 1);
    else if (i >= 0) out[i] = { code, text };
    else out.push({ code, text });
  }
  if (fixCount) out[0] = { code: 1, text: out[0]!.text.replace(/count=\d+/, `count=${out.length}`) };
  return out;
}

t.test('the base input is valid (so each case below fails for its own reason)', async (t) => {
  t.same(good.map((o) => o.text), [
    'rackstrap/1.1 gen=7 count=7 filer=Filer1',
    'bond0 mode=802.3ad members=eth0+eth1 miimon=100 mtu=9000',
    'fail0 members=eth2+eth3 primary=eth2',
    'data0 on=bond0.10',
    'mgmt0 on=fail0',
    'vs VsvrA table=1 addr=data0:0',
    'mysql MySQLMgmtNode on=mgmt0',
  ]);
  t.same(decodeTopology(good).topology, base);
  t.same(decodeTopology(goodSigned, { key: KEY, requireSignature: true }).topology, base);
});

const tamperedSigned = goodSigned.map((o) => (o.code === 4 ? { ...o, text: 'fail0 members=eth2+eth3 primary=eth3' } : o));
const sigText = goodSigned.find((o) => o.code === 2)!.text;
const withSig = (text: string) => goodSigned.map((o) => (o.code === 2 ? { ...o, text } : o));
// Flip the low bits of the last base64url character: same 16 bytes, different spelling. (Its 6
// bits carry 2 of the MAC and 4 zero bits, so the next character of the alphabet decodes the same.)
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const macTail = sigText.slice(-1);
const nonCanonicalMac = sigText.slice(0, -1) + B64URL[B64URL.indexOf(macTail) + 1]!;

const cases: Array<[string, SubOption[] | Buffer, string, DecodeOptions?]> = [
  ['empty option 43', Buffer.alloc(0), 'RS_WIRE_NO_HEADER'],
  ['header missing', edit({ 1: null }, { fixCount: false }), 'RS_WIRE_NO_HEADER'],
  ['header of another format', edit({ 1: 'acme/1.0 gen=7 count=7 filer=Filer1' }, { fixCount: false }), 'RS_WIRE_NO_HEADER'],
  ['count says more than arrived', edit({ 1: 'rackstrap/1.1 gen=7 count=9 filer=Filer1' }, { fixCount: false }), 'RS_WIRE_COUNT'],
  ['an object dropped on the way', edit({ 5: null }, { fixCount: false }), 'RS_WIRE_COUNT'],
  ['an object added on the way', edit({ 40: 'eth9 mtu=1500' }, { fixCount: false }), 'RS_WIRE_COUNT'],
  ['newer major version', edit({ 1: 'rackstrap/2.0 gen=7 count=7 filer=Filer1' }), 'RS_WIRE_VERSION'],
  ['major version 0', edit({ 1: 'rackstrap/0.9 gen=7 count=7 filer=Filer1' }), 'RS_WIRE_VERSION'],
  ['malformed version token', edit({ 1: 'rackstrap/1 gen=7 count=7 filer=Filer1' }), 'RS_WIRE_GRAMMAR'],
  ['version with leading zero', edit({ 1: 'rackstrap/01.0 gen=7 count=7 filer=Filer1' }), 'RS_WIRE_GRAMMAR'],
  ['header without gen', edit({ 1: 'rackstrap/1.0 count=7 filer=Filer1' }), 'RS_WIRE_MISSING_ATTRIBUTE'],
  ['header with an unknown mandatory attribute', edit({ 1: 'rackstrap/1.1 gen=7 count=7 filer=Filer1 site=east' }), 'RS_WIRE_UNKNOWN_ATTRIBUTE'],
  ['filer name outside the grammar', edit({ 1: 'rackstrap/1.1 gen=7 count=7 filer=9lives' }), 'RS_WIRE_GRAMMAR'],
  ['comma in a list', edit({ 3: 'bond0 mode=802.3ad members=eth0,eth1' }), 'RS_WIRE_ILLEGAL_BYTE'],
  ['double quote', edit({ 5: 'data0 on="bond0.10"' }), 'RS_WIRE_ILLEGAL_BYTE'],
  ['backslash', edit({ 5: 'data0 on=bond0\\.10' }), 'RS_WIRE_ILLEGAL_BYTE'],
  ['dollar', edit({ 5: 'data0 on=$IF' }), 'RS_WIRE_ILLEGAL_BYTE'],
  ['tab between tokens', edit({ 5: 'data0\ton=bond0.10' }), 'RS_WIRE_ILLEGAL_BYTE'],
  ['NUL inside an object', edit({ 5: 'data0 on=bond0.10\u0000' }), 'RS_WIRE_ILLEGAL_BYTE'],
  ['empty object', edit({ 5: '' }), 'RS_WIRE_GRAMMAR'],
  ['double space', edit({ 5: 'data0  on=bond0.10' }), 'RS_WIRE_GRAMMAR'],
  ['trailing space', edit({ 5: 'data0 on=bond0.10 ' }), 'RS_WIRE_GRAMMAR'],
  ['empty attribute value', edit({ 5: 'data0 on=' }), 'RS_WIRE_GRAMMAR'],
  ['name after attributes', edit({ 5: 'data0 on=bond0.10 extra' }), 'RS_WIRE_GRAMMAR'],
  ['attribute key in upper case', edit({ 5: 'data0 ON=bond0.10' }), 'RS_WIRE_GRAMMAR'],
  ['number with leading zero', edit({ 3: 'bond0 mode=802.3ad members=eth0+eth1 mtu=09000' }), 'RS_WIRE_GRAMMAR'],
  ['number that is not a number', edit({ 3: 'bond0 mode=802.3ad members=eth0+eth1 miimon=fast' }), 'RS_WIRE_GRAMMAR'],
  ['empty list item', edit({ 3: 'bond0 mode=802.3ad members=eth0++eth1' }), 'RS_WIRE_GRAMMAR'],
  ['interface name in upper case', edit({ 5: 'DATA0 on=bond0.10' }), 'RS_WIRE_GRAMMAR'],
  ['member name outside the naming rules', edit({ 3: 'bond0 mode=802.3ad members=en0+eth1' }), 'RS_WIRE_GRAMMAR'],
  ['alias on two interfaces', edit({ 6: 'mgmt0 on=fail0+eth4' }), 'RS_WIRE_GRAMMAR'],
  ['address item without instance', edit({ 7: 'vs VsvrA table=1 addr=data0' }), 'RS_WIRE_GRAMMAR'],
  ['virtual server without a name', edit({ 7: 'vs table=1 addr=data0:0' }), 'RS_WIRE_GRAMMAR'],
  ['unknown mandatory attribute', edit({ 3: 'bond0 mode=802.3ad members=eth0+eth1 speed=10000' }), 'RS_WIRE_UNKNOWN_ATTRIBUTE'],
  ['attribute of another kind (on= on a bond)', edit({ 3: 'bond0 mode=802.3ad members=eth0+eth1 on=eth2' }), 'RS_WIRE_UNKNOWN_ATTRIBUTE'],
  ['unknown mandatory object', edit({ 9: 'route data0 via=10.2.2.254' }), 'RS_WIRE_UNKNOWN_OBJECT'],
  ['name outside the naming rules as object', edit({ 9: 'eth01 mtu=1500' }), 'RS_WIRE_UNKNOWN_OBJECT'],
  ['bond without mode', edit({ 3: 'bond0 members=eth0+eth1' }), 'RS_WIRE_MISSING_ATTRIBUTE'],
  ['alias without on', edit({ 5: 'data0 mtu=1500' }), 'RS_WIRE_MISSING_ATTRIBUTE'],
  ['attribute twice', edit({ 6: 'mgmt0 on=fail0 on=fail1' }), 'RS_WIRE_DUPLICATE_ATTRIBUTE'],
  ['optional and plain spelling of one attribute', edit({ 6: 'mgmt0 on=fail0 ~on=fail1' }), 'RS_WIRE_DUPLICATE_ATTRIBUTE'],
  ['two objects for one interface', edit({ 9: 'bond0 mode=balance-rr members=eth4' }), 'RS_WIRE_DUPLICATE_NAME'],
  ['two objects for one virtual server', edit({ 9: 'vs VsvrA table=2 addr=data0:1' }), 'RS_WIRE_DUPLICATE_NAME'],
  ['one MySQL role in two objects', edit({ 9: 'mysql MySQLDataNode1+MySQLMgmtNode on=mgmt0' }), 'RS_WIRE_DUPLICATE_NAME'],
  ['header text at an object code', edit({ 9: 'rackstrap/1.1 gen=7 count=8 filer=Filer1' }), 'RS_WIRE_MISPLACED'],
  ['signature at an object code', edit({ 9: 'hmac-sha256-128 key=00000000 mac=AAAAAAAAAAAAAAAAAAAAAA' }), 'RS_WIRE_MISPLACED'],
  ['an interface at the signature code', edit({ 2: 'eth4 mtu=1500' }), 'RS_WIRE_MISPLACED'],
  ['unknown signature algorithm', edit({ 2: 'hmac-md5 key=00000000 mac=AAAAAAAAAAAAAAAAAAAAAA' }), 'RS_WIRE_GRAMMAR'],
  ['routing table 254 (main)', edit({ 7: 'vs VsvrA table=254 addr=data0:0' }), 'RS_WIRE_SCHEMA'],
  ['unknown bond mode', edit({ 3: 'bond0 mode=turbo members=eth0+eth1' }), 'RS_WIRE_SCHEMA'],
  ['MTU below 68', edit({ 3: 'bond0 mode=802.3ad members=eth0+eth1 mtu=40' }), 'RS_WIRE_SCHEMA'],
  ['failover group of one', edit({ 4: 'fail0 members=eth2' }), 'RS_WIRE_SCHEMA'],
  ['generation 0', edit({ 1: 'rackstrap/1.0 gen=0 count=7 filer=Filer1' }), 'RS_WIRE_SCHEMA'],
  ['instance over 9999', edit({ 7: 'vs VsvrA table=1 addr=data0:10000' }), 'RS_WIRE_SCHEMA'],
  ['MySQL role outside the seed', edit({ 8: 'mysql MySQLBackupNode on=mgmt0' }), 'RS_WIRE_SCHEMA'],
  ['code out of range in SubOption[]', [...good, { code: 255, text: 'eth0 mtu=1500' }], 'RS_WIRE_GRAMMAR'],
  ['duplicate code in SubOption[]', [...good, { ...good[2]! }], 'RS_WIRE_DUPLICATE_CODE'],
  ['over-long text in SubOption[]', edit({ 9: `eth4 ~pad=${'a'.repeat(250)}` }), 'RS_WIRE_OVERLONG'],
  // signatures
  ['unsigned when a signature is required', good, 'RS_WIRE_UNSIGNED', { key: KEY, requireSignature: true }],
  ['signed with another cluster key', encodeTopology(base, { key: OTHER_KEY }), 'RS_WIRE_KEY_MISMATCH', { key: KEY }],
  ['an object changed after signing', tamperedSigned, 'RS_WIRE_BAD_SIGNATURE', { key: KEY }],
  ['an object added after signing (count fixed)', edit({ 40: 'eth9 mtu=1500' }, { from: goodSigned }), 'RS_WIRE_BAD_SIGNATURE', { key: KEY }],
  ['MAC replaced', withSig(sigText.replace(/mac=\S+/, 'mac=AAAAAAAAAAAAAAAAAAAAAA')), 'RS_WIRE_BAD_SIGNATURE', { key: KEY }],
  ['MAC in a non-canonical base64url spelling', withSig(nonCanonicalMac), 'RS_WIRE_GRAMMAR', { key: KEY }],
  ['MAC too short', withSig(sigText.replace(/mac=\S+/, 'mac=AAAA')), 'RS_WIRE_GRAMMAR', { key: KEY }],
  ['key id not hex', withSig(sigText.replace(/key=\S+/, 'key=zzzzzzzz')), 'RS_WIRE_GRAMMAR', { key: KEY }],
  ['signature without mac', withSig(sigText.replace(/ mac=\S+/, '')), 'RS_WIRE_MISSING_ATTRIBUTE', { key: KEY }],
  ['topology for another filer', good, 'RS_WIRE_WRONG_FILER', { expectFiler: 'Filer2' }],
];

t.test(`table: ${cases.length} malformed inputs, each with its own error`, async (t) => {
  for (const [what, input, code, opts] of cases) {
    const e = refusal(input, opts);
    t.ok(e instanceof WireDecodeError, `${what}: refused with a WireDecodeError (${e instanceof Error ? e.message : String(e)})`);
    t.equal((e as WireDecodeError | undefined)?.code, code, `${what}: ${code}`);
  }
});

t.test('a newer major is a WireVersionError carrying the version', async (t) => {
  const e = refusal(edit({ 1: 'rackstrap/3.4 gen=7 count=7 filer=Filer1' }));
  t.ok(e instanceof WireVersionError);
  t.match(e, { major: 3, minor: 4, code: 'RS_WIRE_VERSION' });
  t.match((e as Error).message, /keeping the current configuration/);
  // Checked before everything else: even objects this reader would reject do not matter.
  const v2 = [
    { code: 1, text: 'rackstrap/2.0 gen=7 count=99 filer=Filer1' },
    { code: 3, text: 'grammar, "of" version 2' },
  ];
  t.equal((refusal(v2) as WireDecodeError).code, 'RS_WIRE_VERSION');
});

t.test('with a key, nothing unauthenticated is interpreted: a forged bad object reports the signature', async (t) => {
  const forged = goodSigned.map((o) => (o.code === 5 ? { ...o, text: 'data0 speed=fast' } : o));
  t.equal((refusal(forged, { key: KEY }) as WireDecodeError).code, 'RS_WIRE_BAD_SIGNATURE');
  t.equal((refusal(forged) as WireDecodeError).code, 'RS_WIRE_UNKNOWN_ATTRIBUTE', 'without the key, the grammar speaks');
});

t.test('caller errors are not decode errors', async (t) => {
  t.throws(() => decodeTopology(good, { requireSignature: true }), { code: 'RS_WIRE_NO_KEY' });
  t.throws(() => decodeTopology(goodSigned, { key: Buffer.from('short') }), { code: 'RS_WIRE_KEY_TOO_SHORT' });
  t.throws(() => encodeTopology(base, { key: Buffer.alloc(15) }), { code: 'RS_WIRE_KEY_TOO_SHORT' });
});

t.test('bytes: offsets are reported for framing errors', async (t) => {
  const bytes = subOptionsToBytes(good);
  const cut = bytes.subarray(0, bytes.length - 3);
  const e = refusal(cut) as WireDecodeError;
  t.equal(e.code, 'RS_WIRE_LENGTH');
  t.type(e.offset, 'number');
  t.match(e.message, /at byte \d+/);
});
