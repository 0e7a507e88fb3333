// The sync format across versions: round trips of every entry, a 1.0 reader given 1.1 messages
// (it skips the optional parameter it does not know), any reader given a newer major (refused,
// the next message still read), unknown optional and required parameters and entries, forged
// messages (wrong secret, another session), and a malformed-input table.

import t from 'tap';
import fc from 'fast-check';
import {
  CURRENT, FLAG, HEADER_BYTES, MAX_MESSAGE_BYTES, MessageSplitter, PARAM_LEASE_ORIGIN, SESSION_BYTES, TAG_BYTES,
  decodeSyncMessage, encodeSyncMessage, readHeader, tagOf, type LeaseEntry, type SyncMessage,
} from '../../src/sync/format.js';

const KEY = Buffer.from('an example pair secret, not a real one');
const OTHER_KEY = Buffer.from('another secret of the same length, nope');
const SESSION = Buffer.alloc(SESSION_BYTES, 7);
const V1_0 = { major: 1, minor: 0 };

const lease = (n: number, extra: Partial<LeaseEntry> = {}): LeaseEntry => ({
  kind: 'lease', op: 'bind', address: 0x0a030a00 + n, until: 1_800_000_000_000 + n, at: 1_700_000_000_000 + n,
  client: `hw:1:02:10:00:00:00:${n.toString(16).padStart(2, '0')}`, label: `client ${n}`, hw: '02:10:00:00:00:01', ...extra,
});

const update = (entries: LeaseEntry[], seq = 42): SyncMessage => ({ kind: 'update', seq, flags: 0, entries });

t.test('every entry kind round-trips', async (t) => {
  const messages: SyncMessage[] = [
    { kind: 'hello', seq: 0, flags: 0, entries: [{ kind: 'hello', nonce: Buffer.alloc(8, 1), role: 'standby', preferred: true, leases: 10_000, name: 'node-b' }] },
    { kind: 'heartbeat', seq: 9, flags: 0, entries: [{ kind: 'heartbeat', nonce: Buffer.alloc(8, 2), role: 'active', holdsService: true, hearsPartner: false, acked: 77, leases: 5 }] },
    update([lease(1, { origin: 'node-a' }), lease(2, { op: 'release', until: 0 }), lease(3, { op: 'decline', client: '' })]),
    { kind: 'ack', seq: 0, flags: 0, entries: [{ kind: 'ack', upTo: 2 ** 32 - 1 }] },
    { kind: 'snapshot', seq: 3, flags: FLAG.last, entries: [lease(4), { kind: 'snapshot-end', total: 1 }] },
  ];
  for (const m of messages) {
    const bytes = encodeSyncMessage(m, KEY, SESSION);
    const h = readHeader(bytes);
    t.ok(h && typeof h !== 'string', `${m.kind}: header readable`);
    if (!h || typeof h === 'string') continue;
    t.equal(h.length, bytes.length, `${m.kind}: length in the header is the message's`);
    t.equal(h.count, m.entries.length, `${m.kind}: count in the header`);
    t.same([h.major, h.minor], [CURRENT.major, CURRENT.minor], `${m.kind}: written as ${CURRENT.major}.${CURRENT.minor}`);
    const got = decodeSyncMessage(bytes, KEY, SESSION);
    t.ok(got.ok, `${m.kind}: decodes`);
    if (got.ok) {
      t.same(got.message, m, `${m.kind}: decodes to what was encoded`);
      t.same(encodeSyncMessage(got.message, KEY, SESSION), bytes, `${m.kind}: re-encodes to the same bytes`);
    }
  }
});

t.test('property: any lease update round-trips', async () => {
  const text = (max: number) => fc.string({ maxLength: max, unit: 'grapheme-ascii' });
  const arbLease = fc.record({
    kind: fc.constant('lease' as const), op: fc.constantFrom('bind' as const, 'release' as const, 'decline' as const),
    address: fc.nat({ max: 2 ** 32 - 1 }), until: fc.nat({ max: Number.MAX_SAFE_INTEGER }), at: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    client: text(300), label: text(255), hw: text(60),
  });
  fc.assert(fc.property(fc.array(arbLease, { maxLength: 30 }), fc.nat({ max: 2 ** 32 - 1 }), (entries, seq) => {
    const m = update(entries, seq);
    const got = decodeSyncMessage(encodeSyncMessage(m, KEY, SESSION), KEY, SESSION);
    return got.ok && JSON.stringify(got.message) === JSON.stringify(m);
  }), { numRuns: 300 });
});

