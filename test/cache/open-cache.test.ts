import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, promises as fs, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { openCache, type Cache, type CacheReadResult } from '../../src/cache/open-cache.js';
import { CacheUpdate } from '../../src/cache/cache-entry.js';
import { canonicalJson, decodeCacheFile } from '../../src/cache/cache-file.js';
import { fingerprintKey } from '../../src/cache/fingerprint-key.js';
import { CacheCorruptError, CacheInsecureError, CacheRollbackError } from '../../src/errors.js';

const CLUSTER = '00:07:34:04:12:0E';
const OTHER_CLUSTER = '00:07:34:04:12:0F';
const T0 = Date.parse('2025-01-01T00:00:00.000Z');

/** A Filer1-like entry with one lease of each kind. */
function sample(generation: number): CacheUpdate {
  const lease = {
    prefixLength: 24,
    serverId: '10.1.1.1',
    leaseStart: '2025-01-01T00:00:00.000Z',
    leaseExpiry: '2025-01-02T00:00:00.000Z',
  };
  return {
    generation,
    topology: {
      filer: 'Filer1',
      generation,
      stack: {
        bonds: { bond0: { mode: '802.3ad', members: ['eth0', 'eth1'], lacpRate: 'fast', miimon: 100 } },
        failovers: {},
        vlans: ['bond0.10'],
        aliases: { mgmt0: 'eth2', data0: 'bond0.10', san0: 'bond0.10' },
        mtu: { bond0: 9000 },
      },
      vservers: [{ name: 'VsvrA', table: 1, addresses: [{ alias: 'data0', instance: 0 }] }],
      mysql: [{ role: 'MySQLMgmtNode', aliases: ['mgmt0'] }],
    },
    leases: {
      [`${CLUSTER}:mgmt0:Filer1`]: { kind: 'filer', alias: 'mgmt0', address: '10.1.1.2', routers: ['10.1.1.254'], dns: ['10.1.1.53'], ntp: ['10.1.1.123'], domain: 'example.net', ...lease },
      [`${CLUSTER}:san0:Filer1`]: { kind: 'filer', alias: 'san0', address: '10.2.2.2', broadcast: '10.2.2.255', ...lease },
      [`${CLUSTER}:data0:VsvrA:0`]: { kind: 'vserver', alias: 'data0', address: '10.2.2.1', routers: ['10.2.2.254'], vserver: 'VsvrA', instance: 0, table: 1, gateway: '10.2.2.254', ...lease },
      [`${CLUSTER}:mgmt0:MySQLMgmtNode`]: { kind: 'mysql', alias: 'mgmt0', address: '10.1.1.10', role: 'MySQLMgmtNode', ...lease, leaseExpiry: null },
    },
    keyFingerprint: fingerprintKey(Buffer.from('a cluster key for tests')),
  };
}

/** A cache whose clock advances one second per write, so writtenAt orders writes. */
function open(dir: string, clusterId = CLUSTER): Cache {
  let tick = 0;
  return openCache(dir, { clusterId, now: () => new Date(T0 + 1000 * tick++) });
}

/**
 * Replace a file's bytes in place, synchronously. fs.writeFile truncates to 0 first, which makes
 * ext4 (auto_da_alloc) flush on close: ~2 ms each, too slow for thousands of corruptions.
 */
function overwrite(file: string, bytes: Uint8Array): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, 0);
    ftruncateSync(fd, bytes.length);
  } finally {
    closeSync(fd);
  }
}

const mode = async (p: string) => (await fs.stat(p)).mode & 0o777;
const ok = (r: CacheReadResult) => {
  if (r.kind !== 'ok') throw new Error(`expected a cache, got ${r.kind}`);
  return r;
};

