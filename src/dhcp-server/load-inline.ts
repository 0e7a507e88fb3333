// The full load of a description for the server: read, validate (YAML, schema, rules), read the
// key it names, build the tables. Run in the loader's worker (config-worker.ts) or, on request,
// inline; the answering thread never imports it at start-up.

import { readDescriptionKey } from '../cluster-key/key-file.js';
import { keyFileModeWarning } from '../cluster-key/key-file-mode.js';
import { formatProblem } from '../errors.js';
import { readLimited } from '../input/read-limited.js';
import { loadClusterText, MAX_DESCRIPTION_BYTES } from '../options/load.js';
import { loadInputs } from './compiled.js';
import { ipv6AddressesOf } from '../options/resolve.js';
import { assertTopologiesFit } from './budget-check.js';
import { buildServerConfig } from './config.js';
import type { LoadedConfig } from './load-config.js';

/** Reads the description and the key it names, and builds the tables, in this thread. */
export async function loadServerConfigInline(file: string): Promise<LoadedConfig> {
  // loadClusterFile's two steps, so that the bytes validated are the bytes fingerprinted.
  const bytes = await readLimited(file, { maxBytes: MAX_DESCRIPTION_BYTES, what: 'cluster description' });
  const loaded = loadClusterText(bytes.toString('utf8'), file);
  // The key file's bytes as they are (no trimming), read as the generator and the agent read it.
  const key = await readDescriptionKey(loaded);
  const inputs = loadInputs(bytes, key === undefined || loaded.keyFile === undefined ? undefined : { file: loaded.keyFile, bytes: key });
  // A key others can read is a leaked key: said at every full load, as validate and the agent say it.
  const exposed = loaded.keyFile === undefined ? undefined : keyFileModeWarning(loaded.keyFile);
  const warnings = [...loaded.warnings.map(formatProblem), ...(exposed === undefined ? [] : [exposed.replace(/^warning: /, '')])];
  const config = buildServerConfig(loaded, key ? { key } : {});
  // A topology too big for any OFFER would be refused at every request: refuse the description.
  assertTopologiesFit(loaded, config);
  const ipv6 = ipv6AddressesOf(loaded);
  return { config, warnings, inputs, ...(ipv6.length > 0 ? { ipv6 } : {}) };
}

