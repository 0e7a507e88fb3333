// Reading the agent's status file without zod (`rackstrap status` and `show` start fast): the file
// is checked against its shape, generated from the zod schema in status.ts (status-shape.ts).
import path from 'node:path';
import { LimitedReadError, readLimited } from '../input/read-limited.js';
import { RackstrapError } from '../errors.js';
import { checkShape } from '../json-shape/check.js';
import { MAX_STATUS_BYTES, STATUS_FILE, STATUS_SHAPE } from './status-shape.js';
import type { AgentStatus } from './status.js';

export function statusPath(cacheDir: string): string {
  return path.join(cacheDir, STATUS_FILE);
}

export class StatusError extends RackstrapError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RS_STATUS', message, options);
  }
}

export async function readStatus(cacheDir: string): Promise<AgentStatus> {
  const file = statusPath(cacheDir);
  let text: string;
  try {
    text = (await readLimited(file, { maxBytes: MAX_STATUS_BYTES, what: 'the agent status' })).toString('utf8');
  } catch (e) {
    const missing = e instanceof LimitedReadError && e.kind === 'missing';
    throw new StatusError(
      missing ? `no agent status in ${cacheDir} (${STATUS_FILE} is missing): the agent has not run with this cache directory` : (e as Error).message,
      { cause: e },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new StatusError(`${file}: not JSON`, { cause: e });
  }
  const r = checkShape(STATUS_SHAPE, json);
  if (!r.ok) throw new StatusError(`${file}: not a status this version understands: ${r.path === '' ? '' : `${r.path}: `}${r.message}`);
  return r.value as AgentStatus;
}

/** Whether process `pid` exists (EPERM: it does, as someone else's). For "is the agent running". */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