t.test('round trip: what is written is what is read, in two identical copies', async (t) => {
  const dir = path.join(t.testdir(), 'var', 'cache');
  const cache = open(dir);
  t.same(cache.files, [path.join(dir, 'cache.a.json'), path.join(dir, 'cache.b.json')]);
  t.same(await cache.read(), { kind: 'empty', warnings: [] }, 'no directory yet: empty, not an error');

  t.same(await cache.write(sample(3)), { warnings: [] });
  const r = ok(await cache.read());
  t.same(r.warnings, []);
  t.same(r.entry, { clusterId: CLUSTER, ...CacheUpdate.parse(sample(3)), writtenAt: new Date(T0).toISOString() });
  t.equal(r.entry.leases[`${CLUSTER}:mgmt0:MySQLMgmtNode`]?.leaseExpiry, null, 'infinite lease kept');

  const [a, b] = await Promise.all(cache.files.map((f) => fs.readFile(f, 'utf8')));
  t.equal(a, b, 'both copies hold the same bytes');
  const onDisk = JSON.parse(a!);
  t.equal(onDisk.format, 1);
  t.equal(onDisk.entry.generation, 3, 'each copy carries the generation');
  t.equal(onDisk.checksum, `sha256:${createHash('sha256').update(canonicalJson({ format: 1, entry: onDisk.entry })).digest('hex')}`);
  t.notMatch(a!, /a cluster key for tests/, 'the key itself is not stored');
  t.same((await fs.readdir(dir)).sort(), ['cache.a.json', 'cache.b.json'], 'no temp files left');

  await cache.write(sample(4));
  t.equal(ok(await cache.read()).entry.generation, 4, 'a newer generation replaces it');
});

t.test('a lower generation is refused unless forced; the same generation is a normal update', async (t) => {
  const cache = open(path.join(t.testdir(), 'c'));
  await cache.write(sample(7));
  const before = await fs.readFile(cache.files[0]);
  const err = await cache.write(sample(6)).catch((e: unknown) => e);
  t.type(err, CacheRollbackError);
  t.match(err, { code: 'RS_CACHE_ROLLBACK', stored: 7, attempted: 6, message: /generation 7 .* older generation 6/ });
  t.same(await fs.readFile(cache.files[0]), before, 'nothing written');

  await cache.write(sample(7));
  const same = ok(await cache.read());
  t.equal(same.entry.generation, 7);
  t.equal(same.entry.writtenAt, new Date(T0 + 1000).toISOString(), 'rewritten (a lease renewal)');

  await cache.write(sample(6), { force: true });
  t.equal(ok(await cache.read()).entry.generation, 6, 'forced rollback');
});

t.test('an invalid entry is never written', async (t) => {
  const dir = path.join(t.testdir(), 'c');
  const cache = open(dir);
  const bad = sample(5);
  bad.topology.generation = 4;
  await t.rejects(cache.write(bad), { code: 'RS_CACHE_INVALID', message: /different configuration generation/ });
  const noKey = { ...sample(5), keyFingerprint: 'the key itself' };
  await t.rejects(cache.write(noKey), { code: 'RS_CACHE_INVALID', message: /keyFingerprint/ });
  t.same(await cache.read(), { kind: 'empty', warnings: [] });
  t.throws(() => openCache(dir, { clusterId: 'cluster-1' }), { code: 'RS_CACHE_INVALID' });
});

t.test('the copy with the highest generation wins, then the one written last', async (t) => {
  const cache = open(path.join(t.testdir(), 'c'));
  const [a, b] = cache.files;
  await cache.write(sample(5));
  const gen5 = await fs.readFile(a);
  await cache.write(sample(6));
  const gen6 = await fs.readFile(a);

  await fs.writeFile(b, gen5); // as if the write of b never happened
  let r = ok(await cache.read());
  t.equal(r.file, a);
  t.equal(r.entry.generation, 6);
  t.match(r.warnings, [{ file: b, message: /generation 5 .* older than .*cache\.a\.json/ }]);

  await fs.writeFile(a, gen5);
  await fs.writeFile(b, gen6);
  r = ok(await cache.read());
  t.equal(r.file, b, 'b newer: b wins, order of files does not matter');
  t.equal(r.entry.generation, 6);

  await cache.write(sample(6)); // same generation, written later (2nd tick... 3rd write)
  const later = await fs.readFile(a);
  await fs.writeFile(b, gen6);
  r = ok(await cache.read());
  t.equal(r.file, a, 'tie on generation: newest writtenAt wins');
  await fs.writeFile(a, gen6);
  await fs.writeFile(b, later);
  t.equal(ok(await cache.read()).file, b);

  await fs.rm(a);
  r = ok(await cache.read());
  t.equal(r.file, b);
  t.match(r.warnings, [{ file: a, message: /is missing; using .*cache\.b\.json/ }]);
});

