// What the node that serves joins keeps in its state folder (0700, default /var/lib/rackstrap/join):
//   ca.key, ca.crt           the cluster CA (Ed25519); ca.key never leaves this folder
//   server.key, server.crt   the join endpoint's certificate, issued by the CA
//   heartbeat.key            the cluster's heartbeat secret (32 random bytes) unless one is configured
//   tokens.json              join codes: id, derived proof key, expiry, uses, revocation — never a secret in clear
// Every file is 0600 and written atomically; tokens.json is changed under a lock, and the join
// server reads it for every attempt, so `rackstrap token revoke` takes effect at once.
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ensureDir } from '../cache/check-permissions.js';
import { writeFileAtomic } from '../cache/write-file-atomic.js';
import { RackstrapError } from '../errors.js';
import { readLimited } from '../input/read-limited.js';
import { makeCertificate, newKeyPair, spkiFingerprint } from './x509.js';

export const DEFAULT_STATE_DIR = '/var/lib/rackstrap/join';
const YEAR_MS = 365 * 24 * 3600 * 1000;
/** Certificates start a little in the past, so a filer whose clock is a few minutes behind still accepts them. */
const BACKDATE_MS = 10 * 60 * 1000;
const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 10_000;
const MAX_TOKENS_BYTES = 1 << 20;

export const TokenRecord = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{8}$/),
  /** base64url of proofKey(secret). */
  key: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  uses: z.int().min(1).max(1000),
  used: z.int().min(0),
  revokedAt: z.iso.datetime().optional(),
  /** Filers that joined with it (names), for `token list`. */
  joined: z.array(z.string()).default([]),
});
export type TokenRecord = z.infer<typeof TokenRecord>;
const TokenFile = z.strictObject({ format: z.literal(1), tokens: z.array(TokenRecord) });

export interface ClusterCa {
  caCertPem: string;
  caFingerprint: string;
  serverKeyPem: string;
  serverCertPem: string;
}

const file = (dir: string, name: string) => path.join(dir, name);

async function readIfExists(p: string): Promise<string | undefined> {
  try {
    return (await readLimited(p, { maxBytes: MAX_TOKENS_BYTES, what: 'join state', code: 'RS_JOIN_STATE' })).toString('utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as { kind?: string }).kind === 'missing') return undefined;
    throw e;
  }
}

/** Runs fn holding the state folder's lock (a directory: mkdir is atomic). */
export async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  await ensureDir(dir, () => undefined);
  const lock = file(dir, 'lock');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await fs.mkdir(lock, { mode: 0o700 });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const st = await fs.stat(lock).catch(() => undefined);
      if (st !== undefined && Date.now() - st.mtimeMs > LOCK_STALE_MS) await fs.rm(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new RackstrapError('RS_JOIN_LOCK', `${lock}: another rackstrap command holds the join state lock; if none runs, remove it`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lock, { recursive: true, force: true });
  }
}

/** The CA and server certificate, made on first use (under the lock). */
export async function ensureCa(dir: string, clusterName: string, now = new Date()): Promise<ClusterCa> {
  return withLock(dir, async () => {
    let caKeyPem = await readIfExists(file(dir, 'ca.key'));
    let caCertPem = await readIfExists(file(dir, 'ca.crt'));
    if (caKeyPem === undefined || caCertPem === undefined) {
      const ca = newKeyPair();
      caKeyPem = ca.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      caCertPem = makeCertificate({
        subject: `rackstrap cluster CA ${clusterName}`,
        issuer: `rackstrap cluster CA ${clusterName}`,
        publicKey: ca.publicKey,
        signingKey: ca.privateKey,
        notBefore: new Date(now.getTime() - BACKDATE_MS),
        notAfter: new Date(now.getTime() + 20 * YEAR_MS),
        isCa: true,
      });
      await writeFileAtomic(file(dir, 'ca.key'), caKeyPem);
      await writeFileAtomic(file(dir, 'ca.crt'), caCertPem);
      await fs.rm(file(dir, 'server.crt'), { force: true });
    }
    let serverKeyPem = await readIfExists(file(dir, 'server.key'));
    let serverCertPem = await readIfExists(file(dir, 'server.crt'));
    const caCert = new X509Certificate(caCertPem);
    const stillGood = serverCertPem !== undefined && Date.parse(new X509Certificate(serverCertPem).validTo) > now.getTime() + 30 * 24 * 3600 * 1000;
    if (serverKeyPem === undefined || serverCertPem === undefined || !stillGood || !new X509Certificate(serverCertPem).verify(caCert.publicKey)) {
      const leaf = newKeyPair();
      serverKeyPem = leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      serverCertPem = makeCertificate({
        subject: `rackstrap join endpoint ${clusterName}`,
        issuer: `rackstrap cluster CA ${clusterName}`,
        publicKey: leaf.publicKey,
        signingKey: createPrivateKey(caKeyPem),
        notBefore: new Date(now.getTime() - BACKDATE_MS),
        notAfter: new Date(now.getTime() + YEAR_MS),
        isCa: false,
      });
      await writeFileAtomic(file(dir, 'server.key'), serverKeyPem);
      await writeFileAtomic(file(dir, 'server.crt'), serverCertPem);
    }
    return { caCertPem, caFingerprint: spkiFingerprint(caCert), serverKeyPem, serverCertPem };
  });
}

/** The heartbeat secret: the configured file's bytes, else the state folder's (made once). */
export async function ensureHeartbeatSecret(dir: string, configured?: string): Promise<Buffer> {
  if (configured !== undefined) return readLimited(configured, { maxBytes: 64, what: 'the heartbeat secret', code: 'RS_JOIN_STATE' });
  return withLock(dir, async () => {
    const p = file(dir, 'heartbeat.key');
    try {
      return await readLimited(p, { maxBytes: 64, what: 'the heartbeat secret', code: 'RS_JOIN_STATE' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as { kind?: string }).kind !== 'missing') throw e;
      const secret = randomBytes(32);
      await writeFileAtomic(p, secret);
      return secret;
    }
  });
}

export async function readTokens(dir: string): Promise<TokenRecord[]> {
  const text = await readIfExists(file(dir, 'tokens.json'));
  if (text === undefined) return [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RackstrapError('RS_JOIN_STATE', `${file(dir, 'tokens.json')}: not JSON; move it away to start with no join codes`);
  }
  const parsed = TokenFile.safeParse(json);
  if (!parsed.success) throw new RackstrapError('RS_JOIN_STATE', `${file(dir, 'tokens.json')}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
  return parsed.data.tokens;
}

/** Reads, changes and writes tokens.json under the lock; expired tokens older than a day are dropped. */
export async function updateTokens<T>(dir: string, fn: (tokens: TokenRecord[]) => T, now = new Date()): Promise<T> {
  return withLock(dir, async () => {
    const tokens = await readTokens(dir);
    const result = fn(tokens);
    const keep = tokens.filter((t) => Date.parse(t.expiresAt) > now.getTime() - 24 * 3600 * 1000);
    await writeFileAtomic(file(dir, 'tokens.json'), `${JSON.stringify({ format: 1, tokens: keep }, null, 1)}\n`);
    return result;
  });
}
