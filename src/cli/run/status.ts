// rackstrap status (definition: ../commands/status.ts): a summary from the running agent over its
// control socket (`info`), then what it built and holds, from the status file it writes next to
// the cache: the stack as a tree with addresses, the leases (address, expiry, server), the cache
// generation and the last error. --json prints the file as it is (with the agent's info when one
// answers).
import { findAgentLocations } from '../../bootstrap/agent-locations.js';
import { isProcessAlive, readStatus, StatusError } from '../../bootstrap/status-read.js';
import { renderStatus } from '../../bootstrap/status-render.js';
import { LimitedReadError } from '../../input/read-limited.js';
import { controlRequest, NoAgentError } from '../../control/client.js';
import { renderInfo } from '../../control/render.js';
import type { ReplyOf } from '../../control/protocol.js';
import type { StatusOptions } from '../commands/status.js';
import { EXIT_NOT_RUNNING } from '../exit-codes.js';
import { ExitCode, type Io } from '../main.js';

export async function run(io: Io, o: StatusOptions): Promise<void> {
  const where = await findAgentLocations({ ...(o.config === undefined ? {} : { file: o.config }), flags: o.cacheDir === undefined ? {} : { cacheDir: o.cacheDir } });
  let info: ReplyOf<'info'> | undefined;
  try {
    info = await controlRequest(where.controlSocket, 'info', { timeoutMs: 2000 });
  } catch (err) {
    if (!(err instanceof NoAgentError)) io.err(`the agent's control socket did not answer: ${(err as Error).message}`);
  }
  let status;
  try {
    status = await readStatus(where.cacheDir);
  } catch (e) {
    // No status file: no agent has run here, so none runs (exit 3, as `systemctl status` says).
    if (info === undefined && e instanceof StatusError && e.cause instanceof LimitedReadError && e.cause.kind === 'missing') {
      io.err(e.message);
      throw new ExitCode(EXIT_NOT_RUNNING);
    }
    throw e;
  }
  const running = info !== undefined || (status.mode !== 'stopped' && status.mode !== 'down' && status.pid !== process.pid && isProcessAlive(status.pid));
  if (o.json) io.out(JSON.stringify({ ...status, running, ...(info === undefined ? {} : { agent: info }) }, null, 1));
  else io.out(`${info === undefined ? '' : `${renderInfo(info)}\n\n`}${renderStatus(status, { running })}`);
  // Exit 3 when no agent runs, as `systemctl status` does: scripts can ask without parsing.
  if (!running) throw new ExitCode(EXIT_NOT_RUNNING);
}
