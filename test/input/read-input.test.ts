// `-` as a file argument (validate, gen, join --token-file): standard input within the same cap as
// a file, the read stopping at the cap, never holding what a pipe could send without end.
import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LimitedReadError, readInputLimited } from '../../src/input/read-limited.js';

t.test('standard input under the cap is read whole; over it the read stops there', async (t) => {
  const small = await readInputLimited('-', { maxBytes: 10, what: 'the join code', stdin: [Buffer.from('rsj1.'), 'abcde'] });
  t.equal(small.toString(), 'rsj1.abcde', 'exactly the cap is accepted');
  let pulled = 0;
  async function* endless(): AsyncGenerator<Buffer> {
    for (;;) {
      pulled++;
      yield Buffer.alloc(4096, 0x61);
    }
  }
  const err = await readInputLimited('-', { maxBytes: 64 * 1024, what: 'cluster description', stdin: endless() }).catch((e: unknown) => e);
  t.ok(err instanceof LimitedReadError, String(err));
  t.match(err, { kind: 'too-large', file: '-', message: '-: cannot read cluster description: more than 64 KiB on standard input; a cluster description is at most 64 KiB' });
  t.equal(pulled, 17, 'stopped one chunk past the cap');
});

t.test('a file name is read as a file (the same reader, the same refusals)', async (t) => {
  const dir = t.testdir();
  writeFileSync(join(dir, 'code'), 'x'.repeat(20));
  t.equal((await readInputLimited(join(dir, 'code'), { maxBytes: 20, what: 'the join code' })).length, 20);
  t.match(await readInputLimited(join(dir, 'code'), { maxBytes: 19, what: 'the join code' }).catch((e: unknown) => e), { kind: 'too-large' });
  t.match(await readInputLimited('/dev/zero', { maxBytes: 19, what: 'the join code' }).catch((e: unknown) => e), { kind: 'not-regular' });
});

t.test('join --token-file - with an endless pipe: refused at the cap, exit 1, no stack', async (t) => {
  const child = spawn(process.execPath, ['bin/rackstrap.js', 'join', '10.0.0.1:7443', '--token-file', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let written = 0;
  const pump = (): void => {
    while (written < 64 * 2 ** 20 && child.stdin.write(chunk)) written += chunk.length;
    if (written < 64 * 2 ** 20) child.stdin.once('drain', pump);
  };
  child.stdin.on('error', () => undefined);
  pump();
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.equal(code, 1, stderr);
  t.match(stderr, /-: cannot read the join code: more than 4 KiB on standard input/);
  t.notMatch(stderr, /internal error|at \w+ \(/);
  t.ok(written < 64 * 2 ** 20, `it stopped reading (${written} bytes sent of 64 MiB)`);
});
