// rackstrap key create FILE (definition: ../commands/key.ts): 32 bytes from the kernel's random
// source into a new file created 0600 (O_EXCL: an existing key is never replaced), synced to disk.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, writeSync, constants } from 'node:fs';
import { keyId } from '../../cluster-key/key-file.js';
import { RackstrapError } from '../../errors.js';
import type { Io } from '../main.js';

export const NEW_KEY_BYTES = 32;

export async function run(io: Io, file: string): Promise<void> {
  const key = randomBytes(NEW_KEY_BYTES);
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RackstrapError('RS_KEY', code === 'EEXIST' ? `${file}: exists; a key is never overwritten (remove it first if you mean to replace it)` : `${file}: cannot create: ${code ?? (e as Error).message}`, { cause: e });
  }
  try {
    writeSync(fd, key);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  io.out(`${file}: new cluster key ${keyId(key)} (${NEW_KEY_BYTES} bytes, mode 0600)`);
}