/** Write generation 5 to both copies, corrupt `victim` with `corrupt`, and check the other copy is used. */
async function expectOtherUsed(t: Test, cache: Cache, victim: 0 | 1, reason: RegExp): Promise<void> {
  const other = cache.files[victim === 0 ? 1 : 0];
  const r = ok(await cache.read());
  t.equal(r.file, other, `${path.basename(cache.files[victim])} bad: the other copy is used`);
  t.equal(r.entry.generation, 5);
  t.match(r.warnings, [{ file: cache.files[victim], message: reason }]);
  t.ok(r.warnings.every((w) => !/[\x00-\x1f]/.test(w.message)), 'warnings are one log line each');
}

t.test('a copy corrupted in any way is reported and the other used', async (t) => {
  const cache = open(path.join(t.testdir(), 'c'));
  await cache.write(sample(5));
  const good = await fs.readFile(cache.files[0]);
  const json = JSON.parse(good.toString('utf8'));
  const otherDir = path.join(path.dirname(cache.dir), 'other');
  await open(otherDir, OTHER_CLUSTER).write(sample(5));
  const foreign = await fs.readFile(path.join(otherDir, 'cache.a.json'));
  const withChecksum = (entry: unknown, format = 1) =>
    `${JSON.stringify({ format, checksum: `sha256:${createHash('sha256').update(canonicalJson({ format, entry })).digest('hex')}`, entry })}\n`;

  const cases: Array<[string, string | Buffer, RegExp]> = [
    ['empty', '', /empty file/],
    ['invalid JSON', 'this is not json\n', /not valid JSON/],
    ['wrong checksum', `${JSON.stringify({ ...json, entry: { ...json.entry, generation: 9 } })}\n`, /checksum mismatch/],
    ['checksum not sha256', `${JSON.stringify({ ...json, checksum: 'md5:abc' })}\n`, /checksum field/],
    ['wrong format version', `${JSON.stringify({ ...json, format: 2 })}\n`, /format version 2; this rackstrap reads version 1/],
    ['not an envelope', '{"hello":"world"}\n', /not a rackstrap cache file/],
    ['wrong cluster id', foreign, /belongs to cluster 00:07:34:04:12:0F, this filer is in cluster 00:07:34:04:12:0E/],
    ['checksummed but invalid content', withChecksum({ ...json.entry, generation: 0 }), /invalid content: .*generation/],
    ['checksummed, future format', withChecksum(json.entry, 2), /format version 2/],
    ['not UTF-8', Buffer.concat([good.subarray(0, 40), Buffer.from([0xc3, 0x28]), good.subarray(42)]), /not UTF-8/],
  ];
  for (const victim of [0, 1] as const) {
    for (const [name, bytes, reason] of cases) {
      await t.test(`${name} in ${path.basename(cache.files[victim])}`, async (t) => {
        await fs.writeFile(cache.files[victim], bytes);
        await expectOtherUsed(t, cache, victim, reason);
        await fs.writeFile(cache.files[victim], good);
      });
    }
  }
});

t.test('a copy truncated at any byte offset is detected', async (t) => {
  const cache = open(path.join(t.testdir(), 'c'));
  await cache.write(sample(5));
  const good = readFileSync(cache.files[0]);
  const [a, b] = cache.files;
  const missed: number[] = [];
  for (let cut = 0; cut < good.length; cut++) {
    overwrite(a, good.subarray(0, cut));
    const r = await cache.read();
    if (r.kind !== 'ok' || r.file !== b || r.entry.generation !== 5 || !r.warnings.some((w) => w.file === a)) missed.push(cut);
  }
  t.same(missed, [], `all ${good.length} truncations of cache.a.json rejected with a warning, cache.b.json used`);
  overwrite(a, good);
  overwrite(b, good.subarray(0, good.length >> 1));
  const r = ok(await cache.read());
  t.equal(r.file, a, 'and the other way round');
  t.match(r.warnings, [{ file: b, message: /torn/ }]);
  overwrite(b, good);
  t.same(ok(await cache.read()).warnings, [], 'restored copy is valid again');
});

