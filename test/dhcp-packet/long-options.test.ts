import t from 'tap';
import { createMessage, decodeMessage, encodeMessage, MESSAGE_TYPE, OP, OPTION } from '../../src/dhcp-packet/index.js';
import { instancesIn, rawPacket, roundTrip } from './helpers/support.js';

const pattern = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff));

t.test('a 300-byte option 43 is sent as consecutive 255 + 45 byte instances and read back whole', async (t) => {
  const data = pattern(300);
  const msg = createMessage({
    op: OP.BOOTREPLY, xid: 1, type: MESSAGE_TYPE.ACK,
    options: [[OPTION.SERVER_ID, '10.0.0.1'], [OPTION.VENDOR_SPECIFIC, data], [OPTION.LEASE_TIME, 60]],
  });
  const buf = roundTrip(t, msg, { maxSize: 1500 });
  const inst = instancesIn(buf, 240, buf.length);
  t.same(inst.map((i) => [i.code, i.data.length]), [[53, 1], [54, 4], [43, 255], [43, 45], [51, 4]], 'split in place, consecutive');
  t.ok(Buffer.concat([inst[2]!.data, inst[3]!.data]).equals(data), 'the pieces concatenate to the data');
  t.ok(decodeMessage(buf).options.get(OPTION.VENDOR_SPECIFIC)!.equals(data), 'decoded whole');
});

t.test('exactly 255 bytes stays one instance, 256 becomes two, 0 is one empty instance', async (t) => {
  for (const [n, want] of [[255, [255]], [256, [255, 1]], [510, [255, 255]], [511, [255, 255, 1]], [0, [0]]] as const) {
    const msg = createMessage({ op: OP.BOOTREPLY, xid: 1, type: MESSAGE_TYPE.ACK, options: [[220, pattern(n)]] });
    const buf = roundTrip(t, msg, { maxSize: 4000 });
    t.same(instancesIn(buf, 240, buf.length).filter((i) => i.code === 220).map((i) => i.data.length), want, `${n} bytes`);
  }
});

t.test('instances of one code are joined even when other options sit between them (RFC 3396)', async (t) => {
  const buf = rawPacket([53, 1, 1, 43, 3, 0x61, 0x62, 0x63, 12, 2, 0x68, 0x31, 0, 0, 43, 2, 0x64, 0x65, 255]);
  const m = decodeMessage(buf);
  t.equal(m.options.get(OPTION.VENDOR_SPECIFIC)!.toString(), 'abcde');
  t.same(m.options.codes(), [53, 43, 12], 'one entry per code, at its first place');
  t.equal(m.options.get(OPTION.HOSTNAME), 'h1');
});

t.test('typed options are joined before they are read: a router list split mid-address', async (t) => {
  const buf = rawPacket([53, 1, 1, 3, 6, 10, 0, 0, 1, 10, 0, 3, 2, 0, 2, 255]);
  t.same(decodeMessage(buf).options.get(OPTION.ROUTERS), ['10.0.0.1', '10.0.0.2']);
});

t.test('join order is options field, then file, then sname, whatever their place in the packet', async (t) => {
  // sname (offset 44) comes before file (offset 108) in the packet, but after it in the join.
  const buf = rawPacket([53, 1, 1, 52, 1, 3, 43, 2, 0x41, 0x41, 255], {
    file: [43, 2, 0x42, 0x42, 255],
    sname: [43, 2, 0x43, 0x43, 12, 3, 0x66, 0x6f, 0x6f, 255],
  });
  const m = decodeMessage(buf);
  t.equal(m.options.get(OPTION.VENDOR_SPECIFIC)!.toString(), 'AABBCC');
  t.equal(m.options.get(OPTION.HOSTNAME), 'foo', 'options found only in sname');
  t.equal(m.sname, '', 'sname carries options, so no server name');
  t.equal(m.file, '', 'file carries options, so no file name');
  t.notOk(m.options.has(OPTION.OVERLOAD), 'option 52 is framing, not kept');
});

t.test('file/sname are only read for options when option 52 says so', async (t) => {
  const onlyFile = decodeMessage(rawPacket([53, 1, 1, 52, 1, 1, 255], { file: [43, 1, 0x46, 255], sname: [43, 1, 0x53, 255] }));
  t.equal(onlyFile.options.get(OPTION.VENDOR_SPECIFIC)!.toString(), 'F', '52=1: file only');
  t.equal(onlyFile.sname, '+\u0001S\u00ff', 'sname kept as text');
  const onlySname = decodeMessage(rawPacket([53, 1, 1, 52, 1, 2, 255], { file: [43, 1, 0x46, 255], sname: [43, 1, 0x53, 255] }));
  t.equal(onlySname.options.get(OPTION.VENDOR_SPECIFIC)!.toString(), 'S', '52=2: sname only');
  const none = decodeMessage(rawPacket([53, 1, 1, 255], { file: [43, 1, 0x46, 255] }));
  t.notOk(none.options.has(OPTION.VENDOR_SPECIFIC), 'no 52: file is a file name');
  t.equal(none.file, '+\u0001F\u00ff');
});

t.test('a long option received from a server that splits at arbitrary bytes (dhcpd) decodes and re-encodes canonically', async (t) => {
  const data = pattern(400);
  const opts: number[] = [53, 1, 5];
  for (const [s, e] of [[0, 100], [100, 101], [101, 350], [350, 400]] as const) opts.push(43, e - s, ...data.subarray(s, e));
  opts.push(255);
  const m = decodeMessage(rawPacket(opts));
  t.ok(m.options.get(OPTION.VENDOR_SPECIFIC)!.equals(data));
  const again = encodeMessage(m, { maxSize: 1500 });
  t.same(instancesIn(again, 240, again.length).filter((i) => i.code === 43).map((i) => i.data.length), [255, 145], 'our own split is 255-byte pieces');
});

t.test('0 and 255 inside option data are data, not pad and end (dnsmasq puts an END byte inside option 43)', async (t) => {
  const data = Buffer.from([10, 3, 0x61, 0x62, 0x63, 0, 0, 255, 255]);
  const m = decodeMessage(rawPacket([53, 1, 2, 43, data.length, ...data, 54, 4, 10, 0, 0, 1, 255]));
  t.ok(m.options.get(OPTION.VENDOR_SPECIFIC)!.equals(data));
  t.equal(m.options.get(OPTION.SERVER_ID), '10.0.0.1', 'the option after it is still read');
  roundTrip(t, m);
});
