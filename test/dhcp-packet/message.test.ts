import t from 'tap';
import {
  BROADCAST_FLAG, createMessage, decodeMessage, encodeMessage, hardwareAddress, isBroadcast, maxMessageSize, messageType,
  DhcpOptions, MESSAGE_TYPE, OP, OPTION,
} from '../../src/dhcp-packet/index.js';
import { roundTrip, sampleMessages } from './helpers/support.js';

t.test('representative messages round-trip', async (t) => {
  for (const { name, msg } of sampleMessages()) {
    await t.test(name, async (t) => {
      roundTrip(t, msg, { maxSize: 1500 });
    });
  }
});

t.test('header fields land at their RFC 2131 offsets', async (t) => {
  const msg = createMessage({
    op: OP.BOOTREPLY, xid: 0x11223344, type: MESSAGE_TYPE.OFFER, htype: 1, hops: 2, secs: 0x0506, flags: BROADCAST_FLAG,
    ciaddr: '1.2.3.4', yiaddr: '5.6.7.8', siaddr: '9.10.11.12', giaddr: '13.14.15.16', chaddr: Buffer.from('525400123456', 'hex'),
    sname: 'srv', file: 'boot.img',
  });
  const b = encodeMessage(msg);
  t.equal(b[0], 2, 'op');
  t.equal(b[1], 1, 'htype');
  t.equal(b[2], 6, 'hlen is the chaddr length');
  t.equal(b[3], 2, 'hops');
  t.equal(b.readUInt32BE(4), 0x11223344, 'xid');
  t.equal(b.readUInt16BE(8), 0x0506, 'secs');
  t.equal(b.readUInt16BE(10), 0x8000, 'flags: broadcast bit is the leftmost');
  t.same([...b.subarray(12, 28)], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 'ciaddr yiaddr siaddr giaddr');
  t.equal(b.subarray(28, 44).toString('hex'), '525400123456' + '00'.repeat(10), 'chaddr padded to 16');
  t.equal(b.toString('latin1', 44, 47), 'srv');
  t.equal(b[47], 0, 'sname NUL-terminated');
  t.equal(b.toString('latin1', 108, 116), 'boot.img');
  t.equal(b.readUInt32BE(236), 0x63825363, 'magic cookie 99.130.83.99');
  t.same([...b.subarray(240, 243)], [53, 1, 2], 'option 53 first');
  t.equal(b[243], 255, 'end option');
  t.equal(b.length, 300, 'padded to the BOOTP minimum of 300 bytes');
  t.ok(b.subarray(244).every((x) => x === 0), 'pad after end');
  const back = decodeMessage(b);
  t.ok(isBroadcast(back), 'isBroadcast');
  t.equal(hardwareAddress(back), '52:54:00:12:34:56');
  t.equal(messageType(back), MESSAGE_TYPE.OFFER);
});

t.test('typed getters and setters', async (t) => {
  const o = new DhcpOptions();
  o.set(OPTION.LEASE_TIME, 3600).set(OPTION.ROUTERS, ['10.0.0.1']).set(OPTION.CLIENT_ID, Buffer.from('abc'));
  const lease: number | undefined = o.get(OPTION.LEASE_TIME);
  const routers: string[] | undefined = o.get(OPTION.ROUTERS);
  const raw: Buffer | undefined = o.get(200);
  t.equal(lease, 3600);
  t.same(routers, ['10.0.0.1']);
  t.equal(raw, undefined);
  t.same(o.codes(), [51, 3, 61], 'insertion order');
  o.set(OPTION.LEASE_TIME, 60);
  t.same(o.codes(), [51, 3, 61], 'setting again keeps the place');
  t.same(o.getRaw(OPTION.LEASE_TIME), Buffer.from('0000003c', 'hex'), 'getRaw gives wire bytes');
  const c = o.clone();
  c.get(OPTION.CLIENT_ID)?.fill(0);
  c.delete(OPTION.ROUTERS);
  t.same(o.get(OPTION.CLIENT_ID), Buffer.from('abc'), 'clone copies buffers');
  t.ok(o.has(OPTION.ROUTERS), 'clone is independent');
  const fromList = new DhcpOptions([[OPTION.SERVER_ID, '10.0.0.1'], [200, Buffer.of(1)]]);
  t.same([...fromList], [[54, '10.0.0.1'], [200, Buffer.of(1)]], 'built from entries, iterable in order');
  t.throws(() => new DhcpOptions([[OPTION.SERVER_ID, 'nope']]), { code: 'RS_ENCODE', reason: 'bad-value' }, 'constructor checks too');
});

