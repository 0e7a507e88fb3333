// The cluster key: the one reader of key files (gen, serve and its reloads, the agent, validate)
// and the one name of a key that users see.
//
// A key file is the key, byte for byte (no trimming, no decoding: the generator, the server and
// the agent must agree on the bytes), and it is 16 to 64 bytes: 16 is the least the signature
// accepts, and HMAC-SHA-256 hashes a key longer than its 64-byte block first (RFC 2104 §3), so a
// longer file adds nothing but room to hide a mistake (a description, a certificate, /dev/zero).
// The size is checked from fstat before anything is read, and at most 65 bytes are ever read.
import { RackstrapError } from '../errors.js';
import { LimitedReadError, readLimited } from '../input/read-limited.js';
import { MIN_KEY_BYTES } from '../options/wire/constants.js';
import { keyFingerprint } from '../options/wire/index.js';

/** RFC 2104 §3: the least the signature accepts. */
export const KEY_FILE_MIN_BYTES = MIN_KEY_BYTES;
/** RFC 2104 §2: SHA-256's block size; a longer key is hashed down to 32 bytes anyway. */
export const KEY_FILE_MAX_BYTES = 64;

const HOW_TO_MAKE = 'make one with: head -c 32 /dev/urandom > FILE; chmod 600 FILE';

export class KeyFileError extends RackstrapError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RS_KEY', message, options);
  }
}

/**
 * The key in `file`, or KeyFileError `<file>: cannot read the cluster key[ (<namedBy>)]: <why>`.
 * `namedBy` says where the path came from (`cluster.keyFile in cluster.yaml`, `--key-file`).
 */
export async function readKeyFile(file: string, opts: { namedBy?: string } = {}): Promise<Buffer> {
  const what = `the cluster key${opts.namedBy === undefined ? '' : ` (${opts.namedBy})`}`;
  let key: Buffer;
  try {
    key = await readLimited(file, { maxBytes: KEY_FILE_MAX_BYTES, what, code: 'RS_KEY' });
  } catch (e) {
    if (!(e instanceof LimitedReadError)) throw e;
    const reason = e.kind === 'too-large' ? `${e.reason.split(';')[0]}; a key file holds ${KEY_FILE_MIN_BYTES} to ${KEY_FILE_MAX_BYTES} bytes (${HOW_TO_MAKE})` : e.reason;
    throw new KeyFileError(`${file}: cannot read ${what}: ${reason}`, { cause: e });
  }
  if (key.length < KEY_FILE_MIN_BYTES) {
    throw new KeyFileError(`${file}: cannot read ${what}: the file is ${key.length} bytes; a key file holds ${KEY_FILE_MIN_BYTES} to ${KEY_FILE_MAX_BYTES} bytes (${HOW_TO_MAKE})`);
  }
  return key;
}

/**
 * The key's id as users see it everywhere (logs, status, explain, the agent, generated files):
 * the 8 hex digits the signature sub-option carries as `key=`, so what a log says can be matched
 * with what is on the wire. It names the key; it does not reveal it.
 */
export function keyId(key: Buffer): string {
  return keyFingerprint(key);
}

/** The key a cluster description names (cluster.keyFile), or undefined when it names none. */
export async function readDescriptionKey(loaded: { keyFile: string | undefined }): Promise<Buffer | undefined> {
  return loaded.keyFile === undefined ? undefined : readKeyFile(loaded.keyFile, { namedBy: 'cluster.keyFile' });
}
