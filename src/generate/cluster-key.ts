// The cluster key (cluster.keyFile) that signs every filer's topology. The whole file is the key,
// byte for byte: the same rule the agent uses to read it, so no trimming or decoding here.
import { readFile } from 'node:fs/promises';
import { RackstrapError } from '../errors.js';
import type { LoadedCluster } from '../options/load.js';

export async function readClusterKey(loaded: LoadedCluster): Promise<Buffer | undefined> {
  if (loaded.keyFile === undefined) return undefined;
  try {
    return await readFile(loaded.keyFile);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new RackstrapError('RS_KEY', `${loaded.keyFile}: cannot read the cluster key (cluster.keyFile): ${why}`, { cause: e });
  }
}
