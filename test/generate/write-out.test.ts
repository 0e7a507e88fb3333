// --out: all files or none, each one whole, no temp files left behind.
import t from 'tap';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeOutputs } from '../../src/generate/write-out.js';

t.test('writes every file (creating the folder), replaces old ones, mode 644', async (t) => {
  const dir = join(t.testdir(), 'out');
  const paths = await writeOutputs(dir, [
    { name: 'a.conf', content: 'one\n' },
    { name: 'b.json', content: '{}\n' },
  ]);
  t.same(paths, [join(dir, 'a.conf'), join(dir, 'b.json')]);
  t.equal(readFileSync(join(dir, 'a.conf'), 'utf8'), 'one\n');
  t.equal(statSync(join(dir, 'a.conf')).mode & 0o777, 0o644);
  await writeOutputs(dir, [{ name: 'a.conf', content: 'two\n' }]);
  t.equal(readFileSync(join(dir, 'a.conf'), 'utf8'), 'two\n');
  t.same(readdirSync(dir).sort(), ['a.conf', 'b.json'], 'no temp files');
});

t.test('--out naming a file: refused, the file untouched', async (t) => {
  const dir = t.testdir({ 'a.conf': 'old\n' });
  await t.rejects(writeOutputs(join(dir, 'a.conf'), [{ name: 'x', content: '' }]), { code: 'RS_FILE' });
  t.equal(readFileSync(join(dir, 'a.conf'), 'utf8'), 'old\n');
  t.same(readdirSync(dir), ['a.conf']);
});

t.test('a target that is a folder is refused before anything is written', async (t) => {
  const dir = t.testdir({ 'a.conf': 'old\n', 'b.conf': {} });
  await t.rejects(writeOutputs(dir, [{ name: 'a.conf', content: 'new\n' }, { name: 'b.conf', content: 'new\n' }]), { code: 'RS_FILE', message: /b\.conf/ });
  t.equal(readFileSync(join(dir, 'a.conf'), 'utf8'), 'old\n', 'a.conf untouched although it comes first');
  t.same(readdirSync(dir).sort(), ['a.conf', 'b.conf']);
});

t.test('names with a path are refused', async (t) => {
  const dir = t.testdir();
  await t.rejects(writeOutputs(dir, [{ name: '../x', content: '' }]), { code: 'RS_FILE' });
  await t.rejects(writeOutputs(dir, [{ name: '.hidden', content: '' }]), { code: 'RS_FILE' });
  t.notOk(existsSync(join(dir, '..', 'x')));
});
