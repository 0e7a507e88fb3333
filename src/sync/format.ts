// The sync format: what two `rackstrap serve` processes of a pair send each other (lease changes,
// acknowledgments, heartbeats, the whole table on rejoin). Binary, big-endian, after the IPVS
// connection sync protocol: a fixed header with version, count and length; self-sized entries;
// parameters whose top bit marks them optional, so a reader skips what it does not know; and an
// HMAC-SHA256-128 tag keyed with the pair's shared secret. docs/sync-format.md is the reference.
//
// Compatibility promises, which every later version keeps:
//  - the first 16 bytes (the header) mean the same in every version, so any reader can find the
//    length of a message and step over one it refuses;
//  - a reader refuses a message with a newer major version (without acting on any of it) and
//    goes on with the next one; a newer minor version only adds optional entries and parameters;
//  - an unknown entry or parameter with the optional bit is skipped; without it, the whole
//    message is refused (the reader cannot know what it would be agreeing to).
// Pure: no sockets, clocks or files.

import { createHmac, timingSafeEqual } from 'node:crypto';

/** What this code writes. */
export const SYNC_MAJOR = 1;
export const SYNC_MINOR = 2;
export const HEADER_BYTES = 16;
export const TAG_BYTES = 16;
/** No message is larger: a length above it is refused before anything is buffered. */
export const MAX_MESSAGE_BYTES = 1 << 20;
/** Most entries in one message (the count is 16 bits). */
export const MAX_ENTRIES = 0xffff;
const MAGIC = 0x5253; // "RS"
const OPTIONAL = 0x80;
const MAC_DOMAIN = Buffer.from('rackstrap-sync\0', 'latin1');
export const SESSION_BYTES = 16;

export const MESSAGE = { hello: 1, heartbeat: 2, update: 3, ack: 4, snapshot: 5 } as const;
export type MessageKind = keyof typeof MESSAGE;
const MESSAGE_NAMES = new Map<number, MessageKind>(Object.entries(MESSAGE).map(([k, v]) => [v, k as MessageKind]));

/** Header flags. */
export const FLAG = {
  /** snapshot: this is the last chunk of the table. */
  last: 0x01,
  /** snapshot (since 1.2): the active's merged table, which the receiver makes its own table. */
  pairTable: 0x02,
} as const;

export const ENTRY = { hello: 1, heartbeat: 2, lease: 3, ack: 4, snapshotEnd: 5 } as const;

export const ROLES = ['starting', 'standby', 'active', 'active-alone', 'syncing'] as const;
export type Role = (typeof ROLES)[number];
export const LEASE_OPS = ['bind', 'release', 'decline'] as const;
export type SyncLeaseOp = (typeof LEASE_OPS)[number];

/** Optional lease parameter (since 1.1): the name of the server that made the change. */
export const PARAM_LEASE_ORIGIN = 1;

export interface HelloEntry {
  kind: 'hello';
  /** Random per process start: names the session and tells a restart from a reconnect. */
  nonce: Buffer;
  role: Role;
  /** Configured preference: on a tie the preferred node stays active. */
  preferred: boolean;
  leases: number;
  name: string;
}

export interface HeartbeatEntry {
  kind: 'heartbeat';
  nonce: Buffer;
  role: Role;
  /** The sender currently holds the service address. */
  holdsService: boolean;
  /** The sender still hears its partner (on any path): a node that does not, says so. */
  hearsPartner: boolean;
  /** Sent just before the sender closes this connection on purpose (it is alive: no takeover for that). */
  closing?: boolean;
  /** Highest update sequence the sender has made durable from its partner. */
  acked: number;
  leases: number;
}

export interface LeaseEntry {
  kind: 'lease';
  op: SyncLeaseOp;
  address: number;
  /** bind: expiry; decline: end of the quarantine; release: 0. ms since the epoch. */
  until: number;
  /** When the change was decided, ms since the epoch. */
  at: number;
  client: string;
  label: string;
  hw: string;
  /** Optional (1.1): the server that made the change. */
  origin?: string;
}

export interface AckEntry {
  kind: 'ack';
  /** Every update up to and including this sequence number is on the acknowledging node's disk. */
  upTo: number;
}

