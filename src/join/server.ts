// The join endpoint: TLS 1.3 with the cluster CA's server certificate, one request per connection.
// It runs on the node that holds the cluster description and the cluster key — the management
// node, where `rackstrap serve` runs — because the bundle it hands out (the cluster key, the
// heartbeat secret, the filer's part of the description) already lives there and nowhere else;
// putting the CA key and those secrets on every filer would only make more places to steal them
// from. One server and one token file also make revocation immediate without any replication.
//
// Order of checks: the source's rate limit, the request's shape, the two clocks, then the proof —
// and only a filer that proved the code learns whether it expired, was used or revoked.
import tls from 'node:tls';
import type { LoadedCluster } from '../options/load.js';
import { EXPORTER_BYTES, EXPORTER_LABEL, proofMatches } from './code.js';
import { JoinRequest, MAX_CLOCK_SKEW_MS, MAX_REQUEST_BYTES, type JoinBundle, type JoinFailure, type JoinResponse } from './protocol.js';
import { FailureLimiter } from './rate-limit.js';
import { readTokens, updateTokens, type ClusterCa, type TokenRecord } from './state.js';

export type JoinServerEvent =
  | { event: 'ready'; address: string; port: number; ca: string }
  | { event: 'joined'; filer: string; code: string; from: string }
  | { event: 'join-refused'; reason: JoinFailure; code?: string; from: string }
  | { event: 'connection-error'; from: string; error: string };

export interface JoinServerOptions {
  stateDir: string;
  loaded: LoadedCluster;
  clusterKey: Buffer;
  heartbeatSecret: Buffer;
  ca: ClusterCa;
  /** Address to listen on (the mgmt address); default all. */
  host?: string;
  port: number;
  onEvent?: (e: JoinServerEvent) => void;
  limiter?: FailureLimiter;
  now?: () => number;
}

export interface JoinServer {
  port: number;
  close(): Promise<void>;
}

/** Failures that count towards the source's rate limit: guesses, not facts about the code. */
const COUNTED: readonly JoinFailure[] = ['wrong-code', 'unknown-code', 'bad-request'];
const CONNECTION_TIMEOUT_MS = 10_000;

export async function startJoinServer(o: JoinServerOptions): Promise<JoinServer> {
  const emit = o.onEvent ?? (() => undefined);
  const limiter = o.limiter ?? new FailureLimiter();
  const now = o.now ?? Date.now;
  const server = tls.createServer({
    key: o.ca.serverKeyPem,
    // The chain: leaf, then the CA, so the filer can check the pin against the CA it is sent.
    cert: o.ca.serverCertPem + o.ca.caCertPem,
    minVersion: 'TLSv1.3',
  });
  server.on('secureConnection', (socket) => {
    const from = socket.remoteAddress ?? '?';
    socket.setTimeout(CONNECTION_TIMEOUT_MS, () => socket.destroy());
    socket.on('error', (e) => emit({ event: 'connection-error', from, error: e.message }));
    let buf = Buffer.alloc(0);
    let handled = false;
    socket.on('data', (chunk: Buffer) => {
      if (handled) return;
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(0x0a);
      if (nl < 0 && buf.length <= MAX_REQUEST_BYTES) return;
      handled = true;
      const line = nl < 0 ? undefined : buf.subarray(0, nl).toString('utf8');
      void handle(line, socket, from).then(
        (r) => socket.end(`${JSON.stringify(r)}\n`),
        (e: unknown) => {
          emit({ event: 'connection-error', from, error: (e as Error).message });
          socket.destroy();
        },
      );
    });
  });
  // Errors of a TLS handshake that failed (a scanner, a filer that refused our pin) are not ours to crash on.
  server.on('tlsClientError', () => undefined);

  const refuse = (from: string, failure: JoinFailure, extra: { code?: string; at?: string; retryAfterSec?: number } = {}): JoinResponse => {
    if (COUNTED.includes(failure)) limiter.fail(from);
    emit({ event: 'join-refused', reason: failure, ...(extra.code === undefined ? {} : { code: extra.code }), from });
    return { ok: false, time: now(), failure, ...(extra.at === undefined ? {} : { at: extra.at }), ...(extra.retryAfterSec === undefined ? {} : { retryAfterSec: extra.retryAfterSec }) };
  };

  async function handle(line: string | undefined, socket: tls.TLSSocket, from: string): Promise<JoinResponse> {
    const wait = limiter.blockedFor(from);
    if (wait > 0) return refuse(from, 'rate-limited', { retryAfterSec: wait });
    let req: JoinRequest;
    try {
      const parsed = JoinRequest.safeParse(JSON.parse(line ?? ''));
      if (!parsed.success) return refuse(from, 'bad-request');
      req = parsed.data;
    } catch {
      return refuse(from, 'bad-request');
    }
    if (Math.abs(req.time - now()) > MAX_CLOCK_SKEW_MS) return refuse(from, 'clock-skew', { code: req.id });
    // Read for every attempt: a revocation made a moment ago applies to this one.
    const tokens = await readTokens(o.stateDir);
    const rec = tokens.find((t) => t.id === req.id);
    if (rec === undefined) return refuse(from, 'unknown-code', { code: req.id });
    const exporter = socket.exportKeyingMaterial(EXPORTER_BYTES, EXPORTER_LABEL, Buffer.alloc(0));
    if (!proofMatches(Buffer.from(rec.key, 'base64url'), exporter, req.id, req.baseMac, req.proof)) return refuse(from, 'wrong-code', { code: req.id });
    const state = codeState(rec, now());
    if (state !== undefined) return refuse(from, state.failure, { code: req.id, at: state.at });
    const filer = [...o.loaded.filers.entries()].find(([, f]) => f.baseMac.toLowerCase() === req.baseMac.toLowerCase())?.[0];
    if (filer === undefined) return refuse(from, 'unknown-filer', { code: req.id });
    // Consume one use under the lock, checking again: two filers racing for the last use.
    const raced = await updateTokens(o.stateDir, (ts) => {
      const t = ts.find((x) => x.id === req.id);
      const s = t === undefined ? { failure: 'revoked' as const, at: undefined } : codeState(t, now());
      if (s !== undefined) return s;
      t!.used += 1;
      t!.joined.push(filer);
      return undefined;
    });
    if (raced !== undefined) return refuse(from, raced.failure, { code: req.id, ...(raced.at === undefined ? {} : { at: raced.at }) });
    emit({ event: 'joined', filer, code: req.id, from });
    return { ok: true, time: now(), bundle: bundleFor(o, filer) };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : o.port;
  emit({ event: 'ready', address: o.host ?? '0.0.0.0', port, ca: o.ca.caFingerprint });
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function codeState(t: TokenRecord, now: number): { failure: 'revoked' | 'expired' | 'used'; at: string | undefined } | undefined {
  if (t.revokedAt !== undefined) return { failure: 'revoked', at: t.revokedAt };
  if (Date.parse(t.expiresAt) <= now) return { failure: 'expired', at: t.expiresAt };
  if (t.used >= t.uses) return { failure: 'used', at: undefined };
  return undefined;
}

function bundleFor(o: JoinServerOptions, filer: string): JoinBundle {
  const d = o.loaded.description;
  return {
    format: 1,
    cluster: { name: d.cluster.name, id: d.cluster.id },
    filer,
    caCert: o.ca.caCertPem,
    caFingerprint: o.ca.caFingerprint,
    clusterKey: o.clusterKey.toString('base64'),
    heartbeatSecret: o.heartbeatSecret.toString('base64'),
    members: o.loaded.filers.size,
    description: d.filers[filer] as unknown as Record<string, unknown>,
  };
}

