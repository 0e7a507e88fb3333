// Crash safety of the cache, for real: a child process writes the cache in a loop with
// increasing generations and is SIGKILLed at random moments. SIGKILL stops the writer between any
// two system calls; it does not lose the page cache, so this proves the rename protocol, not the
// fsyncs (those only matter on power loss, which a test on one kernel cannot produce).
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openCache, type Cache, type CacheReadResult } from '../../src/cache/open-cache.js';

const CLUSTER = '00:07:34:04:12:0E';
const ROUNDS = 30;

// The writer: argv = [module URL, dir, first generation]; prints each generation once written.
// stdout to a pipe is synchronous on Linux, so a printed line was completed before any kill.
const WRITER = `
const [url, dir, first] = process.argv.slice(1);
const { openCache } = await import(url);
const cache = openCache(dir, { clusterId: '${CLUSTER}' });
const lease = (i) => ({ kind: 'vserver', alias: 'data0', address: '10.2.' + (i >> 8) + '.' + (i & 255), prefixLength: 16,
  routers: ['10.2.0.254'], serverId: '10.1.1.1', leaseStart: '2025-01-01T00:00:00.000Z', leaseExpiry: '2025-01-02T00:00:00.000Z',
  vserver: 'Vsvr' + i, instance: 0, table: 1 + i, gateway: '10.2.0.254' });
for (let g = Number(first); ; g++) {
  const leases = {};
  for (let i = 0; i < 20; i++) leases['${CLUSTER}:data0:Vsvr' + i + ':0'] = lease(i);
  await cache.write({
    generation: g,
    topology: { filer: 'Filer1', generation: g, stack: { vlans: ['bond0.10'], bonds: { bond0: { mode: '802.3ad', members: ['eth0', 'eth1'] } }, aliases: { data0: 'bond0.10' } } },
    leases,
    keyFingerprint: null,
  });
  process.stdout.write(g + '\\n');
}
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A read that must give a cache; anything else (empty, an error) is returned as a message. */
async function readValid(cache: Cache): Promise<(CacheReadResult & { kind: 'ok' }) | string> {
  try {
    const r = await cache.read();
    return r.kind === 'ok' ? r : 'empty';
  } catch (e) {
    return (e as Error).message;
  }
}

t.test('a writer killed at random moments always leaves a valid cache, never older than its last completed write', async (t) => {
  const dir = path.join(t.testdir(), 'cache');
  const url = pathToFileURL(path.resolve('dist/src/cache/open-cache.js')).href;
  const cache = openCache(dir, { clusterId: CLUSTER });
  let child: ChildProcess | undefined;
  t.teardown(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  let completed = 0; // the last generation the writer reported before being killed
  const stats = { tempFilesLeft: 0, copiesDiffered: 0, inFlightWriteVisible: 0, readsDuringWrites: 0 };
  const problems: string[] = [];

  for (let round = 0; round < ROUNDS; round++) {
    let reported = completed;
    let buffered = '';
    const proc = spawn(process.execPath, ['--input-type=module', '-e', WRITER, url, dir, String(completed + 1)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child = proc;
    const closed = new Promise<void>((resolve) => proc.on('close', () => resolve()));
    const firstLine = new Promise<void>((resolve) => {
      proc.stdout!.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const l of lines) reported = Math.max(reported, Number(l));
        if (reported > completed) resolve();
      });
      void closed.then(() => resolve());
    });
    await firstLine;

    // Read while it writes, for a random 0-15 ms, then kill: reads must never fail or go back.
    const until = performance.now() + Math.random() * 15;
    let seen = 0;
    while (performance.now() < until) {
      const r = await readValid(cache);
      stats.readsDuringWrites++;
      if (typeof r === 'string') {
        problems.push(`round ${round}: read during writes gave ${r}`);
        break;
      }
      if (r.entry.generation < seen) problems.push(`round ${round}: read went back from ${seen} to ${r.entry.generation}`);
      seen = r.entry.generation;
    }
    proc.kill('SIGKILL');
    await closed;
    t.equal(proc.signalCode, 'SIGKILL', `round ${round}: killed, not exited`);
    completed = reported;

    const names = await fs.readdir(dir);
    if (names.some((n) => n.endsWith('.tmp'))) stats.tempFilesLeft++;
    const r = await readValid(cache);
    if (typeof r === 'string') {
      problems.push(`round ${round}: after the kill, read gave ${r}`);
      continue;
    }
    const gen = r.entry.generation;
    if (gen < completed) problems.push(`round ${round}: cache holds generation ${gen}, writer had completed ${completed}`);
    if (gen > completed + 1) problems.push(`round ${round}: cache holds generation ${gen}, beyond the write in flight (${completed + 1})`);
    if (gen === completed + 1) stats.inFlightWriteVisible++;
    if (r.warnings.some((w) => /older than/.test(w.message))) stats.copiesDiffered++;
    if (r.warnings.some((w) => !/older than|interrupted cache write/.test(w.message))) {
      problems.push(`round ${round}: unexpected warnings ${JSON.stringify(r.warnings)}`);
    }
    completed = Math.max(completed, gen); // the next writer starts above what is on disk
    const after = await fs.readdir(dir);
    if (after.some((n) => n.endsWith('.tmp'))) problems.push(`round ${round}: temp files survived the read: ${after.join(' ')}`);
  }

  t.same(problems, [], `${ROUNDS} kills: the cache was always valid and never went back`);
  t.ok(stats.tempFilesLeft > 0, `kills landed mid-write: ${stats.tempFilesLeft}/${ROUNDS} left a temp file, all removed by the next read`);
  t.comment(`stats: ${JSON.stringify(stats)}, last generation ${completed}`);
  t.same((await fs.readdir(dir)).sort(), ['cache.a.json', 'cache.b.json']);
  const modes = await Promise.all(cache.files.map(async (f) => (await fs.stat(f)).mode & 0o777));
  t.same(modes, [0o600, 0o600]);
});
