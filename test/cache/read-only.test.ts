// Commands that change nothing read the cache read-only: no mode is tightened (not through a
// symlinked folder either), no leftover temporary file is removed, nothing is written, and the
// permission check reports what the agent will do instead. A cache copy is read only up to its
// cap: a 1 GiB copy is refused from its size, unread (it was once read whole: 1.1 GB RSS).
import t from 'tap';
import { closeSync, ftruncateSync, openSync, promises as fs, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openCache } from '../../src/cache/open-cache.js';
import { MAX_CACHE_COPY_BYTES } from '../../src/cache/check-permissions.js';
import { CacheCorruptError } from '../../src/errors.js';
import { main } from '../../src/cli/main.js';

const CLUSTER = '02:00:00:00:AA:00';
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

const update = {
  generation: 1,
  topology: { filer: 'Filer1', generation: 1, stack: { bonds: {}, failovers: {}, vlans: [], aliases: { mgmt0: 'eth0' }, mtu: {} }, vservers: [], mysql: [] },
  leases: {},
  keyFingerprint: null,
};

t.test('read-only: modes left as they are (also through a symlinked folder), temp files kept, a warning instead', async (t) => {
  const root = t.testdir();
  const real = path.join(root, 'real-cache');
  await openCache(real, { clusterId: CLUSTER }).write(update);
  await fs.chmod(real, 0o755);
  await fs.chmod(path.join(real, 'cache.a.json'), 0o644);
  const temp = path.join(real, '.cache.a.json.1234.abcdef.tmp');
  writeFileSync(temp, 'left by a crash', { mode: 0o600 });
  const link = path.join(root, 'cache');
  symlinkSync(real, link);

  for (const dir of [link, real]) {
    const r = await openCache(dir, { clusterId: CLUSTER, readOnly: true }).read();
    t.equal(r.kind, 'ok', `${dir}: the cache is read`);
    t.equal(mode(real), '755', `${dir}: the folder keeps 0755`);
    t.equal(mode(path.join(real, 'cache.a.json')), '644', `${dir}: the copy keeps 0644`);
    t.ok(statSync(temp).isFile(), `${dir}: the leftover temporary file is kept`);
    t.match(r.warnings.map((w) => w.message), [/has mode 0755 \(readable by others\); the agent will change it to 0700 \(left as it is here: this command changes nothing\)/, /cache\.a\.json has mode 0644 .*the agent will change it to 0600/]);
  }
  await t.rejects(openCache(real, { clusterId: CLUSTER, readOnly: true }).write(update), /opened read-only/);
  // The agent's own read still tightens (and says so).
  const agent = await openCache(real, { clusterId: CLUSTER }).read();
  t.match(agent.warnings.map((w) => w.message), [/had mode 0755 \(readable by others\); changed to 0700/, /removed .*\.tmp/, /had mode 0644 .*changed to 0600/]);
  t.equal(mode(real), '700');
});

t.test('rackstrap plan from a cache others can read: prints the warning, changes no mode', async (t) => {
  const dir = path.join(t.testdir(), 'cache');
  await openCache(dir, { clusterId: CLUSTER }).write(update);
  await fs.chmod(dir, 0o755);
  await fs.chmod(path.join(dir, 'cache.b.json'), 0o644);
  const out: string[] = [];
  const err: string[] = [];
  // plan observes the host (ip -j ... show: read-only) and prints the batch; nothing is applied.
  await main(['plan', '--cluster-id', CLUSTER, '--cache-dir', dir, '--base-mac', '02:00:00:00:AA:01', '--nic', 'eth0=lo'], { out: (s) => out.push(s), err: (s) => err.push(s) });
  t.equal(mode(dir), '755', 'plan left the folder as it was');
  t.equal(mode(path.join(dir, 'cache.b.json')), '644', 'plan left the copy as it was');
  t.match(out.join(''), /# cache: cache directory .* has mode 0755 \(readable by others\); the agent will change it to 0700/, `stdout: ${out.join('')}\nstderr: ${err.join('')}`);
});

t.test('a 1 GiB cache copy: refused from its size, memory bounded', async (t) => {
  const dir = t.testdir();
  await openCache(dir, { clusterId: CLUSTER }).write(update);
  for (const name of ['cache.a.json', 'cache.b.json']) {
    const fd = openSync(path.join(dir, name), 'r+');
    ftruncateSync(fd, 2 ** 30); // sparse: no disk used
    closeSync(fd);
  }
  const before = process.resourceUsage().maxRSS;
  let err: unknown;
  try {
    await openCache(dir, { clusterId: CLUSTER, readOnly: true }).read();
  } catch (e) {
    err = e;
  }
  const grewMb = (process.resourceUsage().maxRSS - before) / 1024;
  t.ok(err instanceof CacheCorruptError, 'neither copy usable');
  t.match((err as Error).message, new RegExp(`cache\\.a\\.json: the file is 1 GiB; a cache copy is at most ${MAX_CACHE_COPY_BYTES / 2 ** 20} MiB \\(not read\\)`));
  t.ok(grewMb < 64, `peak RSS grew ${grewMb.toFixed(0)} MB reading two 1 GiB copies`);
});