export interface SnapshotEndEntry {
  kind: 'snapshot-end';
  /** Leases in the whole snapshot: the receiver checks it got them all. */
  total: number;
}

export type SyncEntry = HelloEntry | HeartbeatEntry | LeaseEntry | AckEntry | SnapshotEndEntry;

export interface SyncMessage {
  kind: MessageKind;
  seq: number;
  flags: number;
  entries: SyncEntry[];
}

/** What a reader of one version knows. */
export interface ReaderVersion {
  major: number;
  minor: number;
}
export const CURRENT: ReaderVersion = { major: SYNC_MAJOR, minor: SYNC_MINOR };

export interface WriteOptions {
  /** Write as this (older) minor version: leaves out what it did not have. Default: SYNC_MINOR. */
  minor?: number;
  /** Extra parameters appended to each lease entry (tests: a later version's optional ones). */
  extraLeaseParams?: ReadonlyArray<{ type: number; optional: boolean; data: Buffer }>;
  /** Extra entries appended (tests: a later version's entry kinds). */
  extraEntries?: ReadonlyArray<{ kind: number; optional: boolean; data: Buffer }>;
  /** Override the major version written (tests: a later major). */
  major?: number;
}

export interface SyncHeader {
  major: number;
  minor: number;
  type: number;
  flags: number;
  count: number;
  length: number;
  seq: number;
}

export type DecodeResult =
  | { ok: true; message: SyncMessage; skipped: number }
  | { ok: false; reason: 'newer-major' | 'malformed' | 'forged'; detail: string; length?: number };

// ---- header ---------------------------------------------------------------------------------

/**
 * Reads the header of the message at the start of `buf`. undefined when fewer than 16 bytes are
 * there; a string when the header itself is bad (the stream cannot be followed past it).
 */
export function readHeader(buf: Buffer): SyncHeader | undefined | string {
  if (buf.length < HEADER_BYTES) return undefined;
  if (buf.readUInt16BE(0) !== MAGIC) return 'not a sync message (bad magic)';
  const h: SyncHeader = {
    major: buf[2]!,
    minor: buf[3]!,
    type: buf[4]!,
    flags: buf[5]!,
    count: buf.readUInt16BE(6),
    length: buf.readUInt32BE(8),
    seq: buf.readUInt32BE(12),
  };
  if (h.length < HEADER_BYTES + TAG_BYTES) return `length ${h.length} is shorter than a header and a tag`;
  if (h.length > MAX_MESSAGE_BYTES) return `length ${h.length} is over the ${MAX_MESSAGE_BYTES}-byte limit`;
  return h;
}

// ---- writing --------------------------------------------------------------------------------

const ROLE_CODE = new Map<Role, number>(ROLES.map((r, i) => [r, i + 1]));
const OP_CODE = new Map<SyncLeaseOp, number>(LEASE_OPS.map((o, i) => [o, i + 1]));

// Encoding sizes each message first and writes it into one buffer (no per-field allocations: a
// table copy encodes thousands of leases at once).

const TWO_32 = 2 ** 32;

function textBytes(s: string, max: number, what: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  if (n > max) throw new RangeError(max === 255 ? `sync: text over 255 bytes: ${s.slice(0, 40)}…` : `sync: ${what} over ${max} bytes`);
  return n;
}

function originOf(e: LeaseEntry, o: WriteOptions): Buffer | undefined {
  if ((o.minor ?? SYNC_MINOR) < 1 || e.origin === undefined || e.origin === '') return undefined;
  const b = Buffer.from(e.origin, 'utf8');
  return b.length > 255 ? b.subarray(0, 255) : b;
}

function checkParam(type: number, data: Buffer): void {
  if (data.length < 1 || data.length > 255) throw new RangeError(`sync: parameter ${type} must hold 1-255 bytes`);
}

