// Shared by the dhcp-packet tests and bench/fuzz-codec.ts. Lives in a `helpers` folder, which
// the tap config in package.json excludes from the test files it runs.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createMessage, decodeMessage, encodeMessage, encodingLength, messageCodec, messageToJSON, textClientId,
  MESSAGE_TYPE, OP, OPTION, type DhcpMessage, type EncodeOptions, type MessageJSON,
} from '../../../src/dhcp-packet/index.js';

/** Test context: the subset of tap's `t` the helpers use (so bench code can pass its own). */
export interface Checker {
  equal(a: unknown, b: unknown, ...msg: [string]): unknown;
  same(a: unknown, b: unknown, ...msg: [string]): unknown;
  ok(v: unknown, ...msg: [string]): unknown;
}

/** Captured packets live in test/fixtures/packets (read from the project root: tests run from dist/). */
export const PACKET_DIR = join(process.cwd(), 'test', 'fixtures', 'packets');

/** A .hex fixture: `#` comment lines, then hex in any line layout. */
export function loadHex(name: string): Buffer {
  const text = readFileSync(join(PACKET_DIR, `${name}.hex`), 'utf8');
  const hex = text.split('\n').filter((l) => !l.startsWith('#')).join('').replace(/\s+/g, '');
  return Buffer.from(hex, 'hex');
}

export const FIXTURE_NAMES = [
  'dhclient-text-id', 'dhclient-default', 'udhcpc-typed-text-id', 'udhcpc-default', 'dhcpcd-text-id', 'dhcpcd-default',
].flatMap((n) => [`${n}-discover`, `${n}-request`]);

/** The JSON picture with options sorted by code: equal for messages whose options only moved. */
export function sortedJSON(msg: DhcpMessage): MessageJSON {
  const j = messageToJSON(msg);
  j.options.sort((a, b) => a.code - b.code);
  return j;
}

/**
 * The house round-trip check: length === encodingLength, decode∘encode = identity (options in
 * the same order), re-encode gives the same bytes, and encode/decode at an offset inside a
 * larger buffer gives the same bytes. Returns the encoded bytes.
 */
export function roundTrip(t: Checker, msg: DhcpMessage, opts?: EncodeOptions, { ordered = true } = {}): Buffer {
  const buf = encodeMessage(msg, opts);
  t.equal(buf.length, encodingLength(msg, opts), 'length matches encodingLength');
  const back = decodeMessage(buf);
  if (ordered) t.same(messageToJSON(back), messageToJSON(msg), 'decode(encode(m)) equals m');
  else t.same(sortedJSON(back), sortedJSON(msg), 'decode(encode(m)) equals m (options in any order)');
  t.ok(encodeMessage(back, opts).equals(buf), 're-encoding the decoded message gives the same bytes');

  const codec = messageCodec(opts);
  const big = Buffer.alloc(buf.length + 20, 0xee);
  const end = codec.encode(msg, big, 7);
  t.equal(end, 7 + buf.length, 'encode at an offset returns the new offset');
  t.ok(big.subarray(7, end).equals(buf), 'encode at an offset writes the same bytes');
  t.equal(big[6], 0xee, 'byte before the message untouched');
  t.equal(big[end], 0xee, 'byte after the message untouched');
  t.same(messageToJSON(codec.decode(big, 7, end).value), messageToJSON(back), 'decode of a range inside a larger buffer');
  return buf;
}

const MAC = Buffer.from('525400123456', 'hex');

