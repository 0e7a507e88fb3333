// Hostile key files as gen, validate, serve and the agent meet them, each run as the real binary
// with its peak memory measured: refused with the key file's name and rule, exit 1, and memory
// that of a Node start (a /dev/zero key once grew gen to 13 GB and serve to 1.6 GB).
import t from 'tap';
import { closeSync, ftruncateSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBounded } from '../helpers/bounded-run.js';

/** A Node start with the CLI loaded peaks at 120-190 MB (serve has a loader thread); a runaway read is gigabytes. */
const RSS_BOUND_MB = 300;

function cluster(dir: string, keyTarget: string | { sparseBytes: number }): string {
  const key = join(dir, 'cluster.key');
  if (typeof keyTarget === 'string') symlinkSync(keyTarget, key);
  else {
    const fd = openSync(key, 'w', 0o600);
    ftruncateSync(fd, keyTarget.sparseBytes);
    closeSync(fd);
  }
  const file = join(dir, 'cluster.yaml');
  writeFileSync(file, readFileSync('examples/cluster.yaml', 'utf8').replace(/^cluster:\n/m, 'cluster:\n  keyFile: cluster.key\n'));
  return file;
}

const KEY_RULE = /cannot read the cluster key \(cluster\.keyFile\): is a character device, not a regular file; refused without reading it/;

t.test('gen and validate: a /dev/zero key is refused, memory stays bounded', async (t) => {
  const dir = t.testdir();
  const file = cluster(dir, '/dev/zero');
  for (const args of [['gen', 'dhcpd', file], ['validate', file]]) {
    const r = await runBounded(args);
    t.equal(r.code, 1, `${args[0]}: exit 1`);
    t.match(r.stderr, `${join(dir, 'cluster.key')}: `, `${args[0]}: names the key file`);
    t.match(r.stderr, KEY_RULE, `${args[0]}: says why`);
    t.notMatch(r.stderr, /internal error|at \w+ \(/, `${args[0]}: no stack`);
    t.ok(r.maxRssMb < RSS_BOUND_MB, `${args[0]}: peak RSS ${r.maxRssMb.toFixed(0)} MB < ${RSS_BOUND_MB} MB`);
    t.equal(r.stdout, '', `${args[0]}: nothing generated`);
  }
});

t.test('gen: a 1 GiB key file is refused from its size', async (t) => {
  const file = cluster(t.testdir(), { sparseBytes: 2 ** 30 });
  const r = await runBounded(['gen', 'dhcpd', file]);
  t.equal(r.code, 1);
  t.match(r.stderr, /the file is 1 GiB; a key file holds 16 to 64 bytes/);
  t.ok(r.maxRssMb < RSS_BOUND_MB, `peak RSS ${r.maxRssMb.toFixed(0)} MB`);
});

t.test('serve: a /dev/zero key stops the start with the rule, before any socket', async (t) => {
  const dir = t.testdir();
  const file = cluster(dir, '/dev/zero');
  const r = await runBounded(['serve', file, '--interface', 'lo', '--lease-file', join(dir, 'leases.log')]);
  t.equal(r.code, 1);
  t.match(r.stderr, KEY_RULE);
  t.ok(r.maxRssMb < RSS_BOUND_MB, `peak RSS ${r.maxRssMb.toFixed(0)} MB`);
});

t.test('the agent (plan): --key-file /dev/zero is refused before anything is looked at', async (t) => {
  const dir = t.testdir();
  const r = await runBounded(['plan', '--key-file', '/dev/zero', '--cluster-id', '02:00:00:00:AA:00', '--cache-dir', dir, '--base-mac', '02:00:00:00:AA:01', '--nic', 'eth0=lo']);
  t.equal(r.code, 1, r.stderr);
  t.match(r.stderr, '/dev/zero: cannot read the cluster key: is a character device, not a regular file; refused without reading it');
  t.ok(r.maxRssMb < RSS_BOUND_MB, `peak RSS ${r.maxRssMb.toFixed(0)} MB`);
});