t.test('a copy with any one byte changed is detected', async (t) => {
  const cache = open(path.join(t.testdir(), 'c'));
  await cache.write(sample(5));
  const good = readFileSync(cache.files[0]);
  // Exhaustive on the decoder (what read() runs on each copy's bytes): every single-bit flip
  // (0x20 swaps letter case, e.g. in the hex checksum) and all bits flipped, at every offset.
  const masks = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff];
  const missed: string[] = [];
  for (const mask of masks) {
    for (let off = 0; off < good.length; off++) {
      const bad = Buffer.from(good);
      bad[off] = bad[off]! ^ mask;
      if (decodeCacheFile(bad, { clusterId: CLUSTER }).ok) missed.push(`${off}^0x${mask.toString(16)}`);
    }
  }
  t.same(missed, [], `${masks.length} masks at each of ${good.length} offsets rejected by the decoder`);
  // Through read(), on a spread of offsets: the other copy is used and the bad one named.
  const notUsed: number[] = [];
  for (let off = 0; off < good.length; off += 7) {
    const bad = Buffer.from(good);
    bad[off] = bad[off]! ^ 0x20;
    overwrite(cache.files[0], bad);
    const r = await cache.read();
    if (r.kind !== 'ok' || r.file !== cache.files[1] || !r.warnings.some((w) => w.file === cache.files[0])) notUsed.push(off);
  }
  t.same(notUsed, [], 'read() falls back to cache.b.json for every 7th offset flipped');
});

t.test('both copies bad: CacheCorruptError naming both files and reasons', async (t) => {
  const cache = open(path.join(t.testdir(), 'c'));
  const [a, b] = cache.files;
  await cache.write(sample(5));
  const good = await fs.readFile(a);
  await fs.writeFile(a, good.subarray(0, 100));
  await fs.writeFile(b, `${JSON.stringify({ ...JSON.parse(good.toString()), format: 9 })}\n`);
  const err = await cache.read().catch((e: unknown) => e);
  t.type(err, CacheCorruptError);
  t.match(err, {
    code: 'RS_CACHE',
    rejected: [
      { file: a, reason: /torn: 100 bytes/ },
      { file: b, reason: /format version 9/ },
    ],
  });
  t.match((err as Error).message, a);
  t.match((err as Error).message, b);

  await fs.rm(b);
  t.match(await cache.read().catch((e: unknown) => e), { code: 'RS_CACHE', rejected: [{ file: a }, { file: b, reason: 'missing' }] }, 'one bad, one missing');

  await fs.writeFile(b, 'garbage\n', { mode: 0o600 });
  const w = await cache.write(sample(5));
  t.match(w.warnings, [{ file: a, message: /unusable .*rewritten/ }, { file: b, message: /unusable .*rewritten/ }], 'write repairs both');
  t.same(ok(await cache.read()).warnings, []);
});

t.test('a write repairs a bad copy', async (t) => {
  const cache = open(path.join(t.testdir(), 'c'));
  await cache.write(sample(5));
  await fs.writeFile(cache.files[1], '{"torn":');
  const w = await cache.write(sample(6));
  t.match(w.warnings, [{ file: cache.files[1], message: /torn.*rewritten/ }]);
  const r = ok(await cache.read());
  t.same(r.warnings, []);
  t.equal(r.entry.generation, 6);
  t.equal((await fs.readFile(cache.files[0], 'utf8')), await fs.readFile(cache.files[1], 'utf8'));
});

t.test('permissions: directory 0700 and files 0600 when created', async (t) => {
  const dir = path.join(t.testdir(), 'new', 'cache');
  const old = process.umask(0o000); // even with a permissive umask
  t.teardown(() => void process.umask(old));
  const cache = open(dir);
  await cache.write(sample(1));
  t.equal(await mode(dir), 0o700);
  for (const f of cache.files) t.equal(await mode(f), 0o600, path.basename(f));
});

t.test('permissions: a readable-by-others directory or copy is tightened, with a warning', async (t) => {
  const dir = t.testdir({ cache: {} });
  const cdir = path.join(dir, 'cache');
  await fs.chmod(cdir, 0o755);
  const cache = open(cdir);
  const w = await cache.write(sample(1));
  t.match(w.warnings, [{ file: cdir, message: /mode 0755 .*changed to 0700/ }]);
  t.equal(await mode(cdir), 0o700);

  await fs.chmod(cdir, 0o750);
  await fs.chmod(cache.files[0], 0o644);
  const r = ok(await cache.read());
  t.equal(r.file, cache.files[0], 'still used: nobody else could have changed it');
  t.match(r.warnings, [{ file: cdir, message: /0750/ }, { file: cache.files[0], message: /mode 0644 .*changed to 0600/ }]);
  t.equal(await mode(cdir), 0o700);
  t.equal(await mode(cache.files[0]), 0o600);
});

