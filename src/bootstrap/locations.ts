// Where the agent looks for its settings and keeps its cache, by default (a module of its own: the
// CLI shows them in --help without loading the agent).
export const DEFAULT_CONFIG_FILE = '/etc/rackstrap/agent.yaml';
export const DEFAULT_CACHE_DIR = '/var/lib/rackstrap';
