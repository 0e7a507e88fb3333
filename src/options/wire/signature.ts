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

/**
 * What a topology answer is bound to (format 1.1): the request it answers. A server that writes
 * static configuration (dhcpd, Kea, dnsmasq from `rackstrap gen`) binds to the cluster ID and the
 * filer's base MAC, the two halves of the topology request's client identifier; rackstrap's own
 * server also binds to the xid of the exchange, so a recorded answer is worth nothing in another.
 */
export interface RequestBinding {
  clusterId: string;
  baseMac: string;
  /** The DISCOVER's xid (RFC 2131 §2); only a server that signs per request can bind to it. */
  xid?: number;
}

/**
 * The key binding MACs are made with: HMAC-SHA-256(key, "rackstrap-binding-key/1"). A server that
 * signs per exchange keeps only this in its answering tables, never the cluster key: it can bind
 * answers, but not sign a topology or an address tag.
 */
export function bindingKeyOf(key: Buffer): Buffer {
  checkKey(key);
  return createHmac('sha256', key).update('rackstrap-binding-key/1', 'latin1').digest();
}

/**
 * The binding MAC: HMAC-SHA-256 with bindingKeyOf(key) over a domain line, the request (cluster
 * ID, base MAC, xid or `-`) and SHA-256 of the signed bytes, first 128 bits. Hashing the objects
 * first lets a server sign per request with one HMAC over ~100 bytes whatever the topology's size.
 */
export function bindingMac(bindingKey: Uint8Array, digest: Uint8Array, b: RequestBinding): Buffer {
  const xid = b.xid === undefined ? '-' : (b.xid >>> 0).toString(16).padStart(8, '0');
  const line = `rackstrap-binding/1\n${b.clusterId.toUpperCase()}\n${b.baseMac.toUpperCase()}\n${xid}\n`;
  return createHmac('sha256', bindingKey).update(line, 'latin1').update(digest).digest().subarray(0, MAC_BYTES);
}

/** SHA-256 of the signed bytes (every sub-option but the signature), the input of bindingMac. */
export function signedDigest(objs: readonly SubOption[]): Buffer {
  return createHash('sha256').update(canonicalBytes(objs)).digest();
}

/** The binding attribute's key: `to` for cluster ID + base MAC, `xid` when the exchange is bound too. */
export const bindingKey = (b: RequestBinding): 'to' | 'xid' => (b.xid === undefined ? 'to' : 'xid');

/**
 * The text of sub-option 2 for these objects: `hmac-sha256-128 key=<id> mac=<base64url>`, and
 * with a binding ` ~to=<base64url>` or ` ~xid=<base64url>` (optional: a 1.0 reader checks `mac`).
 */
export function signatureText(objs: readonly SubOption[], key: Buffer, binding?: RequestBinding, digest?: Buffer): string {
  checkKey(key);
  const attrs: Array<[string, string]> = [
    ['key', keyFingerprint(key)],
    ['mac', mac(key, objs).toString('base64url')],
  ];
  if (binding !== undefined) attrs.push([`~${bindingKey(binding)}`, bindingMac(bindingKeyOf(key), digest ?? signedDigest(objs), binding).toString('base64url')]);
  return formatObject([SIGNATURE_ALGORITHM], attrs);
}

/** Length of the signature object's text without a binding (constant for a given algorithm). */
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

/**
 * Checks the binding attribute (`to` or `xid`, base64url) against the request this reader made.
 * Call after verifySignature. Throws RS_WIRE_NOT_BOUND (an exchange binding without an xid to check
 * it with) or RS_WIRE_WRONG_REQUEST.
 */
export function verifyBinding(ref: ObjectRef, kind: 'to' | 'xid', macText: string, objs: readonly SubOption[], key: Buffer, b: RequestBinding): void {
  if (!MAC_RE.test(macText)) throw grammarError(ref, `${kind}= must be ${MAC_BYTES} bytes of unpadded base64url`);
  const got = Buffer.from(macText, 'base64url');
  if (got.toString('base64url') !== macText) throw grammarError(ref, `${kind}= is not canonical base64url`);
  if (kind === 'xid' && b.xid === undefined) {
    throw new WireDecodeError('RS_WIRE_NOT_BOUND', 'topology is bound to a DHCP exchange, but no xid was given to check it');
  }
  const want = bindingMac(bindingKeyOf(key), signedDigest(objs), kind === 'to' ? { clusterId: b.clusterId, baseMac: b.baseMac } : b);
  if (!timingSafeEqual(got, want)) {
    throw new WireDecodeError(
      'RS_WIRE_WRONG_REQUEST',
      kind === 'xid'
        ? `topology is genuine but answers another request: not this filer's (cluster ${b.clusterId}, base MAC ${b.baseMac}) or not this exchange (a recorded answer replayed)`
        : `topology is genuine but answers another request: not this filer's (cluster ${b.clusterId}, base MAC ${b.baseMac})`,
    );
  }
}
