// The optional authenticity object (sub-option 2): an HMAC over every other sub-option, keyed
// with the cluster's key, so a filer holding the key refuses topology from a rogue DHCP server.
// The key itself never appears in text: not in objects, messages, errors or logs; only its
// fingerprint does, so "signed with another key" and "forged" can be told apart.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { KEY_ID_HEX, MAC_BYTES, MIN_KEY_BYTES, SIGNATURE_ALGORITHM, SIGNATURE_CODE } from './constants.js';
import { WireDecodeError, WireKeyError } from './errors.js';
import { formatObject, grammarError, type ObjectRef } from './grammar.js';
import type { SubOption } from './sub-options.js';

/** First 8 hex digits of SHA-256 of the key: names the key without revealing it. */
export function keyFingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, KEY_ID_HEX);
}

export function checkKey(key: Buffer): void {
  if (key.length < MIN_KEY_BYTES) {
    throw new WireKeyError('RS_WIRE_KEY_TOO_SHORT', `topology key is ${key.length} bytes; at least ${MIN_KEY_BYTES} are required`);
  }
}

/**
 * The signed bytes: every sub-option except the signature, sorted by code, each as
 * `<code>=<text>\n` (decimal code, text bytes as received). Sorting makes the MAC independent of
 * the order servers send sub-options in (hash order, by code, reversed).
 */
export function canonicalBytes(objs: readonly SubOption[]): Buffer {
  const lines = objs
    .filter((o) => o.code !== SIGNATURE_CODE)
    .slice()
    .sort((a, b) => a.code - b.code)
    .map((o) => `${o.code}=${o.text}\n`);
  return Buffer.from(lines.join(''), 'latin1');
}

function mac(key: Buffer, objs: readonly SubOption[]): Buffer {
  return createHmac('sha256', key).update(canonicalBytes(objs)).digest().subarray(0, MAC_BYTES);
}

/** The text of sub-option 2 for these objects: `hmac-sha256-128 key=<id> mac=<base64url>`. */
export function signatureText(objs: readonly SubOption[], key: Buffer): string {
  checkKey(key);
  return formatObject([SIGNATURE_ALGORITHM], [
    ['key', keyFingerprint(key)],
    ['mac', mac(key, objs).toString('base64url')],
  ]);
}

/** Length of the signature object's text (constant for a given algorithm). */
export const SIGNATURE_TEXT_BYTES = SIGNATURE_ALGORITHM.length + ' key='.length + KEY_ID_HEX + ' mac='.length + Math.ceil((MAC_BYTES * 4) / 3);

const KEY_ID_RE = new RegExp(`^[0-9a-f]{${KEY_ID_HEX}}$`);
const MAC_RE = new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((MAC_BYTES * 4) / 3)}}$`);

/** Checks a signature's key id and MAC against the other sub-options. Throws a WireDecodeError. */
export function verifySignature(ref: ObjectRef, keyId: string, macText: string, objs: readonly SubOption[], key: Buffer): void {
  checkKey(key);
  if (!KEY_ID_RE.test(keyId)) throw grammarError(ref, `key= must be ${KEY_ID_HEX} lower-case hex digits`);
  if (!MAC_RE.test(macText)) throw grammarError(ref, `mac= must be ${MAC_BYTES} bytes of unpadded base64url`);
  const ours = keyFingerprint(key);
  if (keyId !== ours) {
    throw new WireDecodeError('RS_WIRE_KEY_MISMATCH', `topology is signed with key ${keyId}, not with this cluster's key ${ours}`);
  }
  const got = Buffer.from(macText, 'base64url');
  // Only the canonical spelling: base64url's last character has spare bits a forger could vary.
  if (got.toString('base64url') !== macText) throw grammarError(ref, 'mac= is not canonical base64url');
  const want = mac(key, objs);
  if (got.length !== want.length || !timingSafeEqual(got, want)) {
    throw new WireDecodeError('RS_WIRE_BAD_SIGNATURE', `topology signature does not match its objects (key ${ours})`);
  }
}
