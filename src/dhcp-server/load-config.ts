// The description file → the server's tables, with the key file it names. Done in a worker
// thread (config-worker.ts) by default: a large description takes seconds to validate, and the
// server must go on answering meanwhile (SIGHUP), and not keep the loader's garbage in its RSS.

import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { INSTALLED_LIB_DIR } from '../installed.js';
import { ConfigError, RackstrapError } from '../errors.js';
import type { LoadInputs } from './compiled.js';
import { DEFAULT_RELOAD_TIMEOUT_S } from './policy.js';
import type { ServerConfig, TopologyEntry } from './config.js';
import type { WorkerReply } from './config-worker.js';

export interface LoadedConfig {
  config: ServerConfig;
  /** The description's warnings, formatted `file:line:col field: rule`. */
  warnings: string[];
  /** Time the worker took to load, validate and build, ms. */
  loadMs?: number;
  /** What a full load read (the compiled form's fingerprint); absent when served from the compiled form. */
  inputs?: LoadInputs;
  /** The description's IPv6 addresses, which this DHCPv4 server does not serve (said once at start and reload). */
  ipv6?: Array<{ address: string; where: string }>;
}

/** Reads the description and the key it names, and builds the tables, in this thread (loads the schema and YAML on first use). */
export async function loadServerConfigInline(file: string): Promise<LoadedConfig> {
  return (await import('./load-inline.js')).loadServerConfigInline(file);
}

/** Structured clone turns Buffers into Uint8Arrays: make option 43 a Buffer again. */
export function revive(loaded: LoadedConfig): LoadedConfig {
  const topologies = new Map<string, TopologyEntry>();
  for (const [k, v] of loaded.config.topologies) {
    const u8 = v.option43 as Uint8Array;
    topologies.set(k, { ...v, option43: Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength) });
  }
  return { ...loaded, config: { ...loaded.config, topologies } };
}

/**
 * Longest a load may take before it is given up (the worker is stopped and the load refused):
 * every file it reads is size-capped, so this only fires on something like a hung file system,
 * and then the next reload must not queue behind it forever. The largest description takes
 * seconds.
 */
export const LOAD_TIMEOUT_MS = DEFAULT_RELOAD_TIMEOUT_S * 1000;

/** The same as loadServerConfigInline, in a worker thread. Throws what it would throw (ConfigError with its problems, RackstrapError with its code). */
export function loadServerConfig(file: string, opts: { timeoutMs?: number } = {}): Promise<LoadedConfig> {
  const timeoutMs = opts.timeoutMs ?? LOAD_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const worker = new Worker(INSTALLED_LIB_DIR === undefined ? new URL('./config-worker.js', import.meta.url) : path.join(INSTALLED_LIB_DIR, 'config-worker.cjs'), { workerData: { file } });
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      reject(new RackstrapError('RS_SERVE_CONFIG', `${file}: loading the description took longer than ${Math.round(timeoutMs / 1000)} s; given up`));
      void worker.terminate();
    }, timeoutMs);
    timer.unref();
    worker.once('exit', () => clearTimeout(timer));
    worker.once('message', (reply: WorkerReply) => {
      if (settled) return;
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
