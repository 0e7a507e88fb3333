// The one key-file reader: the key is the file's bytes, 16 to 64 of them; anything else is refused
// from its fstat, before reading (a device, a FIFO, a file too large), and no read ever takes more
// than 65 bytes. The bound is asserted on the bytes read, not on time.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, symlinkSync, writeFileSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_FILE_MAX_BYTES, keyId, readKeyFile } from '../../src/cluster-key/key-file.js';
import { readStats } from '../../src/input/read-limited.js';
import { keyFingerprint } from '../../src/options/wire/index.js';

/** Runs `fn` and returns how many bytes readLimited read meanwhile. */
async function bytesReadBy(fn: () => Promise<unknown>): Promise<number> {
  const before = readStats.bytes;
  await fn().catch(() => undefined);
  return readStats.bytes - before;
}

t.test('the key is the file, byte for byte, 16 to 64 bytes', async (t) => {
  const dir = t.testdir({
    'k16': 'a'.repeat(16),
    'k64': 'b'.repeat(KEY_FILE_MAX_BYTES),
    'newline': `${'c'.repeat(32)}\n`,
  });
  t.equal((await readKeyFile(join(dir, 'k16'))).toString(), 'a'.repeat(16));
  t.equal((await readKeyFile(join(dir, 'k64'))).length, 64);
  t.equal((await readKeyFile(join(dir, 'newline'))).toString(), `${'c'.repeat(32)}\n`, 'a trailing newline is part of the key (no trimming)');
});

t.test('wrong sizes: refused with the size rule and how to make a key', async (t) => {
  const dir = t.testdir({ 'short': 'x'.repeat(15), 'long': 'y'.repeat(65), 'empty': '' });
  await t.rejects(readKeyFile(join(dir, 'short')), { code: 'RS_KEY', message: `${join(dir, 'short')}: cannot read the cluster key: the file is 15 bytes; a key file holds 16 to 64 bytes (make one with: head -c 32 /dev/urandom > FILE; chmod 600 FILE)` });
  await t.rejects(readKeyFile(join(dir, 'long')), { code: 'RS_KEY', message: /the file is 65 bytes; a key file holds 16 to 64 bytes/ });
  await t.rejects(readKeyFile(join(dir, 'empty')), { message: /the file is 0 bytes/ });
  await t.rejects(readKeyFile(join(dir, 'missing'), { namedBy: 'cluster.keyFile' }), { message: `${join(dir, 'missing')}: cannot read the cluster key (cluster.keyFile): no such file` });
  await t.rejects(readKeyFile(dir), { message: /is a directory/ });
});

t.test('a 1 GiB key file is refused from its size: nothing is read', async (t) => {
  const file = join(t.testdir(), 'huge.key');
  const fd = openSync(file, 'w');
  ftruncateSync(fd, 2 ** 30); // sparse: no disk used
  closeSync(fd);
  let err: unknown;
  const read = await bytesReadBy(() => readKeyFile(file).catch((e) => { err = e; throw e; }));
  t.match(err, { code: 'RS_KEY', message: /the file is 1 GiB; a key file holds 16 to 64 bytes/ });
  t.equal(read, 0, 'not one byte read');
});

t.test('/dev/zero, directly or through a symlink: refused without reading', async (t) => {
  const dir = t.testdir();
  symlinkSync('/dev/zero', join(dir, 'cluster.key'));
  for (const file of ['/dev/zero', join(dir, 'cluster.key')]) {
    let err: unknown;
    const read = await bytesReadBy(() => readKeyFile(file).catch((e) => { err = e; throw e; }));
    t.match(err, { code: 'RS_KEY', message: `${file}: cannot read the cluster key: is a character device, not a regular file; refused without reading it` });
    t.equal(read, 0, `${file}: not one byte read`);
  }
});

t.test('a FIFO with no writer is refused at once (the open does not wait for a writer)', async (t) => {
  const fifo = join(t.testdir(), 'key.fifo');
  execFileSync('mkfifo', [fifo]);
  await t.rejects(readKeyFile(fifo), { code: 'RS_KEY', message: /is a named pipe \(FIFO\), not a regular file/ });
});

t.test('a file whose fstat size is 0 but holds more (/proc): read stops at 65 bytes', async (t) => {
  // /proc/self/maps is far longer than 64 bytes and stats as 0 bytes.
  let err: unknown;
  const read = await bytesReadBy(() => readKeyFile('/proc/self/maps').catch((e) => { err = e; throw e; }));
  t.match(err, { code: 'RS_KEY', message: /holds more than 64 bytes/ });
  t.ok(read <= KEY_FILE_MAX_BYTES + 1, `read ${read} bytes, at most 65`);
});

t.test('the key id users see is the id the signature carries on the wire', async (t) => {
  const key = Buffer.from('0123456789abcdef0123456789abcdef');
  t.match(keyId(key), /^[0-9a-f]{8}$/);
  t.equal(keyId(key), keyFingerprint(key), 'one form: the wire `key=` value');
  t.not(keyId(key), keyId(Buffer.from('0123456789abcdef0123456789abcdeF')));
});

t.test('the key bytes never appear in a message', async (t) => {
  const dir = t.testdir({ 'long': 'TopSecretClusterKey-do-not-print'.repeat(3) });
  const messageOf = (p: Promise<unknown>) => p.then(() => 'read', (e: Error) => e.message);
  t.notMatch(await messageOf(readKeyFile(join(dir, 'long'))), 'TopSecret');
  writeFileSync(join(dir, 'long'), 'TopSecret');
  const short = await messageOf(readKeyFile(join(dir, 'long')));
  t.match(short, 'the file is 9 bytes');
  t.notMatch(short, 'TopSecret');
});
