// A cluster description is read within a cap (16 MiB): a larger file, such as a 50 MB one, is
// refused from its size before one byte is read, by the loader and by `rackstrap validate`, with
// the rule and no stack. A description just over the cap is refused the same way; one of the cap
// exactly is read (the cap is a size, not a guess about what a file holds).
import t from 'tap';
import { closeSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { LimitedReadError, readStats } from '../../src/input/read-limited.js';
import { loadClusterFile, MAX_DESCRIPTION_BYTES } from '../../src/options/load.js';

/** A sparse file of `size` bytes that starts with `head`. */
function sparse(file: string, head: string, size: number): void {
  writeFileSync(file, head);
  truncateSync(file, size);
}

t.test('a 50 MB description: refused from its size, nothing read', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'big.yaml');
  sparse(file, readFileSync('examples/cluster.yaml', 'utf8'), 50 * 10 ** 6);
  const before = readStats.bytes;
  const err = await loadClusterFile(file).catch((e: unknown) => e);
  t.ok(err instanceof LimitedReadError, String(err));
  t.match(err, { kind: 'too-large', message: `${file}: cannot read cluster description: the file is 47.7 MiB; a cluster description is at most 16 MiB` });
  t.equal(readStats.bytes - before, 0, 'not one byte read');
});

t.test('one byte over the cap is refused; the cap exactly is read', async (t) => {
  const dir = t.testdir();
  const over = join(dir, 'over.yaml');
  sparse(over, '# x\n', MAX_DESCRIPTION_BYTES + 1);
  t.match(await loadClusterFile(over).catch((e: unknown) => e), { kind: 'too-large' });
  // The cap exactly: read whole (and refused as what it holds: NUL bytes are not YAML text).
  const at = join(dir, 'at.yaml');
  const fd = openSync(at, 'w');
  writeSync(fd, '# x\n');
  closeSync(fd);
  truncateSync(at, MAX_DESCRIPTION_BYTES);
  const before = readStats.bytes;
  const err = await loadClusterFile(at).catch((e: unknown) => e);
  t.notMatch(err, { kind: 'too-large' }, 'not refused for its size');
  t.equal(readStats.bytes - before, MAX_DESCRIPTION_BYTES, 'read whole, and no more');
});

t.test('rackstrap validate on a 50 MB description: exit 1, the rule, no stack', async (t) => {
  const dir = t.testdir();
  const file = join(dir, 'big.yaml');
  sparse(file, readFileSync('examples/cluster.yaml', 'utf8'), 50 * 10 ** 6);
  const err: string[] = [];
  const before = readStats.bytes;
  const code = await main(['validate', file], { out: () => undefined, err: (s) => err.push(s) });
  t.equal(code, 1);
  t.match(err.join('\n'), /cannot read cluster description: the file is 47\.7 MiB; a cluster description is at most 16 MiB/);
  t.notMatch(err.join('\n'), /\n\s+at /, 'no stack');
  t.equal(readStats.bytes - before, 0, 'not one byte read');
});
