// The lease log and store: checksummed lines, replay (torn and damaged lines skipped), group
// commit, compaction, the one-server lock, and a disk that refuses writes. Real files in a tap
// test folder.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';
import t from 'tap';
import { toNumber } from '../../src/dhcp-server/address.js';
import { crc32, formatLine, parseLine, type LeaseRecord } from '../../src/dhcp-server/lease-line.js';
import { LeaseLogError, readLeaseLog } from '../../src/dhcp-server/lease-log.js';
import type { LeaseOp } from '../../src/dhcp-server/lease-table.js';
import { LeaseStore } from '../../src/dhcp-server/leases.js';

const NOW = Date.UTC(2026, 0, 1);
const bind = (last: number, client: string, expires = NOW + 3600_000): LeaseOp => ({
  op: 'bind', address: toNumber(`10.0.0.${last}`), client, expires, label: client, hw: '52:54:00:00:00:01',
});

const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter(Boolean);

t.test('a line is `<crc32> <json>` and reads back; any damage is caught', async (t) => {
  t.equal(crc32('123456789'), 0xcbf43926, 'CRC-32/IEEE check value');
  // zlib has crc32 from Node 20.15: the same function over the UTF-8 bytes.
  const zcrc = (zlib as { crc32?: (b: Buffer) => number }).crc32;
  if (zcrc) t.equal(crc32('é: Filer'), zcrc(Buffer.from('é: Filer', 'utf8')), 'non-ASCII text: CRC of its UTF-8 bytes');
  const records: LeaseRecord[] = [
    { op: 'header', format: 'rackstrap-leases/1', at: NOW },
    { op: 'bind', address: '10.0.0.1', client: 'id:00:07:34:04:12:0E:mgmt0:Filer1', label: 'x "quoted" \\ é', hw: '52:54:00:00:00:01', expires: NOW + 1, at: NOW },
    { op: 'release', address: '10.0.0.1', client: 'id:a', at: NOW },
    { op: 'decline', address: '10.0.0.2', client: 'id:b', until: NOW + 5, at: NOW },
  ];
  for (const r of records) {
    const line = formatLine(r);
    t.match(line, /^[0-9a-f]{8} \{.*\}\n$/);
    t.same(parseLine(line.slice(0, -1)), { ok: true, record: r }, `${r.op} round-trips`);
  }
  const good = formatLine(records[1]!).slice(0, -1);
  t.same(parseLine(good.replace('10.0.0.1', '10.0.0.7')), { ok: false, reason: 'checksum mismatch' });
  t.same(parseLine(good.slice(0, 40)), { ok: false, reason: 'not `<crc32> <json>`' }, 'torn line');
  const json = '{"op":"bind","address":"10.0.0.1"}';
  t.match(parseLine(`${crc32(json).toString(16).padStart(8, '0')} ${json}`), { ok: false, reason: /missing fields/ }, 'checksum right, fields missing');
  const badAddr = '{"op":"release","address":"10.0.0.300","client":"a","at":1}';
  t.equal(parseLine(`${crc32(badAddr).toString(16).padStart(8, '0')} ${badAddr}`).ok, false);
});

t.test('commit → on disk before the callback; reopen replays binds, releases, declines and expiry', async (t) => {
  const file = join(t.testdir(), 'leases.log');
  let { store } = await LeaseStore.open(file, { clock: () => NOW });
  await new Promise<void>((resolve, reject) => {
    store.commit([bind(1, 'a'), bind(2, 'b'), bind(3, 'c', NOW + 10_000)], NOW, (err) => {
      if (err) return reject(err);
      // The callback is where the server sends its ACK: the records must already be in the file.
      const text = readFileSync(file, 'utf8');
      t.ok(text.includes('"client":"a"') && text.includes('"client":"c"'), 'records are in the file when the callback runs');
      resolve();
    });
  });
  t.equal(store.commit([{ op: 'offer', address: toNumber('10.0.0.9'), client: 'z', until: NOW + 60_000, label: 'z', hw: '' }], NOW), false, 'an offer is not written');
  await store.commitAsync([{ op: 'release', address: toNumber('10.0.0.2'), client: 'b' }, { op: 'decline', address: toNumber('10.0.0.4'), client: 'd', until: NOW + 600_000 }], NOW);
  await store.close();
  t.notOk(existsSync(`${file}.lock`), 'lock released at close');

  ({ store } = await LeaseStore.open(file, { clock: () => NOW + 20_000 }));
  const tab = store.table;
  t.equal(tab.at(toNumber('10.0.0.1'))?.client, 'a', 'bound lease replayed');
  t.equal(tab.at(toNumber('10.0.0.2')), undefined, 'released lease gone');
  t.equal(tab.at(toNumber('10.0.0.3')), undefined, 'expired lease dropped');
  t.equal(tab.at(toNumber('10.0.0.9')), undefined, 'offers do not survive a restart');
  t.equal(tab.quarantinedUntil(toNumber('10.0.0.4'), NOW + 20_000), NOW + 600_000, 'quarantine survives');
  t.same(tab.size, { leases: 1, offers: 0, quarantined: 1 });
  const l = lines(file);
  t.equal(l.length, 6, 'reopened as it was (3 dead records are not more than 3 live ones): header, 3 binds, release, decline');
  t.match(l[0], /"op":"header","format":"rackstrap-leases\/1"/);
  await store.close();
});

