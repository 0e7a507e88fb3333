// `rackstrap gen` end to end: the real binary as an admin runs it.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { main, type Io } from '../../src/cli/main.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real binary, as an admin runs it. */
function binary(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/rackstrap.js', ...args], { cwd: process.cwd(), env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The same CLI in-process (main() is what bin/rackstrap.js calls): no node start-up per run. */
async function rackstrap(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: Io = { out: (s) => (stdout += s.endsWith('\n') ? s : `${s}\n`), err: (s) => (stderr += s.endsWith('\n') ? s : `${s}\n`) };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

const EXAMPLE = 'examples/cluster.yaml';

t.test('one target to stdout', async (t) => {
  const r = await binary('gen', 'dhcpd', EXAMPLE);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^# rackstrap dhcpd configuration for cluster lab \(cluster ID 00:07:34:04:12:0E\), generation 1\.\n/);
  t.equal(r.stderr, '');
  const w = await rackstrap('gen', 'worksheet', EXAMPLE);
  t.match(w.stdout, /^# Network worksheet: cluster lab\n/, 'worksheet on stdout is the Markdown');
  const k = await rackstrap('gen', 'kea', EXAMPLE);
  t.doesNotThrow(() => JSON.parse(k.stdout));
});

t.test('gen all --out: every file, listed on stdout, same bytes as the single targets', async (t) => {
  const dir = join(t.testdir(), 'out');
  const r = await rackstrap('gen', 'all', EXAMPLE, '--out', dir);
  t.equal(r.code, 0, r.stderr);
  const names = ['dhcpd.conf', 'kea-dhcp4.json', 'dnsmasq.conf', 'dhclient.conf', 'worksheet.md', 'worksheet.csv', 'worksheet-Filer1.svg', 'worksheet-Filer2.svg'];
  t.same(r.stdout.trim().split('\n'), names.map((n) => join(dir, n)));
  t.same(readdirSync(dir).sort(), [...names].sort());
  const single = await rackstrap('gen', 'dnsmasq', EXAMPLE);
  t.equal(readFileSync(join(dir, 'dnsmasq.conf'), 'utf8'), single.stdout);
});

t.test('usage errors: exit 2', async (t) => {
  const unknown = await rackstrap('gen', 'bind9', EXAMPLE);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, 'unknown target "bind9" (dhcpd, kea, dnsmasq, dhclient, worksheet, topology, all)');
  const all = await rackstrap('gen', 'all', EXAMPLE);
  t.equal(all.code, 2);
  t.match(all.stderr, 'gen all writes several files: give --out DIR');
});

t.test('an invalid description: its problems, exit 1, nothing written', async (t) => {
  const dir = join(t.testdir(), 'out');
  const file = 'test/fixtures/config/invalid/duplicate-ip-seed.yaml';
  const r = await rackstrap('gen', 'all', file, '--out', dir);
  t.equal(r.code, 1);
  t.match(r.stderr, /no two interfaces may share an IP address/);
  t.match(r.stderr, `${file}: 2 errors`);
  t.equal(r.stdout, '');
  t.notOk(existsSync(dir), 'the output folder was not even created');
});

t.test('a topology too big for one server: exit 1 naming filer, size and limit; --out writes nothing', async (t) => {
  const dir = t.testdir();
  const d = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, any>;
  for (let i = 0; i < 8; i++) {
    d.vservers[`Big${i}${'x'.repeat(55)}`] = { table: 100 + i, home: 'Filer2', addresses: { data0: { 0: `10.3.${100 + i}.1` } } };
  }
  const file = join(dir, 'big.yaml');
  writeFileSync(file, stringify(d));
  const kea = await rackstrap('gen', 'kea', file);
  t.equal(kea.code, 1);
  t.match(kea.stderr, /^Filer2: topology is (\d+) bytes of option 43, over the 1082 bytes Kea 2\.2 kea-dhcp4 delivers intact on 10\.1\.1\.0\/24/);
  t.equal(kea.stdout, '');
  const out = join(dir, 'out');
  const all = await rackstrap('gen', 'all', file, '--out', out);
  t.equal(all.code, 1);
  t.notOk(existsSync(out) && readdirSync(out).length > 0, 'no file written');
  const dhcpd = await rackstrap('gen', 'dhcpd', file);
  t.equal(dhcpd.code, 0, 'dhcpd has room for it');
  const worksheet = await rackstrap('gen', 'worksheet', file);
  t.equal(worksheet.code, 0, 'the worksheet does not depend on a server');
});

t.test('a key file that cannot be read: exit 1, RS_KEY message', async (t) => {
  const dir = t.testdir();
  const d = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, any>;
  d.cluster.keyFile = 'missing.key';
  writeFileSync(join(dir, 'c.yaml'), stringify(d));
  const r = await rackstrap('gen', 'dhcpd', join(dir, 'c.yaml'));
  t.equal(r.code, 1);
  t.match(r.stderr, `${join(dir, 'missing.key')}: cannot read the cluster key (cluster.keyFile): no such file`);
  writeFileSync(join(dir, 'missing.key'), 'a-cluster-key-of-32-bytes-length');
  const ok = await rackstrap('gen', 'dhcpd', join(dir, 'c.yaml'));
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /option rackstrap\.o2 "hmac-sha256-128 key=/);
});