t.test('a 1.0 reader reads a 1.1 message: the optional origin parameter is skipped, the leases kept', async (t) => {
  const m = update([lease(1, { origin: 'node-a' }), lease(2, { origin: 'node-a' })]);
  const bytes = encodeSyncMessage(m, KEY, SESSION);
  const old = decodeSyncMessage(bytes, KEY, SESSION, V1_0);
  t.ok(old.ok, 'accepted by the older reader');
  if (!old.ok) return;
  t.equal(old.skipped, 2, 'two unknown optional parameters skipped');
  t.same(old.message.entries, [lease(1), lease(2)], 'every lease, without the parameter it does not know');
  // And the other way: a 1.1 reader reads what a 1.0 writer sends.
  const from10 = encodeSyncMessage(m, KEY, SESSION, { minor: 0 });
  t.equal(from10[3], 0, 'written as 1.0');
  const cur = decodeSyncMessage(from10, KEY, SESSION);
  t.ok(cur.ok && cur.skipped === 0, 'the current reader reads a 1.0 message');
  if (cur.ok) t.same(cur.message.entries, [lease(1), lease(2)], '1.0 has no origin');
});

t.test('unknown parameters: optional ones skipped, required ones refuse the message', async (t) => {
  const optional = encodeSyncMessage(update([lease(1)]), KEY, SESSION, { extraLeaseParams: [{ type: 0x55, optional: true, data: Buffer.from('from 1.7') }] });
  const got = decodeSyncMessage(optional, KEY, SESSION);
  t.ok(got.ok, 'an unknown optional parameter does not stop the reader');
  if (got.ok) {
    t.equal(got.skipped, 1);
    t.same(got.message.entries, [lease(1)]);
  }
  const required = encodeSyncMessage(update([lease(1)]), KEY, SESSION, { extraLeaseParams: [{ type: 0x55, optional: false, data: Buffer.from('x') }] });
  const refused = decodeSyncMessage(required, KEY, SESSION);
  t.match(refused, { ok: false, reason: 'malformed', detail: /parameter 85.*not optional/ });
  // The origin parameter is only known from 1.1: a 1.0 reader sees it as unknown, and it is optional.
  const known = encodeSyncMessage(update([lease(1)]), KEY, SESSION, { extraLeaseParams: [{ type: PARAM_LEASE_ORIGIN, optional: true, data: Buffer.from('x') }] });
  t.ok(decodeSyncMessage(known, KEY, SESSION, V1_0).ok);
});

t.test('unknown entries: optional ones skipped, required ones refuse the message', async (t) => {
  const m = update([lease(1)]);
  const skip = decodeSyncMessage(encodeSyncMessage(m, KEY, SESSION, { extraEntries: [{ kind: 0x60, optional: true, data: Buffer.alloc(10) }] }), KEY, SESSION);
  t.ok(skip.ok && skip.skipped === 1 && skip.message.entries.length === 1, 'optional entry of a later version skipped');
  const stop = decodeSyncMessage(encodeSyncMessage(m, KEY, SESSION, { extraEntries: [{ kind: 0x60, optional: false, data: Buffer.alloc(10) }] }), KEY, SESSION);
  t.match(stop, { ok: false, reason: 'malformed', detail: /kind 96.*not optional/ });
});

t.test('a newer major version is refused, and the stream goes on with the next message', async (t) => {
  const v2 = encodeSyncMessage(update([lease(1)]), KEY, SESSION, { major: 2 });
  const got = decodeSyncMessage(v2, KEY, SESSION);
  t.match(got, { ok: false, reason: 'newer-major', length: v2.length });
  // In a stream: the v2 message is cut out by its length and the v1 after it is read.
  const v1 = encodeSyncMessage(update([lease(2)]), KEY, SESSION);
  const split = new MessageSplitter();
  const stream = Buffer.concat([v2, v1]);
  const frames: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 7) frames.push(...split.push(stream.subarray(i, i + 7)).frames);
  t.equal(frames.length, 2, 'both messages framed, in 7-byte pieces');
  t.match(decodeSyncMessage(frames[0]!, KEY, SESSION), { ok: false, reason: 'newer-major' });
  const second = decodeSyncMessage(frames[1]!, KEY, SESSION);
  t.ok(second.ok && second.message.entries.length === 1, 'the next message is read');
});

