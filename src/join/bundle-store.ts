// Where a joined filer keeps its bundle: in the agent's cache folder (0700), every file 0600 and
// written atomically. The secrets go in files of their own (the agent reads cluster.key with the
// one key-file reader), join.json holds the rest and is written last, so a half-stored bundle is
// never taken for a joined filer.
//   cluster.key    the cluster key: from now on the agent requires topology signed with it
//   heartbeat.key  the cluster's heartbeat secret
//   join.json      cluster name and ID, this filer's name and description part, the CA
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ensureDir } from '../cache/check-permissions.js';
import { writeFileAtomic } from '../cache/write-file-atomic.js';
import { readLimited } from '../input/read-limited.js';
import { Mac } from '../options/schema.js';
import type { JoinBundle } from './protocol.js';

export const CLUSTER_KEY_FILE = 'cluster.key';
export const HEARTBEAT_FILE = 'heartbeat.key';
export const JOIN_FILE = 'join.json';

export const JoinRecord = z.strictObject({
  format: z.literal(1),
  cluster: z.strictObject({ name: z.string(), id: Mac }),
  filer: z.string(),
  caCert: z.string(),
  caFingerprint: z.string(),
  members: z.int(),
  description: z.record(z.string(), z.unknown()),
  joinedAt: z.iso.datetime(),
  endpoint: z.string(),
});
export type JoinRecord = z.infer<typeof JoinRecord>;

export async function storeBundle(cacheDir: string, bundle: JoinBundle, endpoint: string, now = new Date()): Promise<string[]> {
  await ensureDir(cacheDir, () => undefined);
  const files = [CLUSTER_KEY_FILE, HEARTBEAT_FILE, JOIN_FILE].map((f) => path.join(cacheDir, f));
  await writeFileAtomic(files[0]!, Buffer.from(bundle.clusterKey, 'base64'));
  await writeFileAtomic(files[1]!, Buffer.from(bundle.heartbeatSecret, 'base64'));
  const record: JoinRecord = {
    format: 1,
    cluster: bundle.cluster,
    filer: bundle.filer,
    caCert: bundle.caCert,
    caFingerprint: bundle.caFingerprint,
    members: bundle.members,
    description: bundle.description,
    joinedAt: now.toISOString(),
    endpoint,
  };
  await writeFileAtomic(files[2]!, `${JSON.stringify(record, null, 1)}\n`);
  return files;
}

/** The join record, or undefined when this filer has not joined (or the record is unreadable). */
export async function readJoinRecord(cacheDir: string): Promise<JoinRecord | undefined> {
  try {
    const text = (await readLimited(path.join(cacheDir, JOIN_FILE), { maxBytes: 1 << 20, what: 'the join record' })).toString('utf8');
    const r = JoinRecord.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** The cluster key file a join stored, when there is one. */
export async function joinedKeyFile(cacheDir: string): Promise<string | undefined> {
  const p = path.join(cacheDir, CLUSTER_KEY_FILE);
  return (await fs.stat(p).catch(() => undefined))?.isFile() ? p : undefined;
}
