// The TXT record of `_rackstrap._tcp` (RFC 6763 §6): what a browsing filer needs to list a
// cluster before it joins. Public facts only: a TXT record is readable by anyone on the segment,
// so the schema has no field a secret could go into. Keys ≤ 9 characters (§6.4), `txtvers` first
// (§6.7), the whole record ≤ 200 bytes (§6.2) — checked on encode, so an over-long one is refused
// where it is made rather than cut on the wire.
import { z } from 'zod';
import { RackstrapError } from '../errors.js';
import { Mac } from '../options/schema.js';

/** RFC 6763 §6.2: "ideally ... under 200 bytes", so it fits one packet with everything else. */
export const TXT_MAX_BYTES = 200;
export const TXT_VERSION = '1';

export const ClusterTxt = z.strictObject({
  /** Cluster name (the description's cluster.name). */
  cluster: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,62}$/),
  /** Cluster ID, MAC form. */
  id: Mac,
  /** rackstrap version of the advertiser. */
  version: z.string().regex(/^[0-9A-Za-z.+-]{1,12}$/, '1-12 characters: letters, digits, . + -'),
  /** Filers the cluster description holds. */
  members: z.int().min(0).max(9999),
  /** TCP port of the join endpoint, when this member serves joins. */
  joinPort: z.int().min(1).max(65535).optional(),
  /** Fingerprint of the cluster CA (`sha256:` + hex of its public key); informational, since TXT is unauthenticated. */
  ca: z.string().regex(/^sha256:[0-9a-f]{64}$/).optional(),
});
export type ClusterTxt = z.infer<typeof ClusterTxt>;

const KEYS = { cluster: 'cl', id: 'id', version: 'v', members: 'n', joinPort: 'jp', ca: 'ca' } as const;

/** The TXT strings (each `key=value`), in a fixed order. Throws when the record would pass 200 bytes. */
export function encodeTxt(txt: ClusterTxt): Buffer[] {
  const t = ClusterTxt.parse(txt);
  const pairs: string[] = [`txtvers=${TXT_VERSION}`, `cl=${t.cluster}`, `id=${t.id.toLowerCase()}`, `v=${t.version}`, `n=${t.members}`];
  if (t.joinPort !== undefined) pairs.push(`jp=${t.joinPort}`);
  if (t.ca !== undefined) pairs.push(`ca=${t.ca.slice('sha256:'.length)}`);
  const strings = pairs.map((p) => Buffer.from(p, 'utf8'));
  const size = strings.reduce((n, s) => n + 1 + s.length, 0);
  if (size > TXT_MAX_BYTES) {
    throw new RackstrapError('RS_DISCOVERY_TXT', `the service's TXT record would be ${size} bytes; at most ${TXT_MAX_BYTES} fit (shorten the cluster name)`);
  }
  return strings;
}

/** Parses a received TXT record. `undefined` when it is not a rackstrap TXT record (or a malformed one): never throws. */
export function decodeTxt(strings: readonly Uint8Array[]): ClusterTxt | undefined {
  const map = new Map<string, string>();
  for (const s of strings) {
    const text = Buffer.from(s).toString('utf8');
    const eq = text.indexOf('=');
    const key = (eq < 0 ? text : text.slice(0, eq)).toLowerCase();
    // RFC 6763 §6.4: only the first occurrence of a key counts.
    if (key !== '' && !map.has(key)) map.set(key, eq < 0 ? '' : text.slice(eq + 1));
  }
  if (map.get('txtvers') !== TXT_VERSION) return undefined;
  const num = (v: string | undefined) => (v !== undefined && /^[0-9]{1,5}$/.test(v) ? Number(v) : undefined);
  const ca = map.get(KEYS.ca);
  const parsed = ClusterTxt.safeParse({
    cluster: map.get(KEYS.cluster),
    id: map.get(KEYS.id),
    version: map.get(KEYS.version),
    members: num(map.get(KEYS.members)),
    ...(map.has(KEYS.joinPort) ? { joinPort: num(map.get(KEYS.joinPort)) } : {}),
    ...(ca !== undefined ? { ca: `sha256:${ca}` } : {}),
  });
  return parsed.success ? parsed.data : undefined;
}