t.test('forged messages are refused before their entries are read', async (t) => {
  const m = update([lease(1)]);
  t.match(decodeSyncMessage(encodeSyncMessage(m, OTHER_KEY, SESSION), KEY, SESSION), { ok: false, reason: 'forged' }, 'wrong secret');
  t.match(decodeSyncMessage(encodeSyncMessage(m, KEY, Buffer.alloc(16, 8)), KEY, SESSION), { ok: false, reason: 'forged' }, 'another session (a replay)');
  const flipped = encodeSyncMessage(m, KEY, SESSION);
  flipped[HEADER_BYTES + 8] = flipped[HEADER_BYTES + 8]! ^ 1;
  t.match(decodeSyncMessage(flipped, KEY, SESSION), { ok: false, reason: 'forged' }, 'one bit changed');
  // A forger who also garbles the entries still gets "forged", never a parse of them.
  const garbage = Buffer.concat([flipped.subarray(0, HEADER_BYTES), Buffer.alloc(flipped.length - HEADER_BYTES, 0xff)]);
  t.match(decodeSyncMessage(garbage, KEY, SESSION), { ok: false, reason: 'forged' });
});

/** A message with a chosen body and a valid tag: malformed content that passes authentication. */
function signed(body: Buffer, opts: { count: number; type?: number }): Buffer {
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt16BE(0x5253, 0);
  head[2] = 1;
  head[3] = 1;
  head[4] = opts.type ?? 3;
  head.writeUInt16BE(opts.count, 6);
  head.writeUInt32BE(HEADER_BYTES + body.length + TAG_BYTES, 8);
  const s = Buffer.concat([head, body]);
  return Buffer.concat([s, tagOf(KEY, SESSION, s)]);
}

t.test('malformed messages are refused with a reason, never thrown', async (t) => {
  const good = encodeSyncMessage(update([lease(1)]), KEY, SESSION);
  const entry = good.subarray(HEADER_BYTES, good.length - TAG_BYTES);
  const cases: Array<[string, Buffer, RegExp]> = [
    ['empty', Buffer.alloc(0), /shorter than a header/],
    ['bad magic', Buffer.concat([Buffer.from('XX'), good.subarray(2)]), /bad magic/],
    ['length too small', (() => { const b = Buffer.from(good); b.writeUInt32BE(20, 8); return b; })(), /shorter than a header and a tag/],
    ['length over the limit', (() => { const b = Buffer.from(good); b.writeUInt32BE(MAX_MESSAGE_BYTES + 1, 8); return b; })(), /over the/],
    ['length disagrees', good.subarray(0, good.length - 1), /header says/],
    ['count too high', signed(entry, { count: 2 }), /entry 2 of 2 truncated/],
    ['count too low', signed(Buffer.concat([entry, entry]), { count: 1 }), /bytes after the last/],
    ['entry size past the end', signed((() => { const b = Buffer.from(entry); b.writeUInt16BE(b.length + 1, 2); return b; })(), { count: 1 }), /runs past/],
    ['entry size below its head', signed((() => { const b = Buffer.from(entry); b.writeUInt16BE(2, 2); return b; })(), { count: 1 }), /runs past/],
    ['entry cut short', signed((() => { const b = Buffer.from(entry.subarray(0, 10)); b.writeUInt16BE(10, 2); return b; })(), { count: 1 }), /truncated/],
    ['unknown lease op', signed((() => { const b = Buffer.from(entry); b[4] = 9; return b; })(), { count: 1 }), /unknown lease op/],
    ['unknown message type', signed(entry, { count: 1, type: 99 }), /unknown message type/],
    ['parameter of length 0', signed((() => { const b = Buffer.concat([entry, Buffer.from([0x81, 0])]); b.writeUInt16BE(b.length, 2); return b; })(), { count: 1 }), /length 0/],
    ['older major', (() => { const b = Buffer.from(good); b[2] = 0; return b; })(), /not one this reader speaks/],
  ];
  for (const [name, bytes, re] of cases) {
    const got = decodeSyncMessage(bytes, KEY, SESSION);
    t.match(got, { ok: false, reason: 'malformed', detail: re }, name);
  }
  // Random damage after a valid tag never throws.
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 5 }), (bytes, count) => {
    const got = decodeSyncMessage(signed(Buffer.from(bytes), { count }), KEY, SESSION);
    return got.ok || got.reason === 'malformed';
  }), { numRuns: 2000 });
});

