// The pair's shared secret: a file (never a command-line argument, never logged), its exact
// bytes. Refused when others can read it, or when it is too short to be a secret.

import { readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { RackstrapError } from '../errors.js';

export const MIN_SECRET_BYTES = 16;
const MAX_SECRET_BYTES = 4096;

export function readSecretFile(file: string): Buffer {
  let mode: number;
  let size: number;
  try {
    const st = statSync(file);
    mode = st.mode;
    size = st.size;
  } catch (err) {
    throw new RackstrapError('RS_PAIR_SECRET', `pair secret file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (err as Error).message}`);
  }
  if ((mode & 0o077) !== 0) throw new RackstrapError('RS_PAIR_SECRET', `pair secret file ${file} can be read by others (mode ${(mode & 0o777).toString(8)}): chmod 600 it`);
  if (size > MAX_SECRET_BYTES) throw new RackstrapError('RS_PAIR_SECRET', `pair secret file ${file} is ${size} bytes; a secret is at most ${MAX_SECRET_BYTES}`);
  const secret = readFileSync(file);
  if (secret.length < MIN_SECRET_BYTES) throw new RackstrapError('RS_PAIR_SECRET', `pair secret file ${file} holds ${secret.length} bytes; at least ${MIN_SECRET_BYTES} are required`);
  return secret;
}

/** Names the secret in logs without revealing it (both servers must show the same). */
export function secretFingerprint(secret: Buffer): string {
  return createHash('sha256').update('rackstrap-pair-secret\0').update(secret).digest('hex').slice(0, 8);
}