/** Representative messages: what the server and client exchange, plus edge shapes. */
export function sampleMessages(): Array<{ name: string; msg: DhcpMessage }> {
  const topology = Buffer.from(
    Array.from({ length: 6 }, (_, i) => {
      const body = Buffer.from(`{"bond0":{"mode":"802.3ad","members":["eth${i}","eth${i + 1}"]}}`);
      return Buffer.concat([Buffer.of(10 + i, body.length), body]);
    }).reduce((a, b) => Buffer.concat([a, b])),
  );
  return [
    {
      name: 'DISCOVER with text client id and vendor class',
      msg: createMessage({
        op: OP.BOOTREQUEST, xid: 0xdeadbeef, type: MESSAGE_TYPE.DISCOVER, chaddr: MAC, flags: 0x8000, secs: 3,
        options: [
          [OPTION.CLIENT_ID, textClientId('rackstrap-c1:mgmt0:Filer1')],
          [OPTION.VENDOR_CLASS, 'rackstrap'],
          [OPTION.MAX_MESSAGE_SIZE, 1500],
          [OPTION.PARAMETER_REQUEST_LIST, [1, 3, 6, 12, 15, 42, 43]],
          [OPTION.HOSTNAME, 'filer1'],
        ],
      }),
    },
    {
      name: 'REQUEST selecting, type-byte client id',
      msg: createMessage({
        op: OP.BOOTREQUEST, xid: 1, type: MESSAGE_TYPE.REQUEST, chaddr: MAC,
        options: [
          [OPTION.CLIENT_ID, textClientId('rackstrap-c1:data0:vs1:1', { typeByte: true })],
          [OPTION.REQUESTED_ADDRESS, '10.1.2.3'], [OPTION.SERVER_ID, '10.1.0.1'],
        ],
      }),
    },
    {
      name: 'ACK with every typed option and topology in 43',
      msg: createMessage({
        op: OP.BOOTREPLY, xid: 0x01020304, type: MESSAGE_TYPE.ACK, chaddr: MAC, yiaddr: '10.1.2.3', siaddr: '10.1.0.1',
        options: [
          [OPTION.SERVER_ID, '10.1.0.1'], [OPTION.LEASE_TIME, 86400], [OPTION.RENEWAL_TIME, 43200], [OPTION.REBINDING_TIME, 75600],
          [OPTION.SUBNET_MASK, '255.255.0.0'], [OPTION.ROUTERS, ['10.1.0.1', '10.1.0.2']], [OPTION.DNS_SERVERS, ['10.1.0.53']],
          [OPTION.HOSTNAME, 'filer1'], [OPTION.DOMAIN_NAME, 'cluster.example'], [OPTION.BROADCAST_ADDRESS, '10.1.255.255'],
          [OPTION.NTP_SERVERS, ['10.1.0.123', '10.1.0.124', '10.1.0.125']], [OPTION.VENDOR_SPECIFIC, topology],
        ],
      }),
    },
    {
      name: 'NAK with message text',
      msg: createMessage({
        op: OP.BOOTREPLY, xid: 7, type: MESSAGE_TYPE.NAK, chaddr: MAC,
        options: [[OPTION.SERVER_ID, '10.1.0.1'], [OPTION.MESSAGE, 'address not on this network']],
      }),
    },
    {
      name: 'relayed REQUEST with option 82 and hops',
      msg: createMessage({
        op: OP.BOOTREQUEST, xid: 99, type: MESSAGE_TYPE.REQUEST, chaddr: MAC, giaddr: '10.9.0.1', hops: 1, ciaddr: '10.9.0.77',
        options: [[OPTION.RELAY_AGENT_INFO, Buffer.from('010465746830020401020304', 'hex')]],
      }),
    },
    {
      name: 'unknown options kept in order, empty ones too, 16-byte chaddr, sname and file text',
      msg: createMessage({
        op: OP.BOOTREPLY, xid: 0xffffffff, type: MESSAGE_TYPE.OFFER, htype: 32, chaddr: Buffer.alloc(16, 0xab),
        sname: 'boot-server', file: 'x'.repeat(128), yiaddr: '255.255.255.255',
        options: [[200, Buffer.from('zz')], [80, Buffer.alloc(0)], [OPTION.LEASE_TIME, 0xffffffff], [121, Buffer.from('18c0a801c0a80101', 'hex')], [254, Buffer.alloc(255, 1)]],
      }),
    },
    {
      name: 'INFORM with empty chaddr (hlen 0) and byte-valued text',
      msg: createMessage({
        op: OP.BOOTREQUEST, xid: 5, type: MESSAGE_TYPE.INFORM, htype: 0, ciaddr: '192.0.2.9', sname: 'caf\u00e9',
        options: [[OPTION.HOSTNAME, 'h\u00ff\u0001'], [OPTION.PARAMETER_REQUEST_LIST, []]],
      }),
    },
  ];
}

/**
 * A hand-built datagram: a valid BOOTREQUEST header (xid 0x01020304, chaddr 52:54:00:12:34:56,
 * cookie), then exactly `options` as given; `file`/`sname` bytes are copied into those fields.
 */
export function rawPacket(options: ArrayLike<number>, fields: { file?: ArrayLike<number>; sname?: ArrayLike<number> } = {}): Buffer {
  const b = Buffer.alloc(240 + options.length);
  b[0] = 1;
  b[1] = 1;
  b[2] = 6;
  b.writeUInt32BE(0x01020304, 4);
  Buffer.from('525400123456', 'hex').copy(b, 28);
  if (fields.sname) b.set(fields.sname, 44);
  if (fields.file) b.set(fields.file, 108);
  b.writeUInt32BE(0x63825363, 236);
  b.set(options, 240);
  return b;
}

/** Option instances as [code, length, data...] found in `buf[from, to)`, pads skipped, stopping at END. */
export function instancesIn(buf: Buffer, from: number, to: number): Array<{ code: number; data: Buffer }> {
  const out: Array<{ code: number; data: Buffer }> = [];
  let i = from;
  while (i < to) {
    const code = buf[i]!;
    if (code === 0) { i++; continue; }
    if (code === 255) break;
    const len = buf[i + 1]!;
    out.push({ code, data: buf.subarray(i + 2, i + 2 + len) });
    i += 2 + len;
  }
  return out;
}
