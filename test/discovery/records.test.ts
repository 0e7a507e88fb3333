// The pure parts of discovery: TXT encoding (public fields only, ≤ 200 bytes, tolerant decoding),
// names and the rename rule, the mDNS message codec (QU bit, never throws on hostile bytes) and
// the probe tie-break order of RFC 6762 §8.2.
import t from 'tap';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { hostLabel, instanceName, nextHostLabel, nextInstanceName } from '../../src/discovery/names.js';
import { compareProbeSets, decodeMessage, encodeMessage, type MdnsRecord } from '../../src/discovery/packet.js';
import { ClusterTxt, decodeTxt, encodeTxt, TXT_MAX_BYTES } from '../../src/discovery/txt.js';

const longest: ClusterTxt = {
  cluster: `C${'x'.repeat(62)}`,
  id: '02:00:00:AA:BB:CC',
  version: '1234567890.1',
  members: 9999,
  joinPort: 65535,
  ca: `sha256:${'f'.repeat(64)}`,
};

t.test('TXT: round trip, the largest record still fits 200 bytes, keys ≤ 9 characters', async (t) => {
  const strings = encodeTxt(longest);
  const size = strings.reduce((n, s) => n + 1 + s.length, 0);
  t.ok(size <= TXT_MAX_BYTES, `${size} bytes`);
  t.ok(strings.every((s) => s.toString().indexOf('=') <= 9), 'keys ≤ 9 characters (RFC 6763 §6.4)');
  t.equal(strings[0]!.toString(), 'txtvers=1', 'txtvers first (RFC 6763 §6.7)');
  t.same(decodeTxt(strings), longest);
  t.same(decodeTxt(encodeTxt({ cluster: 'a', id: '02:00:00:00:00:01', version: '0.1.0', members: 0 })), { cluster: 'a', id: '02:00:00:00:00:01', version: '0.1.0', members: 0 });
});

t.test('TXT: what is not ours or is malformed decodes to undefined, never throws', async (t) => {
  t.equal(decodeTxt([Buffer.from('txtvers=2'), Buffer.from('cl=x')]), undefined, 'other version');
  t.equal(decodeTxt([Buffer.from('cl=x')]), undefined, 'no txtvers');
  t.equal(decodeTxt([Buffer.from('txtvers=1'), Buffer.from('cl=x'), Buffer.from('id=nope'), Buffer.from('v=1'), Buffer.from('n=1')]), undefined, 'bad id');
  // RFC 6763 §6.4: a repeated key — the first counts.
  const dup = [...encodeTxt({ cluster: 'first', id: '02:00:00:00:00:01', version: '1', members: 1 }), Buffer.from('cl=second')];
  t.equal(decodeTxt(dup)?.cluster, 'first');
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 255 }), { maxLength: 20 }), (xs) => {
    decodeTxt(xs);
  }));
});

t.test('names: instance and host labels, deterministic renames', async (t) => {
  t.equal(instanceName('Filer1', 'prod'), 'Filer1 @ prod');
  t.ok(Buffer.byteLength(instanceName('F'.repeat(63), 'c'.repeat(63))) <= 63, 'one DNS label');
  t.equal(hostLabel('Filer_1', '02:00:00:AA:BB:CC'), 'filer-1-aabbcc');
  t.equal(nextInstanceName('a @ b'), 'a @ b (2)');
  t.equal(nextInstanceName('a @ b (2)'), 'a @ b (3)');
  t.equal(nextHostLabel('filer1-aabbcc'), 'filer1-aabbcc-2');
  t.equal(nextHostLabel('filer1-aabbcc-2'), 'filer1-aabbcc-3');
  t.ok(Buffer.byteLength(nextInstanceName('x'.repeat(63))) <= 63);
});

t.test('messages: the QU bit is written and read; hostile bytes are dropped, never thrown', async (t) => {
  const buf = encodeMessage({ isResponse: false, questions: [{ name: '_rackstrap._tcp.local', type: 'PTR', unicast: true }, { name: 'x.local', type: 'A' }] });
  const m = decodeMessage(buf)!;
  t.same(m.questions.map((q) => [q.name, q.type, q.unicast]), [['_rackstrap._tcp.local', 'PTR', true], ['x.local', 'A', false]]);
  t.equal(decodeMessage(Buffer.alloc(5)), undefined, 'short');
  t.equal(decodeMessage(Buffer.alloc(9001)), undefined, 'over 9000 bytes');
  for (let i = 0; i < 3000; i++) {
    const b = randomBytes(12 + (i % 300));
    decodeMessage(b);
    // Truncations of a real message too.
    decodeMessage(buf.subarray(0, i % buf.length));
  }
  t.pass('3000 random and truncated messages decoded without an exception');
});

t.test('probe tie-break (RFC 6762 §8.2): compares type, then rdata bytes; identical sets tie', async (t) => {
  const a = (addr: string): MdnsRecord => ({ name: 'h.local', type: 'A', ttl: 120, data: addr });
  t.ok(compareProbeSets([a('10.0.0.2')], [a('10.0.0.1')]) > 0, 'larger address wins');
  t.ok(compareProbeSets([a('10.0.0.1')], [a('10.0.0.2')]) < 0);
  t.equal(compareProbeSets([a('10.0.0.1')], [a('10.0.0.1')]), 0, 'our own probe looped back');
  t.ok(compareProbeSets([a('10.0.0.1'), a('10.0.0.9')], [a('10.0.0.1')]) > 0, 'more records win when the rest ties');
});