t.test('a torn last line (kill -9 mid-write) and a damaged line are skipped, and cut from the file', async (t) => {
  const file = join(t.testdir(), 'leases.log');
  let { store } = await LeaseStore.open(file, { clock: () => NOW });
  await store.commitAsync([bind(1, 'a'), bind(2, 'b'), bind(3, 'c')], NOW);
  await store.close();
  const text = readFileSync(file, 'utf8').split('\n');
  text[2] = text[2]!.replace('"client":"b"', '"client":"B"'); // a flipped byte in the middle
  writeFileSync(file, text.join('\n'));
  appendFileSync(file, formatLine({ op: 'bind', address: '10.0.0.4', client: 'd', label: 'd', hw: '', expires: NOW + 3600_000, at: NOW }).slice(0, 50));

  const replay = await readLeaseLog(file);
  t.equal(replay.tornTail, true);
  t.same(replay.skipped.map((s) => s.reason), ['checksum mismatch', 'torn last line (no newline): the write was cut short']);
  const opened = await LeaseStore.open(file, { clock: () => NOW });
  store = opened.store;
  t.equal(opened.replay.skipped.length, 2);
  t.equal(store.table.at(toNumber('10.0.0.1'))?.client, 'a');
  t.equal(store.table.at(toNumber('10.0.0.2')), undefined, 'the damaged record is not trusted');
  t.equal(store.table.at(toNumber('10.0.0.4')), undefined, 'the torn record was never acknowledged');
  await store.commitAsync([bind(5, 'e')], NOW);
  await store.close();
  const after = await readLeaseLog(file);
  t.same(after.skipped, [], 'appends after a repair start on a clean line');
  t.same(after.records.filter((r) => r.op === 'bind').map((r) => (r as { client: string }).client).sort(), ['a', 'c', 'e']);
});

/** The file's identity and last change: a rewrite (new inode by rename) or an append shows here. */
const fileState = (file: string): { ino: number; mtimeNs: bigint; size: number } => {
  const st = statSync(file, { bigint: true });
  return { ino: Number(st.ino), mtimeNs: st.mtimeNs, size: Number(st.size) };
};

t.test('start-up keeps a large clean log as it is; it compacts one that is mostly dead records', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'leases.log');
  // 20,000 live leases (about 4 MB), written as a server would: header, then binds.
  const records: LeaseRecord[] = [{ op: 'header', format: 'rackstrap-leases/1', at: NOW }];
  const address = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  for (let i = 0; i < 20_000; i++) records.push({ op: 'bind', address: address(i + 256), client: `c${i}`, label: `c${i}`, hw: '52:54:00:00:00:01', expires: NOW + 3600_000, at: NOW });
  writeFileSync(file, records.map(formatLine).join(''));
  const before = fileState(file);
  // Old enough that a rewrite within the same clock tick could not hide behind an equal mtime.
  utimesSync(file, new Date(NOW), new Date(NOW));
  const aged = fileState(file);
  t.not(aged.mtimeNs, before.mtimeNs);
  const { store } = await LeaseStore.open(file, { clock: () => NOW });
  t.equal(store.table.size.leases, 20_000, 'every lease replayed');
  t.same(fileState(file), aged, 'not rewritten: same inode, same mtime, same size');
  t.equal(store.log.startAction, 'keep');
  await store.commitAsync([bind(1, 'new')], NOW);
  await store.close();
  const after = fileState(file);
  t.equal(after.ino, aged.ino, 'appended in place');
  const replay = await readLeaseLog(file);
  t.same(replay.skipped, []);
  t.equal(replay.records.length, 20_002, 'the append follows the old lines');

  // The same leases renewed twice more each: 40,000 dead records against 20,001 live ones.
  const renewals: string[] = [];
  for (let round = 1; round <= 2; round++) {
    for (let i = 0; i < 20_000; i++) renewals.push(formatLine({ op: 'bind', address: address(i + 256), client: `c${i}`, label: `c${i}`, hw: '52:54:00:00:00:01', expires: NOW + 3600_000 + round, at: NOW }));
  }
  appendFileSync(file, renewals.join(''));
  const due = fileState(file);
  const reopened = await LeaseStore.open(file, { clock: () => NOW });
  t.equal(reopened.store.log.startAction, 'compact');
  const compacted = fileState(file);
  t.not(compacted.ino, due.ino, 'compacted into a new file renamed over the old one');
  t.ok(compacted.size < due.size / 2, `${due.size} → ${compacted.size} bytes`);
  t.equal(reopened.store.table.at(toNumber(address(300)))?.expires, NOW + 3600_000 + 2, 'the latest renewal kept');
  t.equal(reopened.store.table.size.leases, 20_001);
  await reopened.store.close();
  t.same(readdirSync(dir).sort(), ['leases.log'], 'no temporary file or lock left');
  t.equal((await readLeaseLog(file)).records.length, 20_002, 'header and one line per live lease');
});

