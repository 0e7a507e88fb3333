import t from 'tap';
import { decodeMessage } from '../../src/dhcp-packet/index.js';
import { DecodeError } from '../../src/errors.js';
import { rawPacket } from './helpers/support.js';

const MT = [53, 1, 1]; // a valid message type, DISCOVER

function withHeader(mutate: (b: Buffer) => void, options: number[] = [...MT, 255]): Buffer {
  const b = rawPacket(options);
  mutate(b);
  return b;
}

const fileWith = (bytes: Record<number, number>) => {
  const f = new Array<number>(128).fill(0);
  for (const [i, v] of Object.entries(bytes)) f[Number(i)] = v;
  return f;
};

// [name, packet, reason, offset, message]
const cases: Array<[string, Buffer, string, number, RegExp]> = [
  ['empty datagram', Buffer.alloc(0), 'truncated-header', 0, /BOOTP header: 0 bytes, need 236/],
  ['one byte short of a header', rawPacket([]).subarray(0, 235), 'truncated-header', 0, /235 bytes, need 236/],
  ['header without cookie', rawPacket([]).subarray(0, 236), 'bad-cookie', 236, /no magic cookie/],
  ['cookie cut short', rawPacket([]).subarray(0, 239), 'bad-cookie', 236, /no magic cookie/],
  ['wrong cookie (plain BOOTP vendor area)', withHeader((b) => b.writeUInt32BE(0x63825364, 236)), 'bad-cookie', 236, /magic cookie 0x63825364, expected 0x63825363/],
  ['op 0', withHeader((b) => { b[0] = 0; }), 'bad-op', 0, /op 0 is neither/],
  ['op 3', withHeader((b) => { b[0] = 3; }), 'bad-op', 0, /op 3 is neither/],
  ['hlen 17', withHeader((b) => { b[2] = 17; }), 'bad-hlen', 2, /hlen 17 exceeds the 16-byte chaddr field/],
  ['hlen 255', withHeader((b) => { b[2] = 255; }), 'bad-hlen', 2, /hlen 255/],
  ['option code with no length byte', rawPacket([...MT, 12]), 'truncated-option', 243, /option 12 in options: no length byte/],
  ['option length past the end', rawPacket([...MT, 12, 10, 0x41]), 'option-past-end', 243, /option 12 in options: length 10 runs 9 bytes past the end/],
  ['length 255 on the last option', rawPacket([...MT, 43, 255]), 'option-past-end', 243, /length 255 runs 255 bytes past/],
  ['message type missing', rawPacket([12, 1, 0x41, 255]), 'missing-message-type', 240, /no option 53/],
  ['only pads and end', rawPacket([0, 0, 0, 255]), 'missing-message-type', 240, /no option 53/],
  ['no options at all', rawPacket([]), 'missing-message-type', 240, /not a DHCP message/],
  ['message type 0', rawPacket([53, 1, 0, 255]), 'bad-message-type', 240, /0 is not a DHCP message type/],
  ['message type 19', rawPacket([53, 1, 19, 255]), 'bad-message-type', 240, /19 is not a DHCP message type/],
  ['message type of length 2', rawPacket([53, 2, 1, 1, 255]), 'bad-message-type', 240, /length 2, expected 1/],
  ['message type given twice (joined: length 2)', rawPacket([...MT, 53, 1, 3, 255]), 'bad-message-type', 240, /length 2/],
  ['lease time of 3 bytes', rawPacket([...MT, 51, 3, 0, 0, 1, 255]), 'bad-option', 243, /option 51 \(lease-time\): length 3, expected 4/],
  ['router list of 5 bytes', rawPacket([...MT, 3, 5, 10, 0, 0, 1, 9, 255]), 'bad-option', 243, /option 3 \(routers\): length 5 is not a multiple of 4/],
  ['empty server id', rawPacket([...MT, 54, 0, 255]), 'bad-option', 243, /option 54 \(server-id\): length 0, expected 4/],
  ['requested address split 2 + 3', rawPacket([...MT, 50, 2, 10, 0, 50, 3, 0, 1, 1, 255]), 'bad-option', 243, /option 50 \(requested-address\): length 5/],
  ['overload of length 2', rawPacket([...MT, 52, 2, 1, 1, 255]), 'bad-overload', 243, /option 52 \(overload\): length 2, expected 1/],
  ['overload 0', rawPacket([...MT, 52, 1, 0, 255]), 'bad-overload', 243, /value 0, expected 1, 2 or 3/],
  ['overload 4', rawPacket([...MT, 52, 1, 4, 255]), 'bad-overload', 243, /value 4/],
  ['overload twice', rawPacket([...MT, 52, 1, 1, 52, 1, 1, 255]), 'bad-overload', 246, /appears 2 times/],
  ['overload inside file', rawPacket([...MT, 52, 1, 1, 255], { file: [52, 1, 2, 255] }), 'bad-overload', 108, /option 52 \(overload\) inside an overloaded/],
  ['overload pointing at garbage whose second length runs out', rawPacket([...MT, 52, 1, 1, 255], { file: fileWith({ 0: 1, 1: 100, 102: 7, 103: 30 }) }), 'option-past-end', 210, /option 7 in file: length 30 runs 6 bytes past the end of the file area/],
  ['overload pointing at garbage that ends mid-option', rawPacket([...MT, 52, 1, 1, 255], { file: fileWith({ 127: 12 }) }), 'truncated-option', 235, /option 12 in file: no length byte/],
  ['overload: bad length in sname', rawPacket([...MT, 52, 1, 3, 255], { file: [255], sname: [43, 64] }), 'option-past-end', 44, /option 43 in sname: length 64 runs 2 bytes past/],
];

t.test('malformed datagrams give a DecodeError with a reason, an offset and a message', async (t) => {
  for (const [name, packet, reason, offset, message] of cases) {
    let err: unknown;
    try {
      decodeMessage(packet);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof DecodeError, `${name}: DecodeError`);
    if (!(err instanceof DecodeError)) continue;
    t.equal(err.code, 'RS_DECODE', `${name}: code`);
    t.equal(err.reason, reason, `${name}: reason`);
    t.equal(err.offset, offset, `${name}: offset`);
    t.match(err.message, message, `${name}: message`);
    t.match(err.message, new RegExp(`\\(at byte ${offset}\\)$`), `${name}: message says where`);
  }
});

t.test('tolerated: a missing END, trailing garbage after END, pads anywhere', async (t) => {
  t.equal(decodeMessage(rawPacket(MT)).options.get(53), 1, 'options run to the end of the datagram without END');
  t.equal(decodeMessage(rawPacket([...MT, 255, 12, 200, 1])).options.size, 1, 'bytes after END are ignored');
  t.equal(decodeMessage(rawPacket([0, 0, 53, 1, 1, 0, 12, 1, 0x41, 0, 255])).options.get(12), 'A', 'pads between options');
  t.equal(decodeMessage(rawPacket([...MT, 52, 1, 1, 255], { file: [12, 1, 0x42] })).options.get(12), 'B', 'an overloaded field without END');
});

t.test('a range outside the buffer is a DecodeError, not a RangeError', async (t) => {
  const b = rawPacket([...MT, 255]);
  for (const [off, end] of [[-1, b.length], [0, b.length + 1], [10, 5], [0.5, b.length]] as const) {
    t.throws(() => decodeMessage(b, off, end), { name: 'DecodeError', code: 'RS_DECODE' }, `${off}..${end}`);
  }
});
