// Client identifier (option 61, RFC 2132 §9.14) stays raw bytes in the message; these helpers
// read it. rackstrap's identifiers are text (`<cluster-id>:<alias>:<filer>`), and clients send
// text two ways: raw (dhclient `send dhcp-client-identifier "..."`, udhcpc `-x 0x3d:...`) or
// behind a type byte 0 (RFC 2132 §9.14: "type 0 ... other than a hardware address"; dhcpcd -I).
// Both must find the same reservation, so both give the same text.

import { EncodeError } from '../errors.js';
import { colonHex } from './codec.js';
import { HTYPE_ETHERNET } from './constants.js';
import type { DhcpMessage } from './message.js';
import { OPTION } from './option-table.js';

/** Type byte 0: the identifier is not a hardware address (RFC 2132 §9.14). */
export const CLIENT_ID_TYPE_TEXT = 0;

export type ClientId =
  /** Printable text; `typeByte` says whether a 0 type byte preceded it on the wire. */
  | { kind: 'text'; text: string; typeByte: boolean }
  /** Type 1 (Ethernet) + 6 bytes, what most clients send by default; `mac` is colon hex. */
  | { kind: 'ethernet'; mac: string }
  /** Anything else (RFC 4361 type 255 IAID+DUID, other hardware types, binary). */
  | { kind: 'other'; type: number; hex: string };

function isPrintable(raw: Uint8Array, from: number): boolean {
  if (raw.length <= from) return false;
  for (let i = from; i < raw.length; i++) {
    const c = raw[i] as number;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

export function parseClientId(raw: Uint8Array): ClientId {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (raw[0] === CLIENT_ID_TYPE_TEXT && isPrintable(raw, 1)) return { kind: 'text', text: buf.toString('latin1', 1), typeByte: true };
  if (isPrintable(raw, 0)) return { kind: 'text', text: buf.toString('latin1'), typeByte: false };
  if (raw[0] === HTYPE_ETHERNET && raw.length === 7) return { kind: 'ethernet', mac: colonHex(raw.subarray(1)) };
  return { kind: 'other', type: raw[0] ?? -1, hex: colonHex(raw) };
}

/** The identifier as text, with or without a leading 0 type byte; undefined when it is not text. */
export function clientIdText(raw: Uint8Array): string | undefined {
  const id = parseClientId(raw);
  return id.kind === 'text' ? id.text : undefined;
}

/** One string for logs and lease keys: the text when it is text, else colon hex of every byte. */
export function formatClientId(raw: Uint8Array): string {
  const id = parseClientId(raw);
  return id.kind === 'text' ? id.text : colonHex(raw);
}

/** Option 61 bytes for a text identifier: raw text by default, or behind a 0 type byte. */
export function textClientId(text: string, opts: { typeByte?: boolean } = {}): Buffer {
  if (!/^[\x20-\x7e]+$/.test(text)) {
    throw new EncodeError('bad-value', `client identifier ${JSON.stringify(text)}: must be printable ASCII, at least one character`);
  }
  const body = Buffer.from(text, 'latin1');
  return opts.typeByte ? Buffer.concat([Buffer.of(CLIENT_ID_TYPE_TEXT), body]) : body;
}

/** Option 61 of `msg`, parsed; undefined when the client sent none. */
export function clientIdOf(msg: DhcpMessage): ClientId | undefined {
  const raw = msg.options.get(OPTION.CLIENT_ID);
  return raw === undefined ? undefined : parseClientId(raw);
}