t.test('a torn last line alone is cut off in place; a damaged line inside makes start-up compact', async (t) => {
  const file = join(t.testdir(), 'leases.log');
  let { store } = await LeaseStore.open(file, { clock: () => NOW });
  await store.commitAsync([bind(1, 'a'), bind(2, 'b')], NOW);
  await store.close();
  const whole = readFileSync(file, 'utf8');
  appendFileSync(file, formatLine({ op: 'bind', address: '10.0.0.3', client: 'c', label: 'c', hw: '', expires: NOW + 3600_000, at: NOW }).slice(0, 30));
  const torn = fileState(file);
  ({ store } = await LeaseStore.open(file, { clock: () => NOW }));
  t.equal(store.log.startAction, 'cut-torn-tail');
  t.equal(fileState(file).ino, torn.ino, 'same file');
  t.equal(readFileSync(file, 'utf8'), whole, 'exactly the torn piece is gone');
  await store.commitAsync([bind(4, 'd')], NOW);
  await store.close();
  t.same((await readLeaseLog(file)).skipped, [], 'the next append starts on a clean line');

  const text = readFileSync(file, 'utf8').split('\n');
  text[1] = text[1]!.replace('"client":"a"', '"client":"A"');
  writeFileSync(file, text.join('\n'));
  const damaged = fileState(file);
  ({ store } = await LeaseStore.open(file, { clock: () => NOW }));
  t.equal(store.log.startAction, 'compact', 'a damaged line would be skipped at every start: rewritten once');
  t.not(fileState(file).ino, damaged.ino);
  await store.close();
  t.same((await readLeaseLog(file)).skipped, []);
});

t.test('group commit: a burst of commits shares a few writes, in order', async (t) => {
  const file = join(t.testdir(), 'leases.log');
  const { store } = await LeaseStore.open(file, { clock: () => NOW });
  const done: number[] = [];
  await Promise.all(
    Array.from({ length: 300 }, (_, i) => new Promise<void>((resolve, reject) => {
      store.commit([bind(1 + (i % 250), `c${i}`)], NOW, (err) => (err ? reject(err) : (done.push(i), resolve())));
    })),
  );
  t.equal(done.length, 300, 'every callback ran');
  t.same(done, [...done].sort((a, b) => a - b), 'callbacks in commit order');
  t.ok(store.log.stats.writes >= 2 && store.log.stats.writes <= 3, `300 commits took ${store.log.stats.writes} durable writes (at most 256 per write)`);
  t.equal(store.log.stats.records, 300);
  const clients = lines(file).slice(1).map((l) => (parseLine(l) as { record: { client: string } }).record.client);
  t.same(clients, Array.from({ length: 300 }, (_, i) => `c${i}`), 'lines in commit order');
  await store.close();
});

t.test('compaction keeps the log to the live state without losing a commit', async (t) => {
  const file = join(t.testdir(), 'leases.log');
  const { store } = await LeaseStore.open(file, { clock: () => NOW, compactAfter: 50, compactFactor: 2 });
  // 20 clients renewing over and over: 400 records for 20 leases.
  for (let round = 0; round < 20; round++) {
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.commitAsync([bind(1 + i, `c${i}`, NOW + 3600_000 + round)], NOW)));
  }
  t.ok(store.log.stats.compactions >= 2, `${store.log.stats.compactions} compactions`);
  t.ok(lines(file).length < 120, `${lines(file).length} lines on disk for 20 leases`);
  await store.close();
  const reopened = await LeaseStore.open(file, { clock: () => NOW });
  t.equal(reopened.store.table.size.leases, 20);
  t.equal(reopened.store.table.at(toNumber('10.0.0.5'))?.expires, NOW + 3600_000 + 19, 'the latest renewal of each lease');
  t.notOk(readFileSync(file, 'utf8').includes('compact-'), 'no temp file named in the log');
  await reopened.store.close();
});

