// The joining filer's side: connect, check the cluster CA against the pin BEFORE anything is sent,
// prove the code, receive the bundle. Every failure is a JoinError with its own plain message
// and the fix.
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { RackstrapError } from '../errors.js';
import { EXPORTER_BYTES, EXPORTER_LABEL, makeProof, proofKey, type JoinCode } from './code.js';
import { JoinResponse, MAX_CLOCK_SKEW_MS, MAX_RESPONSE_BYTES, PROTOCOL_VERSION, type JoinBundle, type JoinFailure } from './protocol.js';
import { spkiFingerprint } from './x509.js';

export type JoinErrorKind = JoinFailure | 'wrong-ca-pin' | 'unreachable' | 'bad-response';

export class JoinError extends RackstrapError {
  constructor(readonly kind: JoinErrorKind, message: string, options?: { cause?: unknown }) {
    super(`RS_JOIN_${kind.toUpperCase().replace(/-/g, '_')}`, message, options);
  }
}

export interface Endpoint {
  address: string;
  port: number;
}

export interface JoinAttempt {
  endpoint: Endpoint;
  code: JoinCode;
  /** `sha256:<hex>` the CA must match. */
  caPin: string;
  baseMac: string;
  now?: () => number;
  timeoutMs?: number;
}

const where = (e: Endpoint) => `${e.address}:${e.port}`;
const NEW_CODE = 'make a new one on a member with `rackstrap token create > code` and copy the file here';

