// rackstrap token create|list|revoke (definitions: ../commands/join.ts). They change the join
// server's token file under its lock; the server reads it for every attempt, so a revocation
// applies to the very next one. `create` prints the code on stdout and nothing else there, so
// `rackstrap token create > code` makes the file to copy to the new filer.
import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RackstrapError, UsageError } from '../../errors.js';
import { newCode, proofKey } from '../../join/code.js';
import { durationArg } from '../../options/duration.js';
import { DEFAULT_STATE_DIR, readTokens, updateTokens } from '../../join/state.js';
import { spkiFingerprint } from '../../join/x509.js';
import type { TokenOptions } from '../commands/join.js';
import type { Io } from '../main.js';

const DEFAULT_TTL = '15m';

async function caPin(dir: string): Promise<string> {
  try {
    return spkiFingerprint(new X509Certificate(await fs.readFile(path.join(dir, 'ca.crt'))));
  } catch {
    throw new RackstrapError('RS_JOIN_STATE', `${dir} holds no cluster CA yet: start \`rackstrap join-server\` once (it makes the CA), with the same --state-dir`);
  }
}

export async function create(io: Io, o: TokenOptions): Promise<void> {
  const dir = o.stateDir ?? DEFAULT_STATE_DIR;
  const ttlMs = durationArg(o.ttl ?? DEFAULT_TTL, '--ttl', { plain: 's', min: 1000, max: 7 * 86_400_000 });
  const uses = o.uses === undefined ? 1 : Number(o.uses);
  if (!Number.isInteger(uses) || uses < 1 || uses > 1000) throw new UsageError(`--uses: "${o.uses}" is not a whole number from 1 to 1000`);
  const { code, text } = newCode(await caPin(dir));
  const now = new Date();
  await updateTokens(dir, (tokens) => {
    tokens.push({
      id: code.id,
      key: proofKey(code.secret).toString('base64url'),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
      uses,
      used: 0,
      joined: [],
    });
  });
  io.out(text);
}

export async function list(io: Io, o: TokenOptions): Promise<void> {
  const tokens = await readTokens(o.stateDir ?? DEFAULT_STATE_DIR);
  const now = Date.now();
  const state = (t: (typeof tokens)[number]) =>
    t.revokedAt !== undefined ? 'revoked' : Date.parse(t.expiresAt) <= now ? 'expired' : t.used >= t.uses ? 'used' : 'valid';
  const rows = tokens.map((t) => ({ id: t.id, state: state(t), expiresAt: t.expiresAt, uses: t.uses, used: t.used, joined: t.joined, ...(t.revokedAt ? { revokedAt: t.revokedAt } : {}) }));
  if (o.json) {
    io.out(JSON.stringify(rows, null, 1));
    return;
  }
  if (rows.length === 0) {
    io.out('no join codes');
    return;
  }
  io.out(['id        state    expires                   used', ...rows.map((r) => `${r.id}  ${r.state.padEnd(7)}  ${r.expiresAt}  ${r.used}/${r.uses}${r.joined.length ? `  ${r.joined.join(', ')}` : ''}`)].join('\n'));
}

export async function revoke(io: Io, id: string, o: TokenOptions): Promise<void> {
  if (!/^[0-9a-f]{8}$/.test(id)) throw new UsageError(`"${id}" is not a join code id (8 hex digits, as \`rackstrap token list\` shows)`);
  const found = await updateTokens(o.stateDir ?? DEFAULT_STATE_DIR, (tokens) => {
    const t = tokens.find((x) => x.id === id);
    if (t === undefined) return false;
    t.revokedAt ??= new Date().toISOString();
    return true;
  });
  if (!found) throw new RackstrapError('RS_JOIN_UNKNOWN', `no join code ${id} (rackstrap token list shows them)`);
  io.out(`join code ${id} revoked`);
}
