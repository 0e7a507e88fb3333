// The description file → the server's tables, with the key file it names. Done in a worker
// thread (config-worker.ts) by default: a large description takes seconds to validate, and the
// server must go on answering meanwhile (SIGHUP), and not keep the loader's garbage in its RSS.

import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { ConfigError, RackstrapError, formatProblem } from '../errors.js';
import { loadClusterFile } from '../options/load.js';
import { buildServerConfig, type ServerConfig, type TopologyEntry } from './config.js';
import type { WorkerReply } from './config-worker.js';

export interface LoadedConfig {
  config: ServerConfig;
  /** The description's warnings, formatted `file:line:col field: rule`. */
  warnings: string[];
  /** Time the worker took to load, validate and build, ms. */
  loadMs?: number;
}

/** Reads the description and the key it names, and builds the tables, in this thread. */
export async function loadServerConfigInline(file: string): Promise<LoadedConfig> {
  const loaded = await loadClusterFile(file);
  let key: Buffer | undefined;
  if (loaded.keyFile !== undefined) {
    try {
      // The key file's bytes as they are (no trimming): the agent reads the same bytes.
      key = await readFile(loaded.keyFile);
    } catch (err) {
      throw new RackstrapError('RS_KEY', `${file}: cannot read the cluster key ${loaded.keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  }
  return { config: buildServerConfig(loaded, key ? { key } : {}), warnings: loaded.warnings.map(formatProblem) };
}

/** Structured clone turns Buffers into Uint8Arrays: make option 43 a Buffer again. */
function revive(loaded: LoadedConfig): LoadedConfig {
  const topologies = new Map<string, TopologyEntry>();
  for (const [k, v] of loaded.config.topologies) {
    const u8 = v.option43 as Uint8Array;
    topologies.set(k, { ...v, option43: Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength) });
  }
  return { ...loaded, config: { ...loaded.config, topologies } };
}

/** The same as loadServerConfigInline, in a worker thread. Throws what it would throw (ConfigError with its problems, RackstrapError with its code). */
export function loadServerConfig(file: string): Promise<LoadedConfig> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./config-worker.js', import.meta.url), { workerData: { file } });
    let settled = false;
    worker.once('message', (reply: WorkerReply) => {
      settled = true;
      if (reply.ok) resolve({ ...revive(reply.loaded), loadMs: reply.ms });
      else if (reply.error.problems) reject(new ConfigError(reply.error.problems));
      else if (reply.error.code?.startsWith('RS_')) reject(new RackstrapError(reply.error.code as `RS_${string}`, reply.error.message));
      else reject(new Error(`${reply.error.name}: ${reply.error.message}`));
    });
    worker.once('error', (err) => {
      if (!settled) reject(err);
      settled = true;
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new RackstrapError('RS_SERVE_CONFIG', `the description loader exited (${code}) without a result`));
    });
  });
}
