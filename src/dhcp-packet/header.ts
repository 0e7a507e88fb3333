// The fixed BOOTP header (RFC 2131 §2, figure 1) plus the magic cookie that opens the options
// field (RFC 2131 §3): 240 bytes, always the same size.

import { checkLatin1, decodeFail, encodeFail, formatIPv4, parseIPv4, type Codec } from './codec.js';
import { CHADDR_LENGTH, FILE_LENGTH, HEADER_LENGTH, MAGIC_COOKIE, OFFSET, OP, OPTIONS_OFFSET, SNAME_LENGTH, type Op } from './constants.js';

export interface BootpHeader {
  /** 1 = BOOTREQUEST (client → server), 2 = BOOTREPLY. */
  op: Op;
  /** Hardware type, 1 = Ethernet. */
  htype: number;
  /** Relay hops. */
  hops: number;
  /** Transaction id chosen by the client, unsigned 32-bit. */
  xid: number;
  /** Seconds since the client began acquiring or renewing. */
  secs: number;
  /** 16 bits; BROADCAST_FLAG is the only one defined. */
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The client hardware address: `hlen` bytes (0–16); `hlen` on the wire is its length. */
  chaddr: Buffer;
  /** Server host name; empty when absent or when the field carries options (option 52). */
  sname: string;
  /** Boot file name; empty when absent or when the field carries options (option 52). */
  file: string;
}

const ADDRESS_FIELDS = ['ciaddr', 'yiaddr', 'siaddr', 'giaddr'] as const;

function checkUint(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) encodeFail(`${name}: ${String(v)} is not an integer in 0..${max}`);
}

/** A NUL-terminated text field: empty, or up to `size` bytes (no NUL needed when it fills the field). */
function checkTextField(name: string, v: string, size: number): void {
  const problem = checkLatin1(v);
  if (problem !== undefined) encodeFail(`${name}: ${problem}`);
  if (v.length > size) encodeFail(`${name}: ${v.length} bytes, the field holds ${size}`);
  // The decoder stops at the first NUL, so a NUL inside would not come back.
  if (v.includes('\0')) encodeFail(`${name}: contains a NUL byte`);
}

function readTextField(buf: Buffer, off: number, size: number): string {
  const nul = buf.subarray(off, off + size).indexOf(0);
  return buf.toString('latin1', off, nul === -1 ? off + size : off + nul);
}

export const headerCodec: Codec<BootpHeader> = {
  encodingLength(h) {
    if (h.op !== OP.BOOTREQUEST && h.op !== OP.BOOTREPLY) encodeFail(`op: ${String(h.op)} is neither 1 (request) nor 2 (reply)`);
    checkUint('htype', h.htype, 0xff);
    checkUint('hops', h.hops, 0xff);
    checkUint('xid', h.xid, 0xffffffff);
    checkUint('secs', h.secs, 0xffff);
    checkUint('flags', h.flags, 0xffff);
    for (const f of ADDRESS_FIELDS) {
      if (parseIPv4(h[f]) === undefined) encodeFail(`${f}: ${JSON.stringify(h[f])} is not an IPv4 address`);
    }
    if (!(h.chaddr instanceof Uint8Array) || h.chaddr.length > CHADDR_LENGTH) {
      encodeFail(`chaddr: expected a Buffer of at most ${CHADDR_LENGTH} bytes`);
    }
    checkTextField('sname', h.sname, SNAME_LENGTH);
    checkTextField('file', h.file, FILE_LENGTH);
    return OPTIONS_OFFSET;
  },

  encode(h, buf, off) {
    buf.fill(0, off, off + OPTIONS_OFFSET);
    buf[off + OFFSET.op] = h.op;
    buf[off + OFFSET.htype] = h.htype;
    buf[off + OFFSET.hlen] = h.chaddr.length;
    buf[off + OFFSET.hops] = h.hops;
    buf.writeUInt32BE(h.xid, off + OFFSET.xid);
    buf.writeUInt16BE(h.secs, off + OFFSET.secs);
    buf.writeUInt16BE(h.flags, off + OFFSET.flags);
    for (const f of ADDRESS_FIELDS) buf.writeUInt32BE(parseIPv4(h[f]) as number, off + OFFSET[f]);
    buf.set(h.chaddr, off + OFFSET.chaddr);
    buf.write(h.sname, off + OFFSET.sname, 'latin1');
    buf.write(h.file, off + OFFSET.file, 'latin1');
    buf.writeUInt32BE(MAGIC_COOKIE, off + HEADER_LENGTH);
    return off + OPTIONS_OFFSET;
  },

  decode(buf, off, end) {
    if (end - off < HEADER_LENGTH) {
      decodeFail('truncated-header', `BOOTP header: ${end - off} bytes, need ${HEADER_LENGTH}`, off);
    }
    const op = buf[off + OFFSET.op] as number;
    if (op !== OP.BOOTREQUEST && op !== OP.BOOTREPLY) decodeFail('bad-op', `op ${op} is neither 1 (request) nor 2 (reply)`, off + OFFSET.op);
    const hlen = buf[off + OFFSET.hlen] as number;
    if (hlen > CHADDR_LENGTH) decodeFail('bad-hlen', `hlen ${hlen} exceeds the ${CHADDR_LENGTH}-byte chaddr field`, off + OFFSET.hlen);
    if (end - off < OPTIONS_OFFSET) {
      decodeFail('bad-cookie', `no magic cookie: packet ends ${end - off - HEADER_LENGTH} bytes after the header`, off + HEADER_LENGTH);
    }
    const cookie = buf.readUInt32BE(off + HEADER_LENGTH);
    if (cookie !== MAGIC_COOKIE) decodeFail('bad-cookie', `magic cookie 0x${cookie.toString(16).padStart(8, '0')}, expected 0x63825363`, off + HEADER_LENGTH);
    const chaddrAt = off + OFFSET.chaddr;
    return {
      value: {
        op: op as Op,
        htype: buf[off + OFFSET.htype] as number,
        hops: buf[off + OFFSET.hops] as number,
        xid: buf.readUInt32BE(off + OFFSET.xid),
        secs: buf.readUInt16BE(off + OFFSET.secs),
        flags: buf.readUInt16BE(off + OFFSET.flags),
        ciaddr: formatIPv4(buf, off + OFFSET.ciaddr),
        yiaddr: formatIPv4(buf, off + OFFSET.yiaddr),
        siaddr: formatIPv4(buf, off + OFFSET.siaddr),
        giaddr: formatIPv4(buf, off + OFFSET.giaddr),
        chaddr: Buffer.from(buf.subarray(chaddrAt, chaddrAt + hlen)),
        sname: readTextField(buf, off + OFFSET.sname, SNAME_LENGTH),
        file: readTextField(buf, off + OFFSET.file, FILE_LENGTH),
      },
      off: off + OPTIONS_OFFSET,
    };
  },
};