/** Bytes of an entry's body (after its 4-byte entry header). */
function bodySize(e: SyncEntry, o: WriteOptions): number {
  switch (e.kind) {
    case 'hello':
      return 8 + 1 + 1 + 4 + 1 + textBytes(e.name, 255, 'hello name');
    case 'heartbeat':
      return 8 + 1 + 1 + 2 + 4 + 4;
    case 'lease': {
      let n = 1 + 1 + 4 + 8 + 8 + 2 + textBytes(e.client, 0xffff, 'text') + 1 + textBytes(e.label, 255, 'label') + 1 + textBytes(e.hw, 255, 'hw');
      const origin = originOf(e, o);
      if (origin) n += 2 + origin.length;
      for (const p of o.extraLeaseParams ?? []) {
        checkParam(p.type, p.data);
        n += 2 + p.data.length;
      }
      return n;
    }
    case 'ack':
    case 'snapshot-end':
      return 4;
  }
}

function writeTime(buf: Buffer, v: number, off: number): number {
  const t = Math.max(0, Math.floor(v));
  const hi = Math.floor(t / TWO_32);
  buf.writeUInt32BE(hi >>> 0, off);
  buf.writeUInt32BE((t - hi * TWO_32) >>> 0, off + 4);
  return off + 8;
}

function writeText8(buf: Buffer, s: string, off: number): number {
  const n = buf.write(s, off + 1, 'utf8');
  buf[off] = n;
  return off + 1 + n;
}

function writeParam(buf: Buffer, type: number, optional: boolean, data: Buffer, off: number): number {
  buf[off] = (optional ? OPTIONAL : 0) | (type & 0x7f);
  buf[off + 1] = data.length;
  data.copy(buf, off + 2);
  return off + 2 + data.length;
}

/** Writes an entry's body at `off`; returns the offset after it. */
function writeBody(e: SyncEntry, o: WriteOptions, buf: Buffer, off: number): number {
  switch (e.kind) {
    case 'hello':
      fixed(e.nonce, 8, 'hello nonce').copy(buf, off);
      buf[off + 8] = ROLE_CODE.get(e.role)!;
      buf[off + 9] = e.preferred ? 1 : 0;
      buf.writeUInt32BE(e.leases >>> 0, off + 10);
      return writeText8(buf, e.name, off + 14);
    case 'heartbeat':
      fixed(e.nonce, 8, 'heartbeat nonce').copy(buf, off);
      buf[off + 8] = ROLE_CODE.get(e.role)!;
      buf[off + 9] = (e.holdsService ? 1 : 0) | (e.hearsPartner ? 2 : 0) | (e.closing ? 4 : 0);
      buf.writeUInt16BE(0, off + 10);
      buf.writeUInt32BE(e.acked >>> 0, off + 12);
      buf.writeUInt32BE(e.leases >>> 0, off + 16);
      return off + 20;
    case 'lease': {
      buf[off] = OP_CODE.get(e.op)!;
      buf[off + 1] = 0;
      buf.writeUInt32BE(e.address >>> 0, off + 2);
      off = writeTime(buf, e.until, off + 6);
      off = writeTime(buf, e.at, off);
      const n = buf.write(e.client, off + 2, 'utf8');
      buf.writeUInt16BE(n, off);
      off = writeText8(buf, e.label, off + 2 + n);
      off = writeText8(buf, e.hw, off);
      const origin = originOf(e, o);
      if (origin) off = writeParam(buf, PARAM_LEASE_ORIGIN, true, origin, off);
      for (const p of o.extraLeaseParams ?? []) off = writeParam(buf, p.type, p.optional, p.data, off);
      return off;
    }
    case 'ack':
      buf.writeUInt32BE(e.upTo >>> 0, off);
      return off + 4;
    case 'snapshot-end':
      buf.writeUInt32BE(e.total >>> 0, off);
      return off + 4;
  }
}

const ENTRY_CODE: Record<SyncEntry['kind'], number> = { hello: ENTRY.hello, heartbeat: ENTRY.heartbeat, lease: ENTRY.lease, ack: ENTRY.ack, 'snapshot-end': ENTRY.snapshotEnd };

function fixed(b: Buffer, n: number, what: string): Buffer {
  if (b.length !== n) throw new RangeError(`sync: ${what} must be ${n} bytes`);
  return b;
}

