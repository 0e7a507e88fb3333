import t, { type Test } from 'tap';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { openCache, type CacheReadResult } from '../../src/cache/open-cache.js';
import { canonicalJson, decodeCacheFile } from '../../src/cache/cache-file.js';
import { lenientSchema } from '../../src/cache/lenient-schema.js';
import { CacheUpdate } from '../../src/cache/cache-entry.js';
import { CacheEntry as OlderCacheEntry } from '../helpers/cache-format-1/cache-entry.js';
import { createHash } from 'node:crypto';

// A cache must stay readable by an older rackstrap of the same format: a newer one may only add
// optional fields, and the older one skips what it does not know (a downgrade, or a filer whose
// agent package is older than the one that wrote its cache, must still boot from it). Only a new
// format (major) is refused.

const CLUSTER = '00:07:34:04:12:0E';
const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const lease = { prefixLength: 24, serverId: '10.1.1.1', leaseStart: '2025-01-01T00:00:00.000Z', leaseExpiry: '2025-01-02T00:00:00.000Z' };

function sample(): CacheUpdate {
  return {
    generation: 2,
    topology: {
      filer: 'Filer2',
      generation: 2,
      stack: {
        bonds: { bond0: { mode: '802.3ad', members: ['eth0', 'eth1'], lacpRate: 'fast', miimon: 100 } },
        failovers: { fail0: { members: ['eth2', 'eth3'], primary: 'eth2', miimon: 100 } },
        vlans: ['bond0.10'],
        aliases: { mgmt0: 'fail0', data0: 'bond0.10' },
        mtu: { bond0: 9000 },
      },
      vservers: [{ name: 'VsvrB', table: 2, gateway: '10.2.2.254', addresses: [{ alias: 'data0', instance: 0 }] }],
      mysql: [{ role: 'MySQLDataNode2', aliases: ['mgmt0'] }],
      ipv6: 2,
    },
    leases: {
      [`${CLUSTER}:mgmt0:Filer2`]: { kind: 'filer', alias: 'mgmt0', address: '10.1.1.3', routers: ['10.1.1.254'], ...lease },
      [`${CLUSTER}:data0:VsvrB:0`]: { kind: 'vserver', alias: 'data0', address: '10.2.2.4', vserver: 'VsvrB', instance: 0, table: 2, gateway: '10.2.2.254', ...lease },
      [`${CLUSTER}:mgmt0:MySQLDataNode2`]: { kind: 'mysql', alias: 'mgmt0', address: '10.1.1.11', role: 'MySQLDataNode2', ...lease },
    },
    keyFingerprint: null,
  };
}

/** Rewrite both copies with `edit` applied to the entry, checksum recomputed as a writer would. */
async function rewrite(files: readonly string[], edit: (entry: any) => void, format = 1): Promise<void> {
  for (const f of files) {
    const env = JSON.parse(await fs.readFile(f, 'utf8'));
    edit(env.entry);
    env.format = format;
    env.checksum = `sha256:${createHash('sha256').update(canonicalJson({ format, entry: env.entry })).digest('hex')}`;
    await fs.writeFile(f, `${JSON.stringify(env, null, 2)}\n`, { mode: 0o600 });
  }
}

async function written(t: Test) {
  const dir = path.join(t.testdir(), 'cache');
  const cache = openCache(dir, { clusterId: CLUSTER, now: () => new Date(T0) });
  await cache.write(sample());
  const plain = await cache.read();
  if (plain.kind !== 'ok') throw new Error('no cache written');
  return { cache, plain: plain.entry };
}

const ok = (r: CacheReadResult) => {
  if (r.kind !== 'ok') throw new Error(`expected a cache, got ${r.kind}`);
  return r;
};

/** Fields a newer version might add, at every level of the entry an object has. */
const ADDED = [
  'addedByNewer',
  'topology.addedByNewer',
  'topology.stack.addedByNewer',
  'topology.stack.bonds.bond0.addedByNewer',
  'topology.stack.failovers.fail0.addedByNewer',
  'topology.vservers[0].addedByNewer',
  'topology.vservers[0].addresses[0].addedByNewer',
  'topology.mysql[0].addedByNewer',
  `leases.${CLUSTER}:mgmt0:Filer2.addedByNewer`,
  `leases.${CLUSTER}:data0:VsvrB:0.addedByNewer`,
  `leases.${CLUSTER}:mgmt0:MySQLDataNode2.addedByNewer`,
];

