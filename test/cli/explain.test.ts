import t from 'tap';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { loadClusterText } from '../../src/options/load.js';
import { renderExplain } from '../../src/cli/run/explain.js';

function rackstrap(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/rackstrap.js', ...args], { env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

t.test('explain the example: trees down to the NICs, keys, identifiers, failover', async (t) => {
  const r = await rackstrap('explain', 'examples/cluster.yaml');
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '');
  const out = r.stdout;
  t.match(out, /^Cluster lab · ID 00:07:34:04:12:0E · generation 1 · vendor class rackstrap\n2 filers · 3 virtual servers · 6 MySQL roles · 25 identifiers\n/);
  t.ok(
    out.includes(
      [
        '  data0  alias · MTU 9000 · virtual servers VsvrA, VsvrB',
        '    └─ bond0.10  VLAN 10 · MTU 9000',
        '       └─ bond0  bond 802.3ad · lacp fast · hash layer3+4 · miimon 100 · MTU 9000',
        '          ├─ eth0  00:07:34:10:00:01',
        '          └─ eth1  00:07:34:10:00:02',
      ].join('\n'),
    ),
    "Filer1's data0 down to its NICs",
  );
  t.ok(
    out.includes(['  mgmt0  10.1.1.4 · alias · MTU 1500', '    └─ fail0  failover · primary eth2 · miimon 100 · MTU 1500', '       ├─ eth2  00:07:34:20:00:03'].join('\n')),
    "Filer2's mgmt0 with its address",
  );
  t.match(out, /Filer2 · base MAC 00:07:34:20:00:01 · 6 NICs · template standard\n  topology key  00:07:34:04:12:0E:00:07:34:20:00:01\n/);
  t.match(out, /^ {4}00:07:34:04:12:0E:san0:Filer2 +10\.2\.2\.4 +10\.2\.2\.0\/24$/m);
  t.match(out, /^ {4}00:07:34:04:12:0E:data2:VsvrC:0 +10\.3\.5\.1 +10\.3\.0\.0\/16$/m);
  t.match(out, /cannot run here +VsvrC \(lacks data2\)/);
  t.match(out, / {2}VsvrC · table 3 · gateway 10\.3\.255\.254 · home Filer2\n.*\n {4}runs on +Filer2\n {4}not on +Filer1: lacks data2\n/);
  t.match(out, /10\.1\.1\.0\/24 +routers 10\.1\.1\.254 · dns 10\.1\.1\.53 · ntp 10\.1\.1\.123 · domain lab\.example · lease 1 d · bootstrap 10\.1\.1\.200–10\.1\.1\.215/);
});

t.test('explain names the key by its key id, the form every other command shows', async (t) => {
  const dir = t.testdir({ 'cluster.key': 'explain-test-cluster-key-0123456' });
  const text = readFileSync('examples/cluster.yaml', 'utf8').replace(/^cluster:\n/m, 'cluster:\n  keyFile: cluster.key\n');
  writeFileSync(join(dir, 'cluster.yaml'), text);
  chmodSync(join(dir, 'cluster.key'), 0o600);
  // Expected from the definition (first 4 bytes of SHA-256 of the key), not from the code under test.
  const expected = createHash('sha256').update('explain-test-cluster-key-0123456').digest('hex').slice(0, 8);
  const r = await rackstrap('explain', join(dir, 'cluster.yaml'));
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, new RegExp(`^Topologies are signed with key ${expected}$`, 'm'));
  const v = await rackstrap('validate', join(dir, 'cluster.yaml'));
  t.match(v.stdout + v.stderr, new RegExp(`signed with key ${expected}`), 'the same id as validate says');
  t.notMatch(r.stdout, /sha256:/, 'no second form of the key');
  // The budget counts the signature, as validate and serve do: the same sizes as validate --json.
  const vj = await rackstrap('validate', '--json', join(dir, 'cluster.yaml'));
  const budget = (JSON.parse(vj.stdout) as { budget: Array<{ filer: string; size: number }> }).budget;
  for (const b of budget) t.match(r.stdout, new RegExp(`^ *${b.filer} +${b.size} B `, 'm'), `${b.filer}: ${b.size} B, signed, as validate --json says`);
  const unsigned = await rackstrap('explain', 'examples/cluster.yaml');
  t.match(unsigned.stdout, /^Topologies are not signed \(no cluster\.keyFile\)/m);
});

t.test('--filer shows one filer; an unknown one is a usage error', async (t) => {
  const r = await rackstrap('explain', 'examples/cluster.yaml', '--filer', 'Filer2');
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^Filer2 · base MAC/m);
  t.notMatch(r.stdout, /^Filer1 · /m);
  t.notMatch(r.stdout, /^Virtual servers/m);
  t.match(r.stdout, /virtual servers that can run here +VsvrA, VsvrB \(home\), VsvrC \(home\)/);
  const bad = await rackstrap('explain', 'examples/cluster.yaml', '--filer', 'Filer9');
  t.equal(bad.code, 2);
  t.match(bad.stderr, /no filer named Filer9 in examples\/cluster\.yaml \(filers: Filer1, Filer2\)/);
});

t.test('explain refuses what validate refuses', async (t) => {
  const r = await rackstrap('explain', 'test/fixtures/config/invalid/stack-loop.yaml');
  t.equal(r.code, 1);
  t.equal(r.stdout, '');
  t.match(r.stderr, /stack-loop\.yaml:\d+:\d+ filers\.Filer2\.stack\.bonds\.bond1: bond1 → bond1\.7 → bond1 is a loop/);
  const missing = await rackstrap('explain', 'nope.yaml');
  t.equal(missing.code, 1);
  t.match(missing.stderr, /nope\.yaml: cannot read cluster description: no such file/);
});

t.test('an alias under a VLAN (data0.5) is drawn inside its VLAN tree', async (t) => {
  const text = readFileSync(join(process.cwd(), 'examples/cluster.yaml'), 'utf8')
    .replace('vlans: [bond0.10, bond0.20, fail0.30, fail0.40]', 'vlans: [bond0.10, bond0.20, fail0.30, fail0.40, data0.5]')
    .replaceAll('      data0: { 0:', '      data0.5: { 0:');
  const out = renderExplain(loadClusterText(text, 'c.yaml'), { filer: 'Filer1' });
  t.ok(
    out.includes(['  data0.5  VLAN 5 · MTU 9000 · virtual servers VsvrA, VsvrB', '    └─ data0  alias · MTU 9000', '       └─ bond0.10  VLAN 10 · MTU 9000'].join('\n')),
    out,
  );
  t.notMatch(out, /^ {2}data0 /m, 'data0 is not a root of its own');
});