t.test('one server per lease log: a live holder refuses a second, a dead one is taken over', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'leases.log');
  const { store } = await LeaseStore.open(file, { clock: () => NOW });
  await t.rejects(LeaseStore.open(file, { clock: () => NOW }), { code: 'RS_LEASE_LOCKED', message: new RegExp(`in use by process ${process.pid}`) });
  await store.close();
  // A lock left by kill -9: its pid no longer runs.
  const dead = execFileSync('sh', ['-c', 'echo $$']).toString().trim();
  writeFileSync(`${file}.lock`, `${dead}\n`);
  const again = await LeaseStore.open(file, { clock: () => NOW });
  t.equal(readFileSync(`${file}.lock`, 'utf8').split(' ')[0], String(process.pid), 'stale lock taken over');
  await again.store.close();
});

/** Field 22 of /proc/PID/stat, read here independently of the code under test. */
const startTime = (pid: number): string => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
};
const thisBoot = (): string => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

t.test('a lock whose pid now belongs to another live process is stale; a live server still blocks', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'leases.log');
  // An unrelated live process (what a reused pid looks like after a reboot).
  const other = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.teardown(() => {
    other.kill('SIGKILL');
  });
  const pid = other.pid!;
  const cases: Array<[string, string]> = [
    ['a lock of an older version (pid only) naming a live program that is no rackstrap server', `${pid}\n`],
    ['the pid runs, but started at another time than the lock says', `${pid} ${Number(startTime(pid)) + 1} ${thisBoot()}\n`],
    ['the pid and start time match, but the lock was written in another boot', `${pid} ${startTime(pid)} 00000000-0000-4000-8000-000000000000\n`],
    ['this very pid, written in another boot (a server restarted after a reboot gets its old pid)', `${process.pid} ${startTime(process.pid)} 00000000-0000-4000-8000-000000000000\n`],
  ];
  for (const [what, text] of cases) {
    writeFileSync(`${file}.lock`, text);
    const opened = await LeaseStore.open(file, { clock: () => NOW }).then((o) => o, (e: unknown) => e);
    if (!t.notOk(opened instanceof Error, `${what}: start-up not blocked`)) {
      t.comment(String(opened));
      continue;
    }
    const lock = readFileSync(`${file}.lock`, 'utf8');
    t.equal(lock, `${process.pid} ${startTime(process.pid)} ${thisBoot()}\n`, `${what}: the lock now names this process, its start time and this boot`);
    await (opened as { store: LeaseStore }).store.close();
    t.notOk(existsSync(`${file}.lock`), 'released at close');
  }

  // A live server in another process: its lock blocks, and the message names its pid.
  const holderScript = `
    const { LeaseStore } = await import(${JSON.stringify(new URL('../../src/dhcp-server/leases.js', import.meta.url).href)});
    const { store } = await LeaseStore.open(${JSON.stringify(file)});
    process.stdout.write('locked\\n');
    process.stdin.on('data', async () => { await store.close(); process.exit(0); });
  `;
  const holder = spawn(process.execPath, ['--input-type=module', '-e', holderScript], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => {
    holder.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    holder.stdout.once('data', () => resolve());
    holder.once('exit', (code) => reject(new Error(`the lock holder exited (${code})`)));
  });
  await t.rejects(LeaseStore.open(file, { clock: () => NOW }), { code: 'RS_LEASE_LOCKED', message: new RegExp(`in use by process ${holder.pid}\\b.*rackstrap serve`) }, 'a live server blocks, naming its pid');
  holder.stdin.write('\n');
  await new Promise((resolve) => holder.once('exit', resolve));
  t.notOk(existsSync(`${file}.lock`), 'the holder removed its lock when it stopped');
  const after = await LeaseStore.open(file, { clock: () => NOW });
  await after.store.close();
});

t.test('a disk that refuses the write: the commit fails (no ACK), and the log recovers', async (t) => {
  const file = join(t.testdir(), 'leases.log');
  const { store } = await LeaseStore.open(file, { clock: () => NOW });
  await store.commitAsync([bind(1, 'a')], NOW);
  // An immutable file refuses writes through descriptors already open (ext4 here).
  execFileSync('chattr', ['+i', file]);
  // Undone below; this is for a failure in between (tap removes the test folder afterwards).
  t.teardown(() => {
    spawnSync('chattr', ['-i', file]);
  });
  const err = await store.commitAsync([bind(2, 'b')], NOW).then(() => undefined, (e: unknown) => e);
  t.type(err, LeaseLogError);
  t.equal((err as LeaseLogError).code, 'RS_LEASE_LOG');
  execFileSync('chattr', ['-i', file]);
  await store.commitAsync([bind(3, 'c')], NOW);
  await store.close();
  const replay = await readLeaseLog(file);
  t.same(replay.skipped, []);
  t.same(replay.records.filter((r) => r.op === 'bind').map((r) => (r as { client: string }).client), ['a', 'c'], 'the refused record is not there; the next one is');
});