t.test('the splitter refuses a header it cannot step over', async (t) => {
  const split = new MessageSplitter();
  const r = split.push(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  t.match(r, { frames: [], error: /bad magic/ });
  const big = Buffer.from(encodeSyncMessage(update([lease(1)]), KEY, SESSION));
  big.writeUInt32BE(0xffffffff, 8);
  t.match(new MessageSplitter().push(big), { error: /over the/ }, 'a 4 GB length is refused, not awaited');
});

t.test('1.1 and 1.2 across: each reads the other, a newer minor\'s optional parts are skipped, a newer major is refused', async (t) => {
  const V1_1 = { major: 1, minor: 1 };
  const V1_2 = { major: 1, minor: 2 };
  t.same(CURRENT, V1_2, 'this code writes 1.2');
  // A 1.2 table copy (the pairTable flag is new in 1.2) read by a 1.1 reader: the leases and
  // their origin are read; the flag is a header bit it carries without acting on.
  const copy: SyncMessage = { kind: 'snapshot', seq: 1, flags: FLAG.last | FLAG.pairTable, entries: [lease(1, { origin: 'node-a' }), lease(2), { kind: 'snapshot-end', total: 2 }] };
  const old = decodeSyncMessage(encodeSyncMessage(copy, KEY, SESSION), KEY, SESSION, V1_1);
  t.ok(old.ok, '1.1 reader: a 1.2 message is read');
  if (old.ok) {
    t.same(old.message.entries, copy.entries, '1.1 reader: every entry as written, origin included');
    t.equal(old.skipped, 0, 'nothing of 1.2 is an unknown parameter or entry');
  }
  // A 1.1 writer's message read by 1.2: the origin is there, the header says 1.1 (a 1.2 server
  // then exchanges tables the 1.1 way: both at once, merged on both sides).
  const from11 = encodeSyncMessage(update([lease(3, { origin: 'node-b' })]), KEY, SESSION, { minor: 1 });
  const h = readHeader(from11);
  t.same(h && typeof h !== 'string' ? [h.major, h.minor] : h, [1, 1], 'written as 1.1');
  const now = decodeSyncMessage(from11, KEY, SESSION, V1_2);
  t.ok(now.ok && (now.message.entries[0] as LeaseEntry).origin === 'node-b', '1.2 reader: the 1.1 message and its origin read');
  // A later minor (1.3) adds an optional lease parameter and an optional entry: both readers skip
  // them and keep the leases.
  const v13 = encodeSyncMessage(update([lease(4), lease(5)]), KEY, SESSION, {
    minor: 3, extraLeaseParams: [{ type: 0x66, optional: true, data: Buffer.from('1.3 only') }], extraEntries: [{ kind: 0x42, optional: true, data: Buffer.from('1.3 entry') }],
  });
  for (const reader of [V1_1, V1_2]) {
    const got = decodeSyncMessage(v13, KEY, SESSION, reader);
    t.ok(got.ok, `${reader.major}.${reader.minor} reader: a 1.3 message is read`);
    if (got.ok) {
      t.same(got.message.entries.map((e) => (e as LeaseEntry).address), [lease(4).address, lease(5).address], `${reader.major}.${reader.minor} reader: both leases kept`);
      t.equal(got.skipped, 3, `${reader.major}.${reader.minor} reader: two optional parameters and one optional entry skipped`);
    }
  }
  // A 2.0 message to either: refused before anything in it is read, and the next is read.
  const v2 = encodeSyncMessage(update([lease(6)]), KEY, SESSION, { major: 2, minor: 0 });
  for (const reader of [V1_1, V1_2]) {
    t.match(decodeSyncMessage(v2, KEY, SESSION, reader), { ok: false, reason: 'newer-major' }, `${reader.major}.${reader.minor} reader: 2.0 refused`);
    t.ok(decodeSyncMessage(from11, KEY, SESSION, reader).ok, `${reader.major}.${reader.minor} reader: the next message still read`);
  }
});