function addEverywhere(e: any): void {
  const add = (o: any) => (o.addedByNewer = { any: ['shape', 1] });
  add(e);
  add(e.topology);
  add(e.topology.stack);
  add(e.topology.stack.bonds.bond0);
  add(e.topology.stack.failovers.fail0);
  add(e.topology.vservers[0]);
  add(e.topology.vservers[0].addresses[0]);
  add(e.topology.mysql[0]);
  for (const l of Object.values(e.leases)) add(l);
}

t.test('a copy with fields this version does not know, at any depth, is read without them', async (t) => {
  const { cache, plain } = await written(t);
  await rewrite(cache.files, addEverywhere);
  const r = ok(await cache.read());
  t.same(r.entry, plain, 'the same entry as without the added fields');
  t.notOk(JSON.stringify(r.entry).includes('addedByNewer'), 'nothing unknown reaches the agent');
  const bytes = await fs.readFile(cache.files[0]);
  const d = decodeCacheFile(bytes, { clusterId: CLUSTER });
  t.ok(d.ok);
  if (d.ok) t.same([...d.skipped].sort(), [...ADDED].sort(), 'every skipped field is named');
  t.equal(r.warnings.length, 2, 'one line per copy says it came from a newer rackstrap');
  t.match(r.warnings[0]?.message, /written by a newer rackstrap; read without what this version does not know \(.*topology\.stack\.bonds\.bond0\.addedByNewer/);
});

t.test('skipping is for unknown fields only: known ones are checked as strictly as before', async (t) => {
  const { cache } = await written(t);
  await rewrite(cache.files, (e) => {
    addEverywhere(e);
    e.topology.stack.bonds.bond0.miimon = -1;
  });
  const r = decodeCacheFile(await fs.readFile(cache.files[0]), { clusterId: CLUSTER });
  t.notOk(r.ok);
  if (!r.ok) t.match(r.reason, /invalid content: .*miimon/);
});

t.test('an added field is covered by the checksum', async (t) => {
  const { cache } = await written(t);
  await rewrite(cache.files, addEverywhere);
  const text = (await fs.readFile(cache.files[0], 'utf8')).replace('"shape"', '"shapf"');
  const r = decodeCacheFile(Buffer.from(text), { clusterId: CLUSTER });
  t.notOk(r.ok);
  if (!r.ok) t.match(r.reason, /checksum mismatch/);
});

t.test('a new format (major) is still refused, before anything else is read', async (t) => {
  const { cache } = await written(t);
  await rewrite(cache.files, addEverywhere, 2);
  const r = decodeCacheFile(await fs.readFile(cache.files[0]), { clusterId: CLUSTER });
  t.same(r, { ok: false, reason: 'format version 2; this rackstrap reads version 1' });
});

t.test('what this version writes, the version before the IPv6 count reads (frozen copy of its schema)', async (t) => {
  const { cache, plain } = await written(t);
  const stored = JSON.parse(await fs.readFile(cache.files[0], 'utf8')).entry;
  t.equal(stored.topology.ipv6, 2, 'the newer field is on disk');
  const older = lenientSchema(OlderCacheEntry).safeParse(stored);
  t.ok(older.success, 'read by the older schema under the skipping rule');
  const { ipv6: _skipped, ...topology } = plain.topology;
  if (older.success) t.same(older.data, { ...plain, topology }, 'everything but the field it does not know');
  t.notOk(OlderCacheEntry.safeParse(stored).success, 'the strict older schema alone refuses it: the reason for the rule');
});

t.test('the writer stays strict: a field it does not know is a bug, not something to store', async (t) => {
  const dir = path.join(t.testdir(), 'cache');
  const cache = openCache(dir, { clusterId: CLUSTER });
  const bad = sample() as any;
  bad.topology.stack.typo = 1;
  await t.rejects(cache.write(bad), /refusing to cache an invalid configuration/);
  t.same(CacheUpdate.safeParse(sample()).success, true);
});