function humanSpan(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function skewError(theirs: number, ours: number): JoinError {
  const d = ours - theirs;
  return new JoinError(
    'clock-skew',
    `this filer's clock is ${humanSpan(d)} ${d > 0 ? 'ahead of' : 'behind'} the cluster's (cluster: ${new Date(theirs).toISOString()}, here: ${new Date(ours).toISOString()}); ` +
      'join codes expire by the clock, so set this filer\'s time (NTP, or `date -s`) and try again',
  );
}

/** The message for each refusal the cluster can send. */
export function failureError(f: JoinFailure, code: JoinCode, endpoint: Endpoint, extra: { at?: string; retryAfterSec?: number; time: number }, now: number): JoinError {
  switch (f) {
    case 'expired':
      return new JoinError('expired', `join code ${code.id} expired at ${extra.at ?? 'an earlier time'} (codes live 15 minutes unless made with --ttl); ${NEW_CODE}`);
    case 'used':
      return new JoinError('used', `join code ${code.id} has been used already (a code joins one filer unless made with --uses N); ${NEW_CODE}`);
    case 'revoked':
      return new JoinError('revoked', `join code ${code.id} was revoked on the cluster${extra.at ? ` at ${extra.at}` : ''}; ask the cluster's admin for a new code (\`rackstrap token create\`)`);
    case 'wrong-code':
      return new JoinError('wrong-code', `the cluster refused join code ${code.id}: its secret part does not match (a copy cut short or changed?); copy the whole code file again, or ${NEW_CODE}`);
    case 'unknown-code':
      return new JoinError('unknown-code', `the cluster at ${where(endpoint)} has no join code ${code.id}: the code was made for another cluster, or has been cleaned up after expiring; ${NEW_CODE}`);
    case 'rate-limited':
      return new JoinError('rate-limited', `too many failed join attempts came from this filer's address; the cluster refuses it for ${extra.retryAfterSec ?? 60} s more. Check the code file before trying again`);
    case 'clock-skew':
      return skewError(extra.time, now);
    case 'unknown-filer':
      return new JoinError('unknown-filer', `the cluster's description has no filer with this filer's base MAC; add this filer (its baseMac and NICs) to the description on the management node, then try again (the code was not used up)`);
    case 'bad-request':
      return new JoinError('bad-request', `the join endpoint at ${where(endpoint)} did not understand the request (a different rackstrap version?); compare \`rackstrap --version\` on both sides`);
  }
}

function verifyPin(socket: tls.TLSSocket, pin: string, endpoint: Endpoint, now: number): void {
  const peer = socket.getPeerCertificate(true);
  const leafRaw = peer?.raw;
  const caRaw = peer?.issuerCertificate?.raw;
  const refused = (why: string) =>
    new JoinError(
      'wrong-ca-pin',
      `the server at ${where(endpoint)} ${why}, but the code pins the cluster CA ${pin}: this is not the cluster the code was made for, or something is in the way. Nothing was sent. ` +
        'Check the address (`rackstrap discover` lists each cluster\'s CA) and that the code file is the right one',
    );
  if (leafRaw === undefined || caRaw === undefined) throw refused('sent no CA certificate');
  const leaf = new X509Certificate(leafRaw);
  const ca = new X509Certificate(caRaw);
  const theirs = spkiFingerprint(ca);
  if (theirs !== pin) throw refused(`presents the cluster CA ${theirs}`);
  if (!ca.verify(ca.publicKey) || !leaf.verify(ca.publicKey)) throw refused('presents a certificate the pinned CA did not sign');
  // The certificate is valid from 10 minutes before it was made: outside that, this clock is off.
  const from = Date.parse(leaf.validFrom);
  const to = Date.parse(leaf.validTo);
  if (now < from - MAX_CLOCK_SKEW_MS || now > to) {
    throw new JoinError(
      'clock-skew',
      `this filer's clock (${new Date(now).toISOString()}) is ${now < from ? `at least ${humanSpan(from - now)} behind the cluster's: the join endpoint's certificate is valid only from ${new Date(from).toISOString()}` : `past the end of the join endpoint's certificate (${new Date(to).toISOString()})`}; ` +
        "set this filer's time (NTP, or `date -s`) and try again",
    );
  }
}

/** One join attempt. Resolves with the bundle; rejects with a JoinError. */
export function requestJoin(a: JoinAttempt): Promise<JoinBundle> {
  const now = a.now ?? Date.now;
  return new Promise<JoinBundle>((resolve, reject) => {
    let settled = false;
    const done = (e: Error | undefined, b?: JoinBundle) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (e) reject(e);
      else resolve(b!);
    };
    const socket = tls.connect({
      host: a.endpoint.address,
      port: a.endpoint.port,
      minVersion: 'TLSv1.3',
      // The chain is checked against the pin below, by hand: no name, no system CA store.
      rejectUnauthorized: false,
    });
    socket.setTimeout(a.timeoutMs ?? 10_000, () =>
      done(new JoinError('unreachable', `the join endpoint at ${where(a.endpoint)} did not answer within ${(a.timeoutMs ?? 10_000) / 1000} s; check that it runs and that the address is this cluster's (\`rackstrap discover\`)`)),
    );
    socket.on('error', (e: NodeJS.ErrnoException) =>
      done(
        new JoinError(
          'unreachable',
          `cannot reach the join endpoint at ${where(a.endpoint)} (${e.code ?? e.message}): check that \`rackstrap join-server\` runs there and that this filer can reach that address (\`rackstrap discover\` lists the endpoints)`,
          { cause: e },
        ),
      ),
    );
    socket.once('secureConnect', () => {
      try {
        verifyPin(socket, a.caPin, a.endpoint, now());
      } catch (e) {
        done(e as Error);
        return;
      }
      const exporter = socket.exportKeyingMaterial(EXPORTER_BYTES, EXPORTER_LABEL, Buffer.alloc(0));
      const proof = makeProof(proofKey(a.code.secret), exporter, a.code.id, a.baseMac);
      socket.write(`${JSON.stringify({ v: PROTOCOL_VERSION, id: a.code.id, proof, baseMac: a.baseMac, time: now() })}\n`);
    });
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > MAX_RESPONSE_BYTES) done(new JoinError('bad-response', `the join endpoint at ${where(a.endpoint)} sent more than ${MAX_RESPONSE_BYTES} bytes`));
      const nl = buf.indexOf(0x0a);
      if (nl < 0) return;
      let r: JoinResponse;
      try {
        const parsed = JoinResponse.safeParse(JSON.parse(buf.subarray(0, nl).toString('utf8')));
        if (!parsed.success) throw new Error(parsed.error.issues[0]?.message);
        r = parsed.data;
      } catch (e) {
        done(new JoinError('bad-response', `the join endpoint at ${where(a.endpoint)} sent an answer this rackstrap does not understand (${(e as Error).message})`));
        return;
      }
      if (r.ok) done(undefined, r.bundle);
      else done(failureError(r.failure, a.code, a.endpoint, { ...(r.at === undefined ? {} : { at: r.at }), ...(r.retryAfterSec === undefined ? {} : { retryAfterSec: r.retryAfterSec }), time: r.time }, now()));
    });
    socket.on('end', () => done(new JoinError('bad-response', `the join endpoint at ${where(a.endpoint)} closed the connection without an answer`)));
  });
}
