// Where the agent keeps its files (cache folder, control socket), for the commands that only read
// them (`rackstrap status`, `show`), without loading the YAML reader and zod when that is not
// needed: from the flags, the environment and the defaults, as loadAgentLocations gives them,
// whenever the config file does not mention those two settings. Otherwise (or for a value that
// needs checking) the full loader (agent-config.ts) decides, with its messages.
import path from 'node:path';
import { LimitedReadError, readLimited } from '../input/read-limited.js';
import type { ConfigSources, LoadedLocations } from './agent-config.js';
import { DEFAULT_CACHE_DIR, DEFAULT_CONFIG_FILE, defaultControlSocket } from './locations.js';

// The names agent-config.ts gives these settings (test/bootstrap/agent-locations.test.ts compares).
export const LOCATION_ENV = { config: 'RACKSTRAP_CONFIG', cacheDir: 'RACKSTRAP_CACHE_DIR', controlSocket: 'RACKSTRAP_CONTROL_SOCKET' } as const;
const MAX_CONFIG_BYTES = 1 * 2 ** 20;

/** The settings' names, or anything that could spell them some other way (escapes, merge keys). */
const MAY_SET_LOCATIONS = /cacheDir|controlSocket|\\|<</;

export async function findAgentLocations(sources: ConfigSources = {}): Promise<LoadedLocations> {
  const full = async () => (await import('./agent-config.js')).loadAgentLocations(sources);
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  const explicit = sources.file ?? env[LOCATION_ENV.config];
  let text: string | undefined;
  try {
    text = (await readLimited(explicit ?? DEFAULT_CONFIG_FILE, { maxBytes: MAX_CONFIG_BYTES, what: 'the agent configuration' })).toString('utf8');
  } catch (e) {
    // A missing default file is no file; anything else is the full loader's to report.
    if (!(e instanceof LimitedReadError && e.kind === 'missing' && explicit === undefined)) return full();
  }
  if (text !== undefined && MAY_SET_LOCATIONS.test(text)) return full();
  const pick = (flag: string | readonly string[] | undefined, name: string): string | undefined => {
    const v = typeof flag === 'string' ? flag : flag?.at(-1);
    if (v !== undefined) return v;
    const e = env[name];
    return e === undefined || e === '' ? undefined : e;
  };
  const cacheDir = pick(sources.flags?.cacheDir, LOCATION_ENV.cacheDir);
  const controlSocket = pick(sources.flags?.controlSocket, LOCATION_ENV.controlSocket);
  // An empty flag is refused by the full loader, with its message.
  if (cacheDir?.trim() === '' || controlSocket?.trim() === '') return full();
  const dir = cacheDir === undefined ? DEFAULT_CACHE_DIR : path.resolve(cwd, cacheDir.trim());
  return {
    cacheDir: dir,
    controlSocket: controlSocket === undefined ? defaultControlSocket(dir) : path.resolve(cwd, controlSocket.trim()),
    file: text === undefined ? undefined : (explicit ?? DEFAULT_CONFIG_FILE),
  };
}
