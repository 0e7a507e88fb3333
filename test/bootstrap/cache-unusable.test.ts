// When DHCP does not answer and both cache copies are bad, `agent --once` says why each copy was
// refused, in the line the operator sees at default verbosity (human text), not "no cache". A real
// agent in a namespace with nobody answering; the copies are damaged as disks and people damage
// them: a copy whose checksum does not match, and a huge one.

import { mkdirSync, openSync, closeSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { flatLab, runRackstrap, writeEmptyConfig } from './helpers/flat-lab.js';

t.test('agent --once with both cache copies bad names each reason, at default verbosity', async (t) => {
  const l = await flatLab(t, ['Filer1'], 'qhc');
  const dir = t.testdir();
  writeEmptyConfig(dir);
  const cacheDir = join(dir, 'cache');
  mkdirSync(cacheDir, { mode: 0o700 });
  // A well-formed envelope whose checksum is not that of its content.
  writeFileSync(join(cacheDir, 'cache.a.json'), `${JSON.stringify({ format: 1, checksum: `sha256:${'0'.repeat(64)}`, entry: { generation: 3 } })}\n`, { mode: 0o600 });
  // 1 GiB (sparse): must be refused from its size, not read.
  const fd = openSync(join(cacheDir, 'cache.b.json'), 'w', 0o600);
  ftruncateSync(fd, 2 ** 30);
  closeSync(fd);

  const r = await runRackstrap(l, l.ns.get('Filer1')!, [
    'agent', '--once', '--config', join(dir, 'no-agent.yaml'), '--cluster-id', l.clusterId, '--cache-dir', cacheDir,
    '--retransmit-base', '100', '--topology-timeout', '1000',
  ]);
  t.ok(r.code !== 0 && r.code !== undefined, `not brought up: exit ${r.code}`, { output: r.stdout + r.stderr });
  const text = r.stdout + r.stderr;
  t.notMatch(text, /^\{/m, 'human text by default, not JSON');
  t.notMatch(text, /no cache in/, 'not "no cache"');
  t.match(text, /no topology from DHCP within 1000 ms, and the cache cannot be used/);
  t.match(text, /cache\.a\.json: [^\n]*checksum mismatch/, 'the first copy: its checksum');
  t.match(text, /cache\.b\.json: [^\n]*1 GiB[^\n]*at most 4 MiB \(not read\)/, 'the second copy: its size, unread');
});