t.test('permissions: a directory others can write is refused, and left as it is', async (t) => {
  const root = t.testdir({ cache: {}, f: 'x' });
  const cdir = path.join(root, 'cache');
  for (const m of [0o770, 0o707, 0o777]) {
    await fs.chmod(cdir, m);
    const cache = open(cdir);
    const rerr = await cache.read().catch((e: unknown) => e);
    t.type(rerr, CacheInsecureError);
    t.match(rerr, { code: 'RS_CACHE_PERM', message: new RegExp(`mode 0${m.toString(8)}: others can write it`) });
    await t.rejects(cache.write(sample(1)), { code: 'RS_CACHE_PERM' });
    t.equal(await mode(cdir), m, 'not silently fixed');
    t.same(await fs.readdir(cdir), [], 'nothing written');
  }
  const file = path.join(root, 'f');
  await t.rejects(open(file).read(), { code: 'RS_CACHE_PERM', message: /not a directory/ });
});

t.test('permissions: a copy others could have written is not trusted', async (t) => {
  const cache = open(path.join(t.testdir(), 'c'));
  await cache.write(sample(5));
  await fs.chmod(cache.files[0], 0o664);
  await expectOtherUsed(t, cache, 0, /insecure: mode 0664 lets others write it/);
  await fs.chmod(cache.files[0], 0o600);

  await fs.rm(cache.files[1]);
  await fs.symlink(cache.files[0], cache.files[1]);
  const r = ok(await cache.read());
  t.equal(r.file, cache.files[0]);
  t.match(r.warnings, [{ file: cache.files[1], message: /symbolic link/ }]);

  await cache.write(sample(5));
  const st = await fs.lstat(cache.files[1]);
  t.ok(st.isFile(), 'the write replaced the link with a file');
  t.equal(st.mode & 0o777, 0o600);
});

t.test('permissions: another user\'s directory or copy is not trusted', { skip: process.getuid?.() !== 0 && 'needs root to chown' }, async (t) => {
  const cdir = path.join(t.testdir(), 'c');
  const cache = open(cdir);
  await cache.write(sample(5));
  await fs.chown(cache.files[1], 65534, 65534);
  await expectOtherUsed(t, cache, 1, /insecure: owned by uid 65534/);
  await cache.write(sample(5));
  t.equal((await fs.stat(cache.files[1])).uid, 0, 'replaced by our own file');

  await fs.chown(cdir, 65534, 65534);
  await t.rejects(cache.read(), { code: 'RS_CACHE_PERM', message: /owned by uid 65534/ });
  await t.rejects(cache.write(sample(5)), { code: 'RS_CACHE_PERM' });
  await fs.chown(cdir, 0, 0);
});

t.test('stale temp files of dead writers are removed; a live writer\'s are kept', async (t) => {
  const cache = open(path.join(t.testdir(), 'c'));
  await cache.write(sample(5));
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const live = process.ppid; // tap's runner: alive for the whole test
  const name = (file: string, pid: number) => path.join(cache.dir, `.${file}.${pid}.0123456789ab.tmp`);
  const stale = [name('cache.a.json', dead), name('cache.b.json', dead), name('cache.a.json', process.pid)];
  const kept = [name('cache.b.json', live), path.join(cache.dir, 'unrelated.tmp')];
  for (const p of [...stale, ...kept]) await fs.writeFile(p, '{"torn', { mode: 0o600 });

  const r = ok(await cache.read());
  t.same(r.warnings.map((w) => w.file).sort(), [...stale].sort());
  t.match(r.warnings, [{ message: /left by an interrupted cache write/ }]);
  t.same((await fs.readdir(cache.dir)).sort(), ['.cache.b.json.' + live + '.0123456789ab.tmp', 'cache.a.json', 'cache.b.json', 'unrelated.tmp']);

  await fs.writeFile(stale[0]!, 'x', { mode: 0o600 });
  const w = await cache.write(sample(5));
  t.match(w.warnings, [{ file: stale[0] }], 'write sweeps too');
  t.notOk((await fs.readdir(cache.dir)).includes(path.basename(stale[0]!)));
});

t.test('fingerprints are stable, key-dependent and in the cached form', async (t) => {
  const f = fingerprintKey(Buffer.from('k1'));
  t.match(f, /^sha256:[0-9a-f]{64}$/);
  t.equal(fingerprintKey(Buffer.from('k1')), f);
  t.not(fingerprintKey(Buffer.from('k2')), f);
  t.not(f, `sha256:${createHash('sha256').update('k1').digest('hex')}`, 'not a bare hash of the key');
});