function writeEntryHead(buf: Buffer, kind: number, optional: boolean, size: number, off: number): void {
  if (size > 0xffff) throw new RangeError('sync: entry over 65535 bytes');
  buf[off] = (optional ? OPTIONAL : 0) | (kind & 0x7f);
  buf[off + 1] = 0; // entry layout version
  buf.writeUInt16BE(size, off + 2);
}

/** The tag: HMAC-SHA256 over a domain string, the session and the message before the tag, first 16 bytes. */
export function tagOf(key: Buffer, session: Buffer, signed: Buffer): Buffer {
  return createHmac('sha256', key).update(MAC_DOMAIN).update(session).update(signed).digest().subarray(0, TAG_BYTES);
}

/** Encodes one message, tagged for `session` (16 bytes; see docs/sync-format.md). */
export function encodeSyncMessage(msg: SyncMessage, key: Buffer, session: Buffer, o: WriteOptions = {}): Buffer {
  if (session.length !== SESSION_BYTES) throw new RangeError(`sync: session must be ${SESSION_BYTES} bytes`);
  const extra = o.extraEntries ?? [];
  const count = msg.entries.length + extra.length;
  if (count > MAX_ENTRIES) throw new RangeError(`sync: at most ${MAX_ENTRIES} entries per message`);
  const sizes = new Array<number>(msg.entries.length);
  let length = HEADER_BYTES + TAG_BYTES;
  for (let i = 0; i < msg.entries.length; i++) {
    sizes[i] = 4 + bodySize(msg.entries[i]!, o);
    if (sizes[i]! > 0xffff) throw new RangeError('sync: entry over 65535 bytes');
    length += sizes[i]!;
  }
  for (const x of extra) length += 4 + x.data.length;
  if (length > MAX_MESSAGE_BYTES) throw new RangeError(`sync: message of ${length} bytes is over the ${MAX_MESSAGE_BYTES}-byte limit`);
  const buf = Buffer.allocUnsafe(length);
  buf.writeUInt16BE(MAGIC, 0);
  buf[2] = o.major ?? SYNC_MAJOR;
  buf[3] = o.minor ?? SYNC_MINOR;
  buf[4] = MESSAGE[msg.kind];
  buf[5] = msg.flags & 0xff;
  buf.writeUInt16BE(count, 6);
  buf.writeUInt32BE(length, 8);
  buf.writeUInt32BE(msg.seq >>> 0, 12);
  let off = HEADER_BYTES;
  for (let i = 0; i < msg.entries.length; i++) {
    const e = msg.entries[i]!;
    writeEntryHead(buf, ENTRY_CODE[e.kind], false, sizes[i]!, off);
    const end = writeBody(e, o, buf, off + 4);
    if (end !== off + sizes[i]!) throw new Error(`sync: entry ${i + 1} wrote ${end - off} bytes, sized ${sizes[i]}`);
    off = end;
  }
  for (const x of extra) {
    writeEntryHead(buf, x.kind, x.optional, 4 + x.data.length, off);
    x.data.copy(buf, off + 4);
    off += 4 + x.data.length;
  }
  const signedEnd = length - TAG_BYTES;
  tagOf(key, session, buf.subarray(0, signedEnd)).copy(buf, signedEnd);
  return buf;
}

/** Most lease entries that fit one message with room to spare (a lease entry is at most ~600 bytes). */
export const LEASES_PER_MESSAGE = 1500;

// ---- reading --------------------------------------------------------------------------------

class Reader {
  off: number;
  constructor(readonly buf: Buffer, off: number, readonly end: number) {
    this.off = off;
  }
  need(n: number, what: string): void {
    if (this.off + n > this.end) throw new FormatError(`${what} truncated at byte ${this.off}`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.off++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.off);
    this.off += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }
  time(what: string): number {
    this.need(8, what);
    const hi = this.buf.readUInt32BE(this.off);
    const lo = this.buf.readUInt32BE(this.off + 4);
    this.off += 8;
    // Above 2^53 - 1 a number cannot hold it exactly.
    if (hi > 0x1fffff) throw new FormatError(`${what} out of range`);
    return hi * TWO_32 + lo;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const b = Buffer.from(this.buf.subarray(this.off, this.off + n));
    this.off += n;
    return b;
  }
  text(n: number, what: string): string {
    this.need(n, what);
    const s = this.buf.toString('utf8', this.off, this.off + n);
    this.off += n;
    return s;
  }
}