t.test('values that cannot be encoded are refused where they are set', async (t) => {
  const o = new DhcpOptions();
  const cases: Array<[() => unknown, RegExp, string]> = [
    [() => o.set(OPTION.SERVER_ID, '10.0.0.256'), /option 54 \(server-id\): "10.0.0.256" is not an IPv4 address/, 'bad-value'],
    [() => o.set(OPTION.ROUTERS, ['10.0.0.1', '010.0.0.1']), /not an IPv4 address/, 'bad-value'],
    [() => o.set(OPTION.LEASE_TIME, -1), /not an integer in 0\.\.4294967295/, 'bad-value'],
    [() => o.set(OPTION.MAX_MESSAGE_SIZE, 70000), /0\.\.65535/, 'bad-value'],
    [() => o.set(OPTION.MESSAGE_TYPE, 0 as never), /not a DHCP message type/, 'bad-value'],
    [() => o.set(OPTION.HOSTNAME, 'h\u0100'), /outside one byte/, 'bad-value'],
    [() => o.set(OPTION.OVERLOAD, Buffer.of(1)), /option 52 \(overload\) is written by the encoder/, 'bad-code'],
    [() => o.set(0, Buffer.of(1)), /not in 1\.\.254/, 'bad-code'],
    [() => o.set(255, Buffer.of(1)), /not in 1\.\.254/, 'bad-code'],
    [() => o.set(300, Buffer.of(1)), /not in 1\.\.254/, 'bad-code'],
  ];
  for (const [fn, re, reason] of cases) {
    t.throws(fn, { name: 'EncodeError', code: 'RS_ENCODE', reason, message: re }, String(re));
  }
  t.equal(o.size, 0, 'nothing was stored');
});

t.test('header values that cannot be encoded are refused by encodeMessage', async (t) => {
  const base = () => createMessage({ op: OP.BOOTREQUEST, xid: 1, type: MESSAGE_TYPE.DISCOVER });
  const cases: Array<[(m: ReturnType<typeof base>) => void, RegExp]> = [
    [(m) => { m.xid = 2 ** 32; }, /xid: 4294967296 is not an integer/],
    [(m) => { m.op = 3 as never; }, /op: 3 is neither/],
    [(m) => { m.ciaddr = '1.2.3'; }, /ciaddr: "1.2.3" is not an IPv4 address/],
    [(m) => { m.chaddr = Buffer.alloc(17); }, /chaddr: expected a Buffer of at most 16 bytes/],
    [(m) => { m.sname = 's'.repeat(65); }, /sname: 65 bytes, the field holds 64/],
    [(m) => { m.file = 'a\0b'; }, /file: contains a NUL byte/],
    [(m) => { m.options.delete(OPTION.MESSAGE_TYPE); }, /option 53 \(message type\) is required/],
  ];
  for (const [mutate, re] of cases) {
    const m = base();
    mutate(m);
    t.throws(() => encodeMessage(m), { name: 'EncodeError', code: 'RS_ENCODE', message: re }, String(re));
  }
  t.throws(() => createMessage({ op: OP.BOOTREQUEST, xid: 1, type: MESSAGE_TYPE.DISCOVER, options: [[OPTION.MESSAGE_TYPE, 3]] }), /give the message type as `type`/);
});

t.test('maxMessageSize reads option 57 with the RFC 2131 floor of 576', async (t) => {
  const m = createMessage({ op: OP.BOOTREQUEST, xid: 1, type: MESSAGE_TYPE.DISCOVER });
  t.equal(maxMessageSize(m), 576, 'absent: 576');
  m.options.set(OPTION.MAX_MESSAGE_SIZE, 1500);
  t.equal(maxMessageSize(m), 1500);
  m.options.set(OPTION.MAX_MESSAGE_SIZE, 300);
  t.equal(maxMessageSize(m), 576, 'below 576 is raised');
});

t.test('decode copies: reusing the receive buffer does not change a decoded message', async (t) => {
  const buf = encodeMessage(sampleMessages()[0]!.msg);
  const m = decodeMessage(buf);
  const before = m.options.get(OPTION.CLIENT_ID)!.toString();
  buf.fill(0x41);
  t.equal(m.options.get(OPTION.CLIENT_ID)!.toString(), before);
  t.equal(hardwareAddress(m), '52:54:00:12:34:56');
});

t.test('decodeMessage accepts a plain Uint8Array and a sub-range', async (t) => {
  const buf = encodeMessage(sampleMessages()[1]!.msg);
  const u8 = new Uint8Array(buf.length + 10);
  u8.set(buf, 5);
  t.equal(decodeMessage(u8, 5, 5 + buf.length).xid, 1);
  t.equal(decodeMessage(new Uint8Array(buf)).xid, 1);
});
