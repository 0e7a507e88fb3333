// rackstrap status (definition: ../commands/status.ts): what the agent built and holds, from the
// status file it writes next to the cache: the stack as a tree with addresses, the leases
// (address, expiry, server), the cache generation and the last error. --json prints the file as it is.
import { loadAgentLocations } from '../../bootstrap/agent-config.js';
import { isProcessAlive, readStatus } from '../../bootstrap/status.js';
import { renderStatus } from '../../bootstrap/status-render.js';
import type { StatusOptions } from '../commands/status.js';
import type { Io } from '../main.js';

export async function run(io: Io, o: StatusOptions): Promise<void> {
  const where = await loadAgentLocations({ ...(o.config === undefined ? {} : { file: o.config }), flags: o.cacheDir === undefined ? {} : { cacheDir: o.cacheDir } });
  const status = await readStatus(where.cacheDir);
  const running = status.mode !== 'stopped' && status.mode !== 'down' && status.pid !== process.pid && isProcessAlive(status.pid);
  io.out(o.json ? JSON.stringify({ ...status, running }, null, 1) : renderStatus(status, { running }));
}