class FormatError extends Error {}

function roleOf(code: number): Role {
  const r = ROLES[code - 1];
  if (r === undefined) throw new FormatError(`unknown role ${code}`);
  return r;
}

/** Parameters a reader of `v` knows, per entry kind. */
const LEASE_PARAMS_1_1: ReadonlySet<number> = new Set([PARAM_LEASE_ORIGIN]);
const NO_PARAMS: ReadonlySet<number> = new Set();
function knownParams(v: ReaderVersion, kind: number): ReadonlySet<number> {
  return kind === ENTRY.lease && v.minor >= 1 ? LEASE_PARAMS_1_1 : NO_PARAMS;
}

/** Reads the parameters after an entry's fixed part. Unknown optional ones are skipped; counts them. */
function readParams(r: Reader, v: ReaderVersion, kind: number, onKnown: (type: number, data: Buffer) => void): number {
  const known = knownParams(v, kind);
  let skipped = 0;
  while (r.off < r.end) {
    const head = r.u8('parameter type');
    const len = r.u8('parameter length');
    if (len === 0) throw new FormatError('parameter of length 0');
    const data = r.bytes(len, 'parameter data');
    const type = head & 0x7f;
    if (known.has(type)) onKnown(type, data);
    else if (head & OPTIONAL) skipped++;
    else throw new FormatError(`entry ${kind} has parameter ${type}, which this reader does not know and which is not optional`);
  }
  return skipped;
}

function readEntry(r: Reader, kind: number, v: ReaderVersion): { entry: SyncEntry; skipped: number } {
  switch (kind) {
    case ENTRY.hello: {
      const nonce = r.bytes(8, 'hello nonce');
      const role = roleOf(r.u8('hello role'));
      const preferred = (r.u8('hello flags') & 1) === 1;
      const leases = r.u32('hello leases');
      const name = r.text(r.u8('hello name length'), 'hello name');
      const skipped = readParams(r, v, kind, () => undefined);
      return { entry: { kind: 'hello', nonce, role, preferred, leases, name }, skipped };
    }
    case ENTRY.heartbeat: {
      const nonce = r.bytes(8, 'heartbeat nonce');
      const role = roleOf(r.u8('heartbeat role'));
      const flags = r.u8('heartbeat flags');
      r.u16('heartbeat reserved');
      const acked = r.u32('heartbeat acked');
      const leases = r.u32('heartbeat leases');
      const skipped = readParams(r, v, kind, () => undefined);
      const entry: HeartbeatEntry = { kind: 'heartbeat', nonce, role, holdsService: (flags & 1) === 1, hearsPartner: (flags & 2) === 2, acked, leases };
      if (flags & 4) entry.closing = true;
      return { entry, skipped };
    }
    case ENTRY.lease: {
      const opCode = r.u8('lease op');
      const op = LEASE_OPS[opCode - 1];
      if (op === undefined) throw new FormatError(`unknown lease op ${opCode}`);
      r.u8('lease reserved');
      const address = r.u32('lease address');
      const until = r.time('lease until');
      const at = r.time('lease at');
      const client = r.text(r.u16('lease client length'), 'lease client');
      const label = r.text(r.u8('lease label length'), 'lease label');
      const hw = r.text(r.u8('lease hw length'), 'lease hw');
      const entry: LeaseEntry = { kind: 'lease', op, address, until, at, client, label, hw };
      const skipped = readParams(r, v, kind, (type, data) => {
        if (type === PARAM_LEASE_ORIGIN) entry.origin = data.toString('utf8');
      });
      return { entry, skipped };
    }
    case ENTRY.ack: {
      const upTo = r.u32('ack sequence');
      return { entry: { kind: 'ack', upTo }, skipped: readParams(r, v, kind, () => undefined) };
    }
    case ENTRY.snapshotEnd: {
      const total = r.u32('snapshot total');
      return { entry: { kind: 'snapshot-end', total }, skipped: readParams(r, v, kind, () => undefined) };
    }
    default:
      throw new FormatError(`unknown entry ${kind}`);
  }
}

