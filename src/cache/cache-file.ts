// One cache copy on disk: a JSON envelope { format, checksum, entry } ending in a newline.
// The checksum is SHA-256 over the canonical JSON of { format, entry } (keys sorted, no spaces),
// so it is independent of the pretty-printing and covers the format version too. The final
// newline is the write's end marker: a copy cut anywhere, even just before it, counts as torn.
// Pure: bytes in, verdict out; no fs.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CACHE_FORMAT, CacheEntry } from './cache-entry.js';
import { lenientSchema } from './lenient-schema.js';

/**
 * What a copy is read with: CacheEntry, skipping fields it does not know at any depth. A newer
 * rackstrap of the same format may add optional fields (docs/wire-format.md "The cache file");
 * an older one reads the rest and boots from it. Only another `format` is refused.
 */
const StoredEntry = lenientSchema(CacheEntry);

const Envelope = z.object({
  format: z.int(),
  checksum: z.string(),
  entry: z.unknown(),
});

const CHECKSUM = /^sha256:[0-9a-f]{64}$/;

/** JSON with object keys sorted at every level and no whitespace: one text per value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts = Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value);
}

function checksumOf(format: number, entry: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson({ format, entry })).digest('hex')}`;
}

/** The bytes of one copy for an entry that has already been validated. */
export function encodeCacheFile(entry: CacheEntry): string {
  return `${JSON.stringify({ format: CACHE_FORMAT, checksum: checksumOf(CACHE_FORMAT, entry), entry }, null, 2)}\n`;
}

/** `skipped`: paths of the fields a newer version wrote that this one does not know. */
export type DecodedCacheFile = { ok: true; entry: CacheEntry; skipped: string[] } | { ok: false; reason: string };

/** Paths present in what was read and absent from what the schema kept: the fields skipped. */
function skippedFields(raw: unknown, kept: unknown, at: string, out: string[]): string[] {
  if (raw === null || typeof raw !== 'object' || kept === null || typeof kept !== 'object') return out;
  const isArray = Array.isArray(raw);
  for (const [k, v] of Object.entries(raw)) {
    const p = isArray ? `${at}[${k}]` : at === '' ? k : `${at}.${k}`;
    if (!(k in kept)) out.push(p);
    else skippedFields(v, (kept as Record<string, unknown>)[k], p, out);
  }
  return out;
}

/** V8's JSON errors quote the input: keep a reason one log line, short, and free of control bytes. */
function oneLine(message: string): string {
  const flat = message.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Check one copy, cheapest test first; the reason says what an admin would want to know.
 * Format is checked before the checksum so a file from another rackstrap version says so.
 */
export function decodeCacheFile(bytes: Uint8Array, expect: { clusterId: string }): DecodedCacheFile {
  if (bytes.length === 0) return { ok: false, reason: 'empty file (torn write?)' };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, reason: 'not UTF-8 text (corrupted)' };
  }
  if (!text.endsWith('\n')) return { ok: false, reason: `torn: ${bytes.length} bytes and no final newline` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `not valid JSON (${oneLine((e as Error).message)})` };
  }
  const env = Envelope.safeParse(json);
  if (!env.success) return { ok: false, reason: 'not a rackstrap cache file (no format/checksum/entry)' };
  const { format, checksum, entry } = env.data;
  if (format !== CACHE_FORMAT) return { ok: false, reason: `format version ${format}; this rackstrap reads version ${CACHE_FORMAT}` };
  if (!CHECKSUM.test(checksum)) return { ok: false, reason: 'checksum field is not sha256:<64 hex digits>' };
  const computed = checksumOf(format, entry);
  if (computed !== checksum) return { ok: false, reason: `checksum mismatch: file says ${checksum}, content hashes to ${computed}` };
  const parsed = StoredEntry.safeParse(entry);
  if (!parsed.success) return { ok: false, reason: `invalid content: ${z.prettifyError(parsed.error).replace(/\n\s*/g, '; ')}` };
  if (parsed.data.clusterId !== expect.clusterId) {
    return { ok: false, reason: `belongs to cluster ${parsed.data.clusterId}, this filer is in cluster ${expect.clusterId}` };
  }
  return { ok: true, entry: parsed.data, skipped: skippedFields(entry, parsed.data, '', []) };
}
