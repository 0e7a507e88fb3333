import { createHash } from 'node:crypto';
// Where the agent looks for its settings and keeps its cache, by default (a module of its own: the
// CLI shows them in --help without loading the agent).
export const DEFAULT_CONFIG_FILE = '/etc/rackstrap/agent.yaml';
export const DEFAULT_CACHE_DIR = '/var/lib/rackstrap';
export const RUN_DIR = '/run/rackstrap';

/**
 * The running agent's control socket (root only): /run/rackstrap/agent.sock for the default cache
 * folder; an agent with another cache folder (several agents on one host: labs, tests) gets
 * agent-<8 hex of the folder's SHA-256>.sock, so `show --cache-dir X` finds X's agent. Kept short:
 * a unix socket path has at most 107 bytes.
 */
export function defaultControlSocket(cacheDir: string): string {
  if (cacheDir === DEFAULT_CACHE_DIR) return `${RUN_DIR}/agent.sock`;
  return `${RUN_DIR}/agent-${createHash('sha256').update(cacheDir).digest('hex').slice(0, 8)}.sock`;
}
