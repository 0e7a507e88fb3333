// Join codes. A code is high-entropy (a 32-byte random secret) and is proved, never sent: the
// joining filer sends an HMAC of the TLS session's exported keying material (RFC 8446 §7.5,
// RFC 5705) under a key derived from the secret, inside a session whose CA it pinned first. So a
// captured exchange holds nothing to guess the code from offline (the session is encrypted, and
// the proof is bound to that one session), an impostor without the CA's key is refused before
// anything is sent, and 256 bits leave nothing to guess online either (failures are rate-limited).
// Codes move as files or on stdin, so their length costs nothing: that is why this is not a PAKE.
//
//   rsj1.<CA pin: 64 hex>.<id: 8 hex>.<secret: 43 base64url>   (full form: carries the pin)
//   rsj1.<id>.<secret>                                         (short form: pin given with --ca-hash)
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { RackstrapError } from '../errors.js';

export const CODE_PREFIX = 'rsj1';
const ID_RE = /^[0-9a-f]{8}$/;
const SECRET_RE = /^[A-Za-z0-9_-]{43}$/;
const PIN_RE = /^[0-9a-f]{64}$/;

export interface JoinCode {
  id: string;
  secret: string;
  /** `sha256:<hex>` when the code carries it. */
  caPin: string | undefined;
}

export function newCode(caPin: string): { code: JoinCode; text: string } {
  const id = randomBytes(4).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const code = { id, secret, caPin };
  return { code, text: formatCode(code) };
}

export function formatCode(c: JoinCode): string {
  return [CODE_PREFIX, ...(c.caPin === undefined ? [] : [c.caPin.slice('sha256:'.length)]), c.id, c.secret].join('.');
}

export class CodeFormatError extends RackstrapError {
  constructor(where: string, why: string) {
    super('RS_JOIN_CODE', `${where}: this is not a rackstrap join code (${why}); a code looks like rsj1.<64 hex>.<8 hex>.<43 characters>, as \`rackstrap token create\` prints it`);
  }
}

/** Parses the text of a code file (surrounding whitespace ignored). Never echoes the text back. */
export function parseCode(text: string, where: string): JoinCode {
  const parts = text.trim().split('.');
  if (parts[0] !== CODE_PREFIX) throw new CodeFormatError(where, `it does not start with ${CODE_PREFIX}.`);
  if (parts.length === 4) {
    const [, pin, id, secret] = parts as [string, string, string, string];
    if (!PIN_RE.test(pin)) throw new CodeFormatError(where, 'the CA part is not 64 hex digits');
    if (!ID_RE.test(id)) throw new CodeFormatError(where, 'the id is not 8 hex digits');
    if (!SECRET_RE.test(secret)) throw new CodeFormatError(where, 'the secret part is not 43 characters of A-Z a-z 0-9 _ -');
    return { id, secret, caPin: `sha256:${pin}` };
  }
  if (parts.length === 3) {
    const [, id, secret] = parts as [string, string, string];
    if (!ID_RE.test(id)) throw new CodeFormatError(where, 'the id is not 8 hex digits');
    if (!SECRET_RE.test(secret)) throw new CodeFormatError(where, 'the secret part is not 43 characters of A-Z a-z 0-9 _ -');
    return { id, secret, caPin: undefined };
  }
  throw new CodeFormatError(where, `it has ${parts.length} dot-separated parts, not 3 or 4`);
}

/** What the cluster stores for a code: a key derived from the secret (the secret itself is never stored). */
export function proofKey(secret: string): Buffer {
  return createHash('sha256').update('rackstrap join code v1\0').update(secret).digest();
}

/** The proof a joining filer sends: HMAC over the session's exported keying material and the request's identity. */
export function makeProof(key: Buffer, exporter: Buffer, id: string, baseMac: string): string {
  return createHmac('sha256', key).update('rackstrap join proof v1\0').update(exporter).update(`\0${id}\0${baseMac.toLowerCase()}`).digest('base64url');
}

export function proofMatches(key: Buffer, exporter: Buffer, id: string, baseMac: string, proof: string): boolean {
  const want = Buffer.from(makeProof(key, exporter, id, baseMac), 'base64url');
  const got = Buffer.from(proof, 'base64url');
  return got.length === want.length && timingSafeEqual(got, want);
}

/** RFC 5705 label for the exporter (the "EXPORTER-" prefix is reserved for application use). */
export const EXPORTER_LABEL = 'EXPORTER-rackstrap-join';
export const EXPORTER_BYTES = 32;
