// The cache names the cluster key by fingerprint only (the key signs topology; a copy of it in a
// cache file would be one more place to steal it from). Domain-separated so the fingerprint is
// not a plain hash of the key that some other tool might also publish.
import { createHash } from 'node:crypto';

const DOMAIN = 'rackstrap cluster key fingerprint\0';

/** `sha256:<64 hex>`, the form CacheEntry.keyFingerprint holds. */
export function fingerprintKey(key: Uint8Array): string {
  return `sha256:${createHash('sha256').update(DOMAIN).update(key).digest('hex')}`;
}
