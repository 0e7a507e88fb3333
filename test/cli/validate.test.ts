// End to end: the real binary (bin/rackstrap.js -> dist/), as an admin runs it.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function rackstrap(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/rackstrap.js', ...args], { cwd: process.cwd(), env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

t.test('the example is valid', async (t) => {
  const r = await rackstrap('validate', 'examples/cluster.yaml');
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'examples/cluster.yaml: ok (2 filers, 3 virtual servers, 25 identifiers)\n');
  t.equal(r.stderr, '');
});

t.test("the seed's table as written: exit 1, both uses of 10.2.2.3 as file:line:col field: rule", async (t) => {
  const file = 'test/fixtures/config/invalid/duplicate-ip-seed.yaml';
  const r = await rackstrap('validate', file);
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  t.match(lines, [
    new RegExp(`^${file}:\\d+:13 filers\\.Filer2\\.addresses\\.san0: 10\\.2\\.2\\.3 is also data1:VsvrA:0: no two interfaces may share an IP address$`),
    new RegExp(`^${file}:\\d+:\\d+ vservers\\.VsvrA\\.addresses\\.data1\\.0: 10\\.2\\.2\\.3 is also san0:Filer2: `),
    `${file}: 2 errors`,
  ]);
  t.equal(lines.length, 3);
});

t.test('warnings are printed and the description still passes', async (t) => {
  const file = 'test/fixtures/config/warn/vserver-lists-filer-without-alias.yaml';
  const r = await rackstrap('validate', file);
  t.equal(r.code, 0);
  t.match(r.stderr, new RegExp(`^${file}:\\d+:\\d+ warning: vservers\\.VsvrC\\.filers\\[0\\]: Filer1 lacks data2, so VsvrC cannot fail over to it`));
  t.equal(r.stdout, `${file}: ok (2 filers, 3 virtual servers, 25 identifiers, 1 warning)\n`);
});

t.test('a missing file, a directory, garbage: clear errors, exit 1; no argument: usage, exit 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rackstrap-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const garbage = join(dir, 'garbage.yaml');
  writeFileSync(garbage, 'cluster: {name: [unclosed\n\tfilers: ][\n');
  const binary = join(dir, 'binary.yaml');
  writeFileSync(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0xff, 0xfe]));

  const missing = await rackstrap('validate', join(dir, 'nope.yaml'));
  t.equal(missing.code, 1);
  t.match(missing.stderr, /nope\.yaml: cannot read cluster description: no such file/);
  t.notMatch(missing.stderr, /at .*\.js/, 'no stack trace');

  const folder = await rackstrap('validate', dir);
  t.equal(folder.code, 1);
  t.match(folder.stderr, /is a directory, not a cluster description/);

  const g = await rackstrap('validate', garbage);
  t.equal(g.code, 1);
  t.match(g.stderr, new RegExp(`^${garbage}:\\d+:\\d+ \\(yaml\\): `, 'm'));

  const b = await rackstrap('validate', binary);
  t.equal(b.code, 1);
  t.match(b.stderr, /binary\.yaml:1:1 \(document\): /);

  const none = await rackstrap('validate');
  t.equal(none.code, 2);
  t.match(none.stderr, /missing required argument 'file'/);

  const help = await rackstrap('validate', '--help');
  t.equal(help.code, 0);
  t.match(help.stdout, /Usage: rackstrap validate \[options\] <file>\n\ncheck a cluster description against every rule/);
});
