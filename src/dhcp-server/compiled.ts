// The compiled form of a validated description: the server's tables as they came out of a full
// load (YAML, schema, rules, key), written next to the lease log after that load succeeded, so
// the next start can serve at once instead of validating again. It is only ever used for the
// exact bytes that were validated: its header carries the SHA-256 of the description and of the
// key file as they were read then, of this build of rackstrap, and of the payload itself. Any
// difference (an edited description, another key, an upgrade, a damaged or foreign file) and the
// start falls back to the full load, which then writes a new one.
//
// The file holds what answers carry (option 43, and with a key each filer's binding key), so it
// is written 0600 and read only when it belongs to this user and no one else may read or write it.

import { createHash, randomUUID } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, renameSync, statSync, unlinkSync, writeFileSync, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserialize, serialize } from 'node:v8';
import { INSTALLED_LIB_DIR } from '../installed.js';
import type { LoadedConfig } from './load-config.js';

/** Changes whenever the payload's shape changes. */
const FORMAT = 'rackstrap-compiled-description 1';
/** The description reader's cap (options/load.ts): a larger file is never served from here either. */
const MAX_DESCRIPTION_BYTES = 16 * 2 ** 20;
/** The key reader's cap (cluster-key/key-file.ts). */
const MAX_KEY_BYTES = 64;
/** A compiled form larger than this is not read (30,000 reservations take ~3 MB). */
const MAX_COMPILED_BYTES = 256 * 2 ** 20;

/** What a full load read, as it read it: the compiled form is valid for exactly these inputs. */
export interface LoadInputs {
  /** SHA-256 (hex) of the description's bytes. */
  description: string;
  /** The key file the description names (absolute), with the SHA-256 of its bytes; null: none. */
  key: { file: string; sha256: string } | null;
}

interface Header {
  format: string;
  build: string;
  descriptionFile: string;
  inputs: LoadInputs;
  payload: { bytes: number; sha256: string };
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** The compiled form that goes with a lease log. */
export function compiledPathFor(leaseFile: string): string {
  return `${leaseFile}.compiled`;
}

let buildStamp: string | undefined;
/**
 * This build of rackstrap: Node's version and the size, time and inode of the code's file on disk
 * (this module in a checkout, rewritten by every build; the executable once installed, rewritten
 * by every install), so a form compiled by other code is never trusted.
 */
function build(): string {
  if (buildStamp !== undefined) return buildStamp;
  let stamp = `node ${process.version}`;
  let code: string | undefined;
  try {
    code = INSTALLED_LIB_DIR === undefined ? fileURLToPath(import.meta.url) : process.execPath;
    const st = statSync(code);
    stamp += ` ${code} ${st.size} ${st.mtimeMs} ${st.ino}`;
  } catch {
    // No file to stamp: a random stamp, so nothing compiled by another process is ever trusted.
    stamp += ` unstamped ${randomUUID()}`;
  }
  return (buildStamp = stamp);
}

/** The inputs' fingerprint from the bytes a full load read. */
export function loadInputs(descriptionBytes: Uint8Array, key: { file: string; bytes: Uint8Array } | undefined): LoadInputs {
  return { description: sha256(descriptionBytes), key: key === undefined ? null : { file: key.file, sha256: sha256(key.bytes) } };
}

/** A regular file's bytes (at most `max`; with `privateOnly`, only this user's and private to it), or why not. */
function readOwnFile(file: string, max: number, privateOnly: boolean): Buffer | string {
  let fd: number;
  try {
    // The compiled form itself is never followed through a link; the description and key may be links, as for the full load.
    fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | (privateOnly ? fsConstants.O_NOFOLLOW : 0));
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'unreadable';
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return 'not a regular file';
    if (st.size > max) return 'too large';
    if (privateOnly && (st.uid !== process.geteuid?.() || (st.mode & 0o077) !== 0)) return 'not private to this user';
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === st.size ? buf : 'changed while read';
  } finally {
    closeSync(fd);
  }
}

export type CompiledResult = { ok: true; loaded: LoadedConfig } | { ok: false; reason: string };

/**
 * The tables from `compiledFile` when it was compiled by this build from the description and key
 * as they are now; else why not (the caller then does the full load).
 */
export function readCompiled(compiledFile: string, descriptionFile: string): CompiledResult {
  const raw = readOwnFile(compiledFile, MAX_COMPILED_BYTES, true);
  if (typeof raw === 'string') return { ok: false, reason: raw === 'ENOENT' ? 'none yet' : raw };
  const nl = raw.indexOf(10);
  if (nl < 0) return { ok: false, reason: 'no header' };
  let header: Header;
  try {
    header = JSON.parse(raw.subarray(0, nl).toString('utf8')) as Header;
  } catch {
    return { ok: false, reason: 'header does not parse' };
  }
  if (header.format !== FORMAT) return { ok: false, reason: 'another format' };
  if (header.build !== build()) return { ok: false, reason: 'compiled by another build of rackstrap' };
  if (header.descriptionFile !== path.resolve(descriptionFile)) return { ok: false, reason: 'compiled from another description file' };
  const description = readOwnFile(descriptionFile, MAX_DESCRIPTION_BYTES, false);
  if (typeof description === 'string') return { ok: false, reason: `description: ${description}` };
  if (sha256(description) !== header.inputs.description) return { ok: false, reason: 'the description changed' };
  if (header.inputs.key !== null) {
    const key = readOwnFile(header.inputs.key.file, MAX_KEY_BYTES, false);
    if (typeof key === 'string') return { ok: false, reason: `key file: ${key}` };
    if (sha256(key) !== header.inputs.key.sha256) return { ok: false, reason: 'the key file changed' };
  }
  const payload = raw.subarray(nl + 1);
  if (payload.length !== header.payload.bytes || sha256(payload) !== header.payload.sha256) return { ok: false, reason: 'checksum mismatch' };
  try {
    return { ok: true, loaded: deserialize(payload) as LoadedConfig };
  } catch {
    return { ok: false, reason: 'payload does not decode' };
  }
}

/** Writes the compiled form of a full load (tmp file 0600, then rename). Throws on failure. */
export function writeCompiled(compiledFile: string, descriptionFile: string, inputs: LoadInputs, loaded: LoadedConfig): void {
  const payload = serialize({ config: loaded.config, warnings: loaded.warnings, ...(loaded.ipv6 ? { ipv6: loaded.ipv6 } : {}) } satisfies LoadedConfig);
  const header: Header = { format: FORMAT, build: build(), descriptionFile: path.resolve(descriptionFile), inputs, payload: { bytes: payload.length, sha256: sha256(payload) } };
  const tmp = `${compiledFile}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`, 'utf8'), payload]), { mode: 0o600, flag: 'wx' });
    renameSync(tmp, compiledFile);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    throw err;
  }
}
