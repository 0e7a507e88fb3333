import t from 'tap';
import { createMessage, decodeMessage, encodeMessage, encodingLength, maxMessageSize, MESSAGE_TYPE, OP, OPTION, type AnyOptionValue } from '../../src/dhcp-packet/index.js';
import { instancesIn, roundTrip, sampleMessages } from './helpers/support.js';

const fill = (n: number, b: number) => Buffer.alloc(n, b);

function reply(options: Array<[number, AnyOptionValue]>, fields: { file?: string; sname?: string } = {}) {
  return createMessage({ op: OP.BOOTREPLY, xid: 42, type: MESSAGE_TYPE.ACK, yiaddr: '10.0.0.9', ...fields, options });
}

/** Instances per field of an encoded packet, as [code, length] pairs. */
function fields(buf: Buffer) {
  const pairs = (from: number, to: number) => instancesIn(buf, from, to).map((i) => [i.code, i.data.length]);
  return { options: pairs(240, buf.length), file: pairs(108, 236), sname: pairs(44, 108) };
}

t.test('a reply that fits in 576 bytes is sent plain', async (t) => {
  // 53 (3) + 200 (252) + 201 (52) + END = 308 = 576 − 28 − 240: the last byte that fits.
  const msg = reply([[200, fill(250, 1)], [201, fill(50, 2)]]);
  const buf = roundTrip(t, msg);
  t.equal(buf.length, 548, 'fills the 548-byte DHCP payload of a 576-byte datagram exactly');
  t.same(fields(buf).options, [[53, 1], [200, 250], [201, 50]]);
  t.notOk(fields(buf).options.some(([c]) => c === 52), 'no option 52');
});

t.test('one byte more moves an option into file, with option 52 = 1', async (t) => {
  const msg = reply([[200, fill(250, 1)], [201, fill(51, 2)]]);
  const buf = roundTrip(t, msg, undefined, { ordered: false });
  t.ok(buf.length <= 548, `${buf.length} bytes fit 576`);
  const f = fields(buf);
  t.same(f.options, [[52, 1], [53, 1], [200, 250]], '52 first, then what fits');
  t.same(f.file, [[201, 51]], 'the option that did not fit is whole in file');
  t.equal(buf[108 + 53], 255, 'file options end with END');
  t.same(f.sname, [], 'sname untouched');
  t.equal(buf[44], 0);
});

t.test('more again uses sname too, with option 52 = 3', async (t) => {
  const msg = reply([[200, fill(250, 1)], [201, fill(100, 2)], [202, fill(50, 3)]]);
  const buf = roundTrip(t, msg, undefined, { ordered: false });
  const f = fields(buf);
  t.same(f.options, [[52, 1], [53, 1], [200, 250]], 'options field');
  t.equal(buf[242], 3, 'option 52 value 3');
  t.same(f.file, [[201, 100]]);
  t.same(f.sname, [[202, 50]]);
  const m = decodeMessage(buf);
  t.equal(m.file, '');
  t.equal(m.sname, '');
});

t.test('short options are never split; a long option is cut where each field ends', async (t) => {
  const data = Buffer.from(Array.from({ length: 450 }, (_, i) => i & 0xff));
  const msg = reply([[OPTION.VENDOR_SPECIFIC, data]]);
  const buf = roundTrip(t, msg);
  const f = fields(buf);
  t.same(f.options, [[52, 1], [53, 1], [43, 255], [43, 42]], 'options field filled to its last byte');
  t.same(f.file, [[43, 125]]);
  t.same(f.sname, [[43, 28]]);
  t.equal(buf.length, 548);
  t.ok(decodeMessage(buf).options.get(OPTION.VENDOR_SPECIFIC)!.equals(data), 'joined back in order');
});

t.test('a typical ACK with 380 bytes of topology objects fits a client that sent no option 57', async (t) => {
  const ack = sampleMessages()[2]!.msg;
  ack.options.set(OPTION.VENDOR_SPECIFIC, fill(380, 0x7b));
  const buf = roundTrip(t, ack, undefined, { ordered: false });
  t.ok(buf.length <= 548);
  const f = fields(buf);
  for (const area of [f.options, f.file, f.sname]) {
    for (const [code] of area) if (code !== 43) t.equal(area.filter(([c]) => c === code).length, 1, `option ${code} in one piece`);
  }
  t.equal([...f.options, ...f.file, ...f.sname].filter(([c]) => c === 51).length, 1, 'lease time sent once');
});

t.test('the client maximum (option 57) decides; 576 is the floor', async (t) => {
  const msg = reply([[OPTION.VENDOR_SPECIFIC, fill(600, 9)]]);
  const request = createMessage({ op: OP.BOOTREQUEST, xid: 42, type: MESSAGE_TYPE.REQUEST, options: [[OPTION.MAX_MESSAGE_SIZE, 1500]] });
  const big = roundTrip(t, msg, { maxSize: maxMessageSize(request) });
  t.same(fields(big).options, [[53, 1], [43, 255], [43, 255], [43, 90]], '1500: no overload needed');
  t.throws(() => encodeMessage(msg, { maxSize: 100 }), { code: 'RS_ENCODE', reason: 'too-big', message: /576-byte datagram/ }, 'below 576 counts as 576');
});

t.test('too big even with overload: a typed error that says how much', async (t) => {
  const msg = reply([[OPTION.VENDOR_SPECIFIC, fill(600, 9)]]);
  t.throws(() => encodeMessage(msg), { name: 'EncodeError', code: 'RS_ENCODE', reason: 'too-big', message: /options need 609 bytes but only 494 fit in a 576-byte datagram/ });
  t.throws(() => encodingLength(msg), { code: 'RS_ENCODE', reason: 'too-big' }, 'encodingLength says the same');
  const oneTooMany = reply([[200, fill(250, 1)], [201, fill(100, 2)], [202, fill(62, 3)]]);
  t.throws(() => encodeMessage(oneTooMany), { code: 'RS_ENCODE', reason: 'too-big' }, 'a short option is not split to squeeze it in');
});

t.test('a file or sname the caller set is never overwritten with options', async (t) => {
  const withFile = reply([[200, fill(250, 1)], [201, fill(51, 2)]], { file: 'pxelinux.0' });
  const buf = roundTrip(t, withFile, undefined, { ordered: false });
  t.equal(buf[242], 2, '52 = 2: sname only');
  t.equal(buf.toString('latin1', 108, 118), 'pxelinux.0');
  t.same(fields(buf).sname, [[201, 51]]);
  t.equal(decodeMessage(buf).file, 'pxelinux.0');
  const withBoth = reply([[200, fill(250, 1)], [201, fill(51, 2)]], { file: 'pxelinux.0', sname: 'tftp' });
  t.throws(() => encodeMessage(withBoth), { code: 'RS_ENCODE', reason: 'too-big' });
});

t.test('never longer than the limit, never shorter than 300', async (t) => {
  for (let n = 0; n <= 480; n += 7) {
    const msg = reply([[OPTION.HOSTNAME, 'f'], [OPTION.VENDOR_SPECIFIC, fill(n, 5)]]);
    let buf: Buffer;
    try {
      buf = encodeMessage(msg);
    } catch (err) {
      t.match(err, { code: 'RS_ENCODE', reason: 'too-big' }, `${n}: only too-big may fail`);
      continue;
    }
    t.ok(buf.length <= 548 && buf.length >= 300, `${n}: ${buf.length} bytes`);
    t.ok(decodeMessage(buf).options.get(OPTION.VENDOR_SPECIFIC)!.equals(fill(n, 5)), `${n}: data intact`);
  }
});
