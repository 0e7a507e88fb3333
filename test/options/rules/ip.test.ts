import t from 'tap';
import fc from 'fast-check';
import { contains, formatIp, ipKey, netmaskOf, overlaps, parseCidr, parseIp, reservedInPrefix } from '../../../src/options/rules/ip.js';

t.test('parses both families; one key per address whatever the spelling', async (t) => {
  t.same(parseIp('10.1.1.2'), { family: 4, value: 0x0a010102n });
  t.equal(ipKey(parseIp('2001:DB8::1')!), ipKey(parseIp('2001:db8:0:0::1')!));
  t.equal(parseIp('::ffff:10.1.1.1')?.value, 0xffff0a010101n);
  t.equal(parseIp('::')?.value, 0n);
  for (const bad of ['10.1.1', '10.1.1.256', '010.1.1.1', '1::2::3', '2001:db8::1%eth0', '1:2:3:4:5:6:7:8:9', 'x']) t.equal(parseIp(bad), undefined, bad);
});

t.test('prefixes: containment, overlap, host bits, reserved addresses, netmask', async (t) => {
  const c = parseCidr('10.1.1.0/24')!;
  t.ok(contains(c, parseIp('10.1.1.255')!));
  t.notOk(contains(c, parseIp('10.1.2.0')!));
  t.notOk(contains(c, parseIp('::ffff:10.1.1.1')!), 'families never mix');
  t.ok(parseCidr('10.1.1.5/24')!.hostBitsSet);
  t.ok(overlaps(parseCidr('10.3.0.0/16')!, parseCidr('10.3.3.0/24')!));
  t.notOk(overlaps(parseCidr('10.2.2.0/24')!, parseCidr('10.3.0.0/16')!));
  t.match(reservedInPrefix(c, parseIp('10.1.1.0')!), /network address/);
  t.match(reservedInPrefix(c, parseIp('10.1.1.255')!), /broadcast address/);
  t.equal(reservedInPrefix(parseCidr('10.1.1.0/31')!, parseIp('10.1.1.0')!), undefined, 'RFC 3021 /31');
  t.match(reservedInPrefix(parseCidr('2001:db8::/64')!, parseIp('2001:db8::')!), /anycast/);
  t.equal(netmaskOf(c), '255.255.255.0');
  t.equal(netmaskOf(parseCidr('10.3.0.0/16')!), '255.255.0.0');
  t.equal(netmaskOf(parseCidr('2001:db8::/64')!), undefined);
});

t.test('formatIp is RFC 5952 and round-trips', async (t) => {
  t.equal(formatIp(6, parseIp('2001:0db8:0000:0000:0001:0000:0000:0001')!.value), '2001:db8::1:0:0:1');
  t.equal(formatIp(6, 0n), '::');
  t.equal(formatIp(6, 1n), '::1');
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => parseIp(formatIp(6, v))?.value === v));
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (v) => parseIp(formatIp(4, v))?.value === v));
});

t.test('IPv4 text: four decimal parts 0-255 without leading zeros, nothing else', async (t) => {
  // The rule as a pattern, the oracle for the hand-written reader.
  const octet = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
  const dotted = new RegExp(`^${octet}\\.${octet}\\.${octet}\\.${octet}$`);
  const expected = (s: string): bigint | undefined => (dotted.test(s) ? s.split('.').reduce((v, p) => (v << 8n) | BigInt(p), 0n) : undefined);
  for (const s of ['0.0.0.0', '255.255.255.255', '1.2.3.4', '1.2.3.4.', '.1.2.3', '1.2.3.04', '1.2.3.256', '1.2.3.1000', '1..2.3', '1.2.3', '1.2.3.4.5', '', '1.2.3.-4', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.٣']) {
    t.equal(parseIp(s)?.family === 4 ? parseIp(s)!.value : undefined, expected(s), JSON.stringify(s));
  }
  fc.assert(
    fc.property(fc.array(fc.constantFrom('0', '1', '2', '5', '9', '.', '00', '25', '255', '256', 'a', ' '), { maxLength: 12 }), (parts) => {
      const s = parts.join('');
      const got = parseIp(s);
      return (got?.family === 4 ? got.value : undefined) === expected(s);
    }),
    { numRuns: 5000 },
  );
});
