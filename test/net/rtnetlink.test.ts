// The rtnetlink decoder on hostile bytes: it never throws, and a truncated message is counted as
// skipped rather than misread.

import fc from 'fast-check';
import t from 'tap';
import { decodeDatagram } from '../../src/net/rtnetlink.js';

/** One RTM_NEWADDR for 10.1.2.3/24 on ifindex 7, built by hand from if_addr.h's layout. */
function newAddr(): Buffer {
  const attr = Buffer.alloc(8);
  attr.writeUInt16LE(8, 0);
  attr.writeUInt16LE(2, 2); // IFA_LOCAL
  Buffer.from([10, 1, 2, 3]).copy(attr, 4);
  const body = Buffer.alloc(8);
  body[0] = 2; // AF_INET
  body[1] = 24;
  body.writeUInt32LE(7, 4);
  const hdr = Buffer.alloc(16);
  hdr.writeUInt32LE(16 + body.length + attr.length, 0);
  hdr.writeUInt16LE(20, 4); // RTM_NEWADDR
  return Buffer.concat([hdr, body, attr]);
}

t.test('a hand-built address message decodes', async (t) => {
  const d = decodeDatagram(newAddr());
  t.same(d.events, [{ kind: 'address', action: 'new', family: 4, index: 7, address: '10.1.2.3', prefixLength: 24 }]);
  t.equal(d.skipped, 0);
});

t.test('every truncation of a message is skipped, never misread or thrown', async (t) => {
  const full = newAddr();
  for (let len = 0; len < full.length; len++) {
    const cut = Buffer.from(full.subarray(0, len));
    const d = decodeDatagram(cut);
    t.same(d.events, [], `cut at ${len}`);
  }
});

t.test('random bytes never throw', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      decodeDatagram(Buffer.from(bytes));
    }),
    { numRuns: 5000 },
  );
  // Valid headers around random bodies reach the per-type decoders.
  fc.assert(
    fc.property(fc.constantFrom(16, 17, 20, 21, 24, 25, 32, 33), fc.uint8Array({ maxLength: 200 }), (type, body) => {
      const hdr = Buffer.alloc(16);
      hdr.writeUInt32LE(16 + body.length, 0);
      hdr.writeUInt16LE(type, 4);
      decodeDatagram(Buffer.concat([hdr, Buffer.from(body)]));
    }),
    { numRuns: 5000 },
  );
  t.pass();
});
