// Asking the running agent over its control socket; every reply is checked against the schema of
// its command (protocol.ts) before it is returned. The check uses the schemas' generated shapes
// (reply-shapes.ts), not zod itself, so `rackstrap show` and `status` start without loading zod.
import { statSync } from 'node:fs';
import { RackstrapError } from '../errors.js';
import { checkShape } from '../json-shape/check.js';
import type { CommandName, ReplyOf } from './protocol.js';
import { CONTROL_VERSION, MAX_LINE_BYTES, REPLY_SHAPE, REPLY_SHAPES } from './reply-shapes.js';

type Envelope = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };

/** No agent answers on the socket (none runs, or it is another folder's). */
export class NoAgentError extends RackstrapError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RS_NO_AGENT', message, options);
  }
}

export interface RequestOptions {
  timeoutMs?: number;
}

let nextId = 1;

/** Nothing at `path` (ENOENT); any other trouble (a folder we may not enter) is connect's to report. */
function isAbsent(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) === undefined;
  } catch {
    return false;
  }
}

const noAgent = (socketPath: string, cause?: unknown) => new NoAgentError(`no agent is running (nothing answers on ${socketPath})`, cause === undefined ? {} : { cause });

export async function controlRequest<C extends CommandName>(socketPath: string, command: C, opts: RequestOptions = {}): Promise<ReplyOf<C>> {
  // No socket file, no agent: said without loading node:net (`status` with no agent starts faster).
  if (isAbsent(socketPath)) throw noAgent(socketPath);
  const { connect } = await import('node:net');
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const conn = connect(socketPath);
    let buffer = '';
    let done = false;
    const finish = (err: Error | undefined, value?: ReplyOf<C>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      conn.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(() => finish(new RackstrapError('RS_CONTROL', `the agent did not answer ${command} within ${opts.timeoutMs ?? 5000} ms on ${socketPath}`)), opts.timeoutMs ?? 5000);
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${JSON.stringify({ v: CONTROL_VERSION, id, command })}\n`));
    conn.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') finish(noAgent(socketPath, err));
      else if (err.code === 'EACCES' || err.code === 'EPERM') finish(new RackstrapError('RS_DENIED', `permission denied on ${socketPath}: the agent's control socket is for root`, { cause: err }));
      else finish(new RackstrapError('RS_CONTROL', `${socketPath}: ${err.message}`, { cause: err }));
    });
    conn.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_LINE_BYTES) return finish(new RackstrapError('RS_CONTROL', `the agent's reply is longer than ${MAX_LINE_BYTES} bytes`));
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      let json: unknown;
      try {
        json = JSON.parse(buffer.slice(0, nl));
      } catch {
        return finish(new RackstrapError('RS_CONTROL', 'the agent answered something that is not JSON'));
      }
      const r = checkShape(REPLY_SHAPE, json);
      if (!r.ok) return finish(new RackstrapError('RS_CONTROL', `the agent's reply is not control protocol version ${CONTROL_VERSION}`));
      const reply = r.value as Envelope;
      if (!reply.ok) return finish(new RackstrapError(reply.error.code.startsWith('RS_') ? (reply.error.code as `RS_${string}`) : 'RS_CONTROL', reply.error.message));
      const result = checkShape(REPLY_SHAPES[command], reply.result);
      if (!result.ok) return finish(new RackstrapError('RS_CONTROL', `the agent's ${command} reply does not match this version: ${result.path === '' ? '' : `${result.path}: `}${result.message}`));
      finish(undefined, result.value as ReplyOf<C>);
    });
    conn.on('end', () => finish(new RackstrapError('RS_CONTROL', `the agent closed the connection without answering ${command}`)));
  });
}
