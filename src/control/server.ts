// The agent's control socket: a unix socket, mode 0600, in a root-only folder, serving root only —
// the peer's credentials (SO_PEERCRED) are checked on every connection, so a socket file made
// readable by mistake still refuses anyone else. Requests and replies are the schemas of
// protocol.ts; a reply that does not match its schema is a bug and is answered as an error.
import { chmod, mkdir, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { RackstrapError } from '../errors.js';
import { loadNative } from '../net/native.js';
import { CONTROL_VERSION, MAX_LINE_BYTES, REPLIES, Request, type CommandName } from './protocol.js';

export type ControlHandler = (command: CommandName) => Promise<unknown>;

export interface ControlServerOptions {
  path: string;
  handle: ControlHandler;
  /** Peers allowed in by uid (default: root only). */
  allowUids?: readonly number[];
  onError?: (message: string) => void;
  /** A connection with no request under way is closed after this long (default 10 s). */
  idleTimeoutMs?: number;
}

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

/** Whether something answers on the socket at `file`. */
function listening(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(file);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  const allow = new Set(opts.allowUids ?? [0]);
  // sockaddr_un.sun_path: 108 bytes with the NUL; a longer path would be cut silently.
  if (Buffer.byteLength(opts.path) > 107) throw new RackstrapError('RS_CONTROL', `${opts.path}: a unix socket path may have at most 107 bytes; set a shorter controlSocket`);
  await mkdir(path.dirname(opts.path), { recursive: true, mode: 0o755 });
  if (await listening(opts.path)) throw new RackstrapError('RS_CONTROL', `${opts.path}: another agent already answers on this control socket`);
  await unlink(opts.path).catch(() => undefined);
  const native = loadNative();
  const server: Server = createServer((conn) => serve(conn, opts, allow, native.peerCredentials));
  server.on('error', (err) => opts.onError?.(`control socket: ${err.message}`));
  // The socket is created with the process umask: make it 0600 before anyone can be let in.
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(oldMask);
  }
  await chmod(opts.path, 0o600);
  return {
    path: opts.path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        void unlink(opts.path).catch(() => undefined);
      }),
  };
}

function send(conn: Socket, reply: unknown): void {
  if (!conn.destroyed) conn.write(`${JSON.stringify(reply)}\n`);
}

function fail(conn: Socket, id: number | null, code: string, message: string): void {
  send(conn, { v: CONTROL_VERSION, id, ok: false, error: { code, message } });
}

function serve(conn: Socket, opts: ControlServerOptions, allow: ReadonlySet<number>, peerCredentials: (fd: number) => { uid: number; pid: number }): void {
  // Idle means no request under way: an answer that takes long (the kernel read on a busy host)
  // is not cut off; the wait for the next request is.
  const idleMs = opts.idleTimeoutMs ?? 10_000;
  conn.setTimeout(idleMs, () => conn.destroy());
  let pending = 0;
  conn.on('error', () => undefined);
  const fd = (conn as unknown as { _handle?: { fd?: number } })._handle?.fd;
  let uid: number | undefined;
  try {
    if (typeof fd === 'number' && fd >= 0) uid = peerCredentials(fd).uid;
  } catch {
    uid = undefined;
  }
  if (uid === undefined || !allow.has(uid)) {
    fail(conn, null, 'RS_DENIED', `permission denied: the agent's control socket answers root only${uid === undefined ? '' : ` (you are uid ${uid})`}`);
    conn.end();
    // Nothing of theirs is read, but the stream must flow for the close to complete.
    conn.resume();
    return;
  }
  let buffer = '';
  let busy = Promise.resolve();
  conn.setEncoding('utf8');
  conn.on('data', (chunk: string) => {
    buffer += chunk;
    if (buffer.length > MAX_LINE_BYTES) {
      fail(conn, null, 'RS_REQUEST', `request longer than ${MAX_LINE_BYTES} bytes`);
      conn.destroy();
      return;
    }
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      // In order: replies leave in the order the requests came.
      if (pending++ === 0) conn.setTimeout(0);
      busy = busy
        .then(() => answer(conn, line, opts))
        .finally(() => {
          if (--pending === 0 && !conn.destroyed) conn.setTimeout(idleMs);
        });
    }
  });
}

async function answer(conn: Socket, line: string, opts: ControlServerOptions): Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return fail(conn, null, 'RS_REQUEST', 'not a JSON request');
  }
  const id = typeof (json as { id?: unknown })?.id === 'number' ? ((json as { id: number }).id) : null;
  if ((json as { v?: unknown })?.v !== CONTROL_VERSION) {
    return fail(conn, id, 'RS_VERSION', `this agent speaks control protocol version ${CONTROL_VERSION}; the request has ${JSON.stringify((json as { v?: unknown })?.v ?? null)}`);
  }
  const r = Request.safeParse(json);
  if (!r.success) return fail(conn, id, 'RS_REQUEST', z.prettifyError(r.error).split('\n').join(' '));
  const { command } = r.data;
  try {
    const result = await opts.handle(command);
    const checked = REPLIES[command].safeParse(result);
    if (!checked.success) {
      opts.onError?.(`control reply to ${command} does not match its schema: ${z.prettifyError(checked.error)}`);
      return fail(conn, r.data.id, 'RS_BUG', `the agent's reply to ${command} does not match the protocol`);
    }
    send(conn, { v: CONTROL_VERSION, id: r.data.id, ok: true, command, result: checked.data });
  } catch (err) {
    fail(conn, r.data.id, err instanceof RackstrapError ? err.code : 'RS_BUG', err instanceof Error ? err.message : String(err));
  }
}
