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

class Writer {
  readonly parts: Buffer[] = [];
  u8(v: number): void {
    this.parts.push(Buffer.from([v & 0xff]));
  }
  u16(v: number): void {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    this.parts.push(b);
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    this.parts.push(b);
  }
  time(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(v))));
    this.parts.push(b);
  }
  bytes(b: Buffer): void {
    this.parts.push(b);
  }
  str8(s: string): void {
    const b = Buffer.from(s, 'utf8');
    if (b.length > 255) throw new RangeError(`sync: text over 255 bytes: ${s.slice(0, 40)}…`);
    this.u8(b.length);
    this.parts.push(b);
  }
  str16(s: string): void {
    const b = Buffer.from(s, 'utf8');
    if (b.length > 0xffff) throw new RangeError('sync: text over 65535 bytes');
    this.u16(b.length);
    this.parts.push(b);
  }
  param(type: number, optional: boolean, data: Buffer): void {
    if (data.length < 1 || data.length > 255) throw new RangeError(`sync: parameter ${type} must hold 1-255 bytes`);
    this.u8((optional ? OPTIONAL : 0) | (type & 0x7f));
    this.u8(data.length);
    this.parts.push(data);
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function entryBody(e: SyncEntry, o: WriteOptions): { kind: number; body: Buffer } {
  const w = new Writer();
  switch (e.kind) {
    case 'hello':
      w.bytes(fixed(e.nonce, 8, 'hello nonce'));
      w.u8(ROLE_CODE.get(e.role)!);
      w.u8(e.preferred ? 1 : 0);
      w.u32(e.leases);
      w.str8(e.name);
      return { kind: ENTRY.hello, body: w.done() };
    case 'heartbeat':
      w.bytes(fixed(e.nonce, 8, 'heartbeat nonce'));
      w.u8(ROLE_CODE.get(e.role)!);
      w.u8((e.holdsService ? 1 : 0) | (e.hearsPartner ? 2 : 0) | (e.closing ? 4 : 0));
      w.u16(0);
      w.u32(e.acked);
      w.u32(e.leases);
      return { kind: ENTRY.heartbeat, body: w.done() };
    case 'lease': {
      w.u8(OP_CODE.get(e.op)!);
      w.u8(0);
      w.u32(e.address);
      w.time(e.until);
      w.time(e.at);
      w.str16(e.client);
      w.str8(e.label);
      w.str8(e.hw);
      if ((o.minor ?? SYNC_MINOR) >= 1 && e.origin !== undefined && e.origin !== '') w.param(PARAM_LEASE_ORIGIN, true, Buffer.from(e.origin, 'utf8').subarray(0, 255));
      for (const p of o.extraLeaseParams ?? []) w.param(p.type, p.optional, p.data);
      return { kind: ENTRY.lease, body: w.done() };
    }
    case 'ack':
      w.u32(e.upTo);
      return { kind: ENTRY.ack, body: w.done() };
    case 'snapshot-end':
      w.u32(e.total);
      return { kind: ENTRY.snapshotEnd, body: w.done() };
  }
}

function fixed(b: Buffer, n: number, what: string): Buffer {
  if (b.length !== n) throw new RangeError(`sync: ${what} must be ${n} bytes`);
  return b;
}

function entryBytes(kind: number, optional: boolean, body: Buffer): Buffer {
  const size = 4 + body.length;
  if (size > 0xffff) throw new RangeError('sync: entry over 65535 bytes');
  const head = Buffer.alloc(4);
  head[0] = (optional ? OPTIONAL : 0) | (kind & 0x7f);
  head[1] = 0; // entry layout version
  head.writeUInt16BE(size, 2);
  return Buffer.concat([head, body]);
}

/** The tag: HMAC-SHA256 over a domain string, the session and the message before the tag, first 16 bytes. */
export function tagOf(key: Buffer, session: Buffer, signed: Buffer): Buffer {
  return createHmac('sha256', key).update(MAC_DOMAIN).update(session).update(signed).digest().subarray(0, TAG_BYTES);
}

/** Encodes one message, tagged for `session` (16 bytes; see docs/sync-format.md). */
export function encodeSyncMessage(msg: SyncMessage, key: Buffer, session: Buffer, o: WriteOptions = {}): Buffer {
  if (session.length !== SESSION_BYTES) throw new RangeError(`sync: session must be ${SESSION_BYTES} bytes`);
  const entries: Buffer[] = msg.entries.map((e) => {
    const { kind, body } = entryBody(e, o);
    return entryBytes(kind, false, body);
  });
  for (const x of o.extraEntries ?? []) entries.push(entryBytes(x.kind, x.optional, x.data));
  if (entries.length > MAX_ENTRIES) throw new RangeError(`sync: at most ${MAX_ENTRIES} entries per message`);
  const bodyLength = entries.reduce((n, b) => n + b.length, 0);
  const length = HEADER_BYTES + bodyLength + TAG_BYTES;
  if (length > MAX_MESSAGE_BYTES) throw new RangeError(`sync: message of ${length} bytes is over the ${MAX_MESSAGE_BYTES}-byte limit`);
  const head = Buffer.alloc(HEADER_BYTES);
  head.writeUInt16BE(MAGIC, 0);
  head[2] = o.major ?? SYNC_MAJOR;
  head[3] = o.minor ?? SYNC_MINOR;
  head[4] = MESSAGE[msg.kind];
  head[5] = msg.flags & 0xff;
  head.writeUInt16BE(entries.length, 6);
  head.writeUInt32BE(length, 8);
  head.writeUInt32BE(msg.seq >>> 0, 12);
  const signed = Buffer.concat([head, ...entries]);
  return Buffer.concat([signed, tagOf(key, session, signed)]);
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
    const v = this.buf.readBigUInt64BE(this.off);
    this.off += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`${what} out of range`);
    return Number(v);
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
function knownParams(v: ReaderVersion, kind: number): ReadonlySet<number> {
  if (kind === ENTRY.lease && v.minor >= 1) return new Set([PARAM_LEASE_ORIGIN]);
  return new Set();
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