const KNOWN_ENTRIES = new Set<number>(Object.values(ENTRY));

/**
 * Reads one whole message (`buf` holds exactly it). Checks, in order: the header, the version
 * (a newer major is refused before anything else is read), the tag (a forged or damaged message
 * is refused before its entries are looked at), then every entry. Never throws.
 */
export function decodeSyncMessage(buf: Buffer, key: Buffer, session: Buffer, reader: ReaderVersion = CURRENT): DecodeResult {
  const h = readHeader(buf);
  if (h === undefined) return { ok: false, reason: 'malformed', detail: `${buf.length} bytes: shorter than a header` };
  if (typeof h === 'string') return { ok: false, reason: 'malformed', detail: h };
  if (h.length !== buf.length) return { ok: false, reason: 'malformed', detail: `header says ${h.length} bytes, message has ${buf.length}`, length: h.length };
  if (h.major > reader.major) return { ok: false, reason: 'newer-major', detail: `version ${h.major}.${h.minor} is newer than this reader's ${reader.major}.${reader.minor}: refused`, length: h.length };
  if (h.major < reader.major) return { ok: false, reason: 'malformed', detail: `version ${h.major}.${h.minor} is not one this reader speaks`, length: h.length };
  const signedEnd = h.length - TAG_BYTES;
  const want = tagOf(key, session, buf.subarray(0, signedEnd));
  if (!timingSafeEqual(want, buf.subarray(signedEnd))) return { ok: false, reason: 'forged', detail: 'tag does not match (wrong secret, another session, or damaged)', length: h.length };
  const kind = MESSAGE_NAMES.get(h.type);
  try {
    if (kind === undefined) throw new FormatError(`unknown message type ${h.type}`);
    const entries: SyncEntry[] = [];
    let skipped = 0;
    let off = HEADER_BYTES;
    for (let i = 0; i < h.count; i++) {
      if (off + 4 > signedEnd) throw new FormatError(`entry ${i + 1} of ${h.count} truncated at byte ${off}`);
      const head = buf[off]!;
      const size = buf.readUInt16BE(off + 2);
      if (size < 4 || off + size > signedEnd) throw new FormatError(`entry ${i + 1} size ${size} runs past the message`);
      const entryKind = head & 0x7f;
      if (!KNOWN_ENTRIES.has(entryKind)) {
        if (!(head & OPTIONAL)) throw new FormatError(`entry ${i + 1} is of kind ${entryKind}, which this reader does not know and which is not optional`);
        skipped++;
      } else {
        const r = new Reader(buf, off + 4, off + size);
        const got = readEntry(r, entryKind, reader);
        entries.push(got.entry);
        skipped += got.skipped;
      }
      off += size;
    }
    if (off !== signedEnd) throw new FormatError(`${signedEnd - off} bytes after the last of ${h.count} entries`);
    return { ok: true, message: { kind, seq: h.seq, flags: h.flags, entries }, skipped };
  } catch (err) {
    if (err instanceof FormatError) return { ok: false, reason: 'malformed', detail: err.message, length: h.length };
    throw err;
  }
}

// ---- a byte stream of messages --------------------------------------------------------------

/**
 * Cuts a TCP byte stream into messages by their header's length. A bad header (wrong magic, a
 * length out of bounds) cannot be stepped over: `push` then returns the error, and the caller
 * closes the connection.
 */
export class MessageSplitter {
  #chunks: Buffer[] = [];
  #buffered = 0;

  push(chunk: Buffer): { frames: Buffer[]; error?: string } {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.#buffered < HEADER_BYTES) return { frames };
      const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
      this.#chunks = [all];
      const h = readHeader(all);
      if (typeof h === 'string') return { frames, error: h };
      if (h === undefined || all.length < h.length) return { frames };
      frames.push(all.subarray(0, h.length));
      const rest = all.subarray(h.length);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#buffered = rest.length;
    }
  }
}
