// The per-exchange half of signing (rackstrap serve's hot path): what a signed topology becomes
// for one filer, and its signature bound to one exchange's xid. Kept apart from the encoder so the
// server answers without loading the description's schema.

import { SIGNATURE_CODE } from './constants.js';
import { OPTIONAL_MARK } from './grammar.js';
import { bindingMac } from './signature.js';
import { subOptionsToBytes } from './sub-options.js';

/**
 * What a server that signs per request (rackstrap's own) keeps for one filer: the option 43 bytes
 * around the signature, the signature's 1.0 part, the digest of the signed bytes and the binding
 * key (bindingKeyOf: it binds answers but cannot sign topology). Plain data, so it survives a
 * structured clone out of the loader's worker thread (Buffers arrive as Uint8Arrays).
 */
export interface ExchangeTemplate {
  before: Uint8Array;
  after: Uint8Array;
  /** `hmac-sha256-128 key=<id> mac=<MAC>`: code 2 without its binding. */
  signature: string;
  digest: Uint8Array;
  bindingKey: Uint8Array;
  clusterId: string;
  baseMac: string;
}

/**
 * The option 43 payload of a template with its signature bound to this exchange's xid (`~xid=`),
 * so a recorded answer cannot be replayed into another exchange: one HMAC over ~100 bytes.
 */
export function signForExchange(t: ExchangeTemplate, xid: number): Buffer {
  const mac = bindingMac(t.bindingKey, t.digest, { clusterId: t.clusterId, baseMac: t.baseMac, xid });
  const text = `${t.signature} ${OPTIONAL_MARK}xid=${mac.toString('base64url')}`;
  return Buffer.concat([t.before, subOptionsToBytes([{ code: SIGNATURE_CODE, text }]), t.after]);
}

