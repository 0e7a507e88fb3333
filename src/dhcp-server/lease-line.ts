// One line of the lease log: `<crc32 as 8 hex digits> <JSON>\n`. The checksum covers the JSON
// text, so a line torn by kill -9 or a crash mid-write (no newline, or half a JSON object) and a
// line damaged on disk are both recognised and skipped on replay instead of being misread.
// JSON keeps the log readable with grep and jq; the format name in the header line lets a later
// version change it.

import { toNumber, tryNumber } from './address.js';
import type { DurableOp } from './lease-table.js';

export const LEASE_LOG_FORMAT = 'rackstrap-leases/1';

export type LeaseRecord =
  | { op: 'header'; format: string; at: number }
  | { op: 'bind'; address: string; client: string; label: string; hw: string; expires: number; at: number; relay?: string }
  | { op: 'release'; address: string; client: string; at: number }
  | { op: 'decline'; address: string; client: string; until: number; at: number };

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320): what zlib, gzip and PNG use, so a line can
// be checked with any tool. Own table: zlib.crc32 only exists from Node 20.15.
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 of a string's UTF-8 bytes. */
export function crc32(text: string): number {
  let c = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    // ASCII is its own UTF-8 (every line rackstrap writes); anything else goes through a Buffer.
    if (ch > 0x7f) return crc32Bytes(Buffer.from(text, 'utf8'));
    c = (CRC_TABLE[(c ^ ch) & 0xff] as number) ^ (c >>> 8);
  }
  return (c ^ -1) >>> 0;
}

function crc32Bytes(bytes: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const q = JSON.stringify;

/** The record as JSON. `bind` is written by hand: it is one per ACK, and this is several times faster than JSON.stringify of the object. */
function recordJson(r: LeaseRecord): string {
  if (r.op === 'bind') {
    const relay = r.relay === undefined ? '' : `,"relay":"${r.relay}"`;
    return `{"op":"bind","address":"${r.address}","client":${q(r.client)},"label":${q(r.label)},"hw":${q(r.hw)},"expires":${r.expires},"at":${r.at}${relay}}`;
  }
  return JSON.stringify(r);
}

export function formatLine(record: LeaseRecord): string {
  const json = recordJson(record);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

export type ParsedLine = { ok: true; record: LeaseRecord } | { ok: false; reason: string };

const isString = (v: unknown): v is string => typeof v === 'string';
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isAddress = (v: unknown): v is string => isString(v) && tryNumber(v) !== undefined;

/** Reads one line (without its newline). Never throws. */
export function parseLine(line: string): ParsedLine {
  const m = /^([0-9a-f]{8}) (\{.*\})$/.exec(line);
  if (!m) return { ok: false, reason: 'not `<crc32> <json>`' };
  if (parseInt(m[1]!, 16) !== crc32(m[2]!)) return { ok: false, reason: 'checksum mismatch' };
  let v: unknown;
  try {
    v = JSON.parse(m[2]!);
  } catch {
    return { ok: false, reason: 'bad JSON' };
  }
  const r = v as Record<string, unknown>;
  switch (r.op) {
    case 'header':
      if (isString(r.format) && isTime(r.at)) return { ok: true, record: { op: 'header', format: r.format, at: r.at } };
      break;
    case 'bind':
      // `relay` came later: a line without it is a client on a served link.
      if (isAddress(r.address) && isString(r.client) && isString(r.label) && isString(r.hw) && isTime(r.expires) && isTime(r.at) && (r.relay === undefined || isAddress(r.relay))) {
        const record: LeaseRecord = { op: 'bind', address: r.address, client: r.client, label: r.label, hw: r.hw, expires: r.expires, at: r.at };
        if (r.relay !== undefined) record.relay = r.relay as string;
        return { ok: true, record };
      }
      break;
    case 'release':
      if (isAddress(r.address) && isString(r.client) && isTime(r.at)) return { ok: true, record: { op: 'release', address: r.address, client: r.client, at: r.at } };
      break;
    case 'decline':
      if (isAddress(r.address) && isString(r.client) && isTime(r.until) && isTime(r.at)) {
        return { ok: true, record: { op: 'decline', address: r.address, client: r.client, until: r.until, at: r.at } };
      }
      break;
  }
  return { ok: false, reason: `unknown record ${JSON.stringify(r.op)} or missing fields` };
}

/** The record a durable lease operation is written as. */
export function recordOf(op: DurableOp, at: number, addressText: (n: number) => string): LeaseRecord {
  switch (op.op) {
    case 'bind': {
      const record: LeaseRecord = { op: 'bind', address: addressText(op.address), client: op.client, label: op.label, hw: op.hw, expires: op.expires, at };
      if (op.relay !== undefined) record.relay = op.relay;
      return record;
    }
    case 'release':
      return { op: 'release', address: addressText(op.address), client: op.client, at };
    case 'decline':
      return { op: 'decline', address: addressText(op.address), client: op.client, until: op.until, at };
  }
}

/** The operation replaying a record performs; undefined for the header. */
export function opOf(record: LeaseRecord): DurableOp | undefined {
  switch (record.op) {
    case 'header':
      return undefined;
    case 'bind': {
      const op: DurableOp = { op: 'bind', address: toNumber(record.address), client: record.client, label: record.label, hw: record.hw, expires: record.expires };
      if (record.relay !== undefined) op.relay = record.relay;
      return op;
    }
    case 'release':
      return { op: 'release', address: toNumber(record.address), client: record.client };
    case 'decline':
      return { op: 'decline', address: toNumber(record.address), client: record.client, until: record.until };
  }
}
