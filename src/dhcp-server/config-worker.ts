// Loads and validates the description and builds the server's tables in a worker thread, so that
// (1) the seconds a large description takes (30,000 reservations: ~1.5 s of YAML, zod and rules)
// never stall the event loop that answers DHCP, on SIGHUP in particular, and (2) the hundreds of
// MB of intermediate objects die with the worker's heap instead of staying in the server's RSS.
// The tables come back by structured clone (Maps and shared subnet objects survive it).

import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError, RackstrapError } from '../errors.js';
import type { LoadedConfig } from './load-config.js';
import { loadServerConfigInline } from './load-inline.js';

export interface WorkerRequest {
  file: string;
}

export type WorkerReply =
  | { ok: true; loaded: LoadedConfig; ms: number }
  | { ok: false; error: { name: string; code?: string; message: string; problems?: ConfigError['problems'] } };

async function run(): Promise<void> {
  const { file } = workerData as WorkerRequest;
  const t0 = performance.now();
  let reply: WorkerReply;
  try {
    reply = { ok: true, loaded: await loadServerConfigInline(file), ms: performance.now() - t0 };
  } catch (err) {
    const e = err as Error;
    reply = {
      ok: false,
      error: {
        name: e.name,
        message: e.message,
        ...(err instanceof RackstrapError ? { code: err.code } : {}),
        ...(err instanceof ConfigError ? { problems: err.problems } : {}),
      },
    };
  }
  parentPort?.postMessage(reply);
}

void run();
