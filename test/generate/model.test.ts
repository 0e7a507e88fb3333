// The generator's model and the text targets, without servers: what each file holds, that the
// same description always gives the same bytes, and the refusals.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadClusterFile, loadClusterText } from '../../src/options/load.js';
import { topologyFor } from '../../src/options/resolve.js';
import { buildGenModel, generateAll, generateTarget, GenerateError, TARGETS } from '../../src/generate/index.js';
import { keaFragment } from '../../src/generate/kea.js';
import { dhclientIdentifierStatement } from '../../src/generate/dhclient.js';
import { dhcpdString, dnsmasqString, keaClientId, keaText, keaTextEquals } from '../../src/generate/quote.js';

const EXAMPLE = join(process.cwd(), 'examples/cluster.yaml');
const exampleText = readFileSync(EXAMPLE, 'utf8');

function variant(edit: (d: Record<string, any>) => void): ReturnType<typeof loadClusterText> {
  const d = parse(exampleText) as Record<string, any>;
  edit(d);
  return loadClusterText(stringify(d), EXAMPLE);
}

const text = (model: ReturnType<typeof buildGenModel>, target: (typeof TARGETS)[number]) => generateTarget(model, target)[0]!.content;

t.test('model: the example, in order, with each filer topology as topologyFor gives it', async (t) => {
  const loaded = await loadClusterFile(EXAMPLE);
  const m = buildGenModel(loaded);
  t.equal(m.source, 'cluster.yaml');
  t.same(m.cluster, { name: 'lab', id: '00:07:34:04:12:0E', vendorClass: 'rackstrap', generation: 1 });
  t.same(m.filers.map((f) => [f.filer, f.topologyKey, f.wireSize]), [
    ['Filer1', '00:07:34:04:12:0E:00:07:34:10:00:01', 409], // format 1.1: + ' ~gw=10.2.2.254' (15 bytes),
    ['Filer2', '00:07:34:04:12:0E:00:07:34:20:00:01', 549], // + the gateways of VsvrB and VsvrC,
  ]);
  for (const f of m.filers) t.same(f.topology, topologyFor(loaded, f.filer), `${f.filer}: same topology as topologyFor`);
  t.equal(m.addresses.length, 23);
  t.same(m.addresses.slice(0, 7).map((r) => r.identifier.slice(18)), ['mgmt0:Filer1', 'mgmt1:Filer1', 'san0:Filer1', 'mgmt0:Filer2', 'mgmt1:Filer2', 'san0:Filer2', 'data0:VsvrA:0']);
  t.same(m.bootstrapSubnets.map((s) => s.prefix), ['10.1.1.0/24']);
  t.equal(m.keyId, undefined);
});

t.test('same description, same bytes; the order of servers and roles in the YAML does not matter', async (t) => {
  const a = generateAll(buildGenModel(await loadClusterFile(EXAMPLE)));
  const b = generateAll(buildGenModel(await loadClusterFile(EXAMPLE)));
  t.same(b, a, 'two runs are identical');
  const reordered = variant((d) => {
    d.vservers = Object.fromEntries(Object.entries(d.vservers).reverse());
    d.mysql = Object.fromEntries(Object.entries(d.mysql).reverse());
  });
  const c = generateAll(buildGenModel(reordered));
  t.same(c.map((f) => f.name), a.map((f) => f.name));
  for (let i = 0; i < a.length; i++) t.equal(c[i]!.content, a[i]!.content, `${a[i]!.name} unchanged`);
  t.notMatch(a.map((f) => f.content).join(''), /20\d\d-\d\d-\d\dT/, 'no timestamps');
});

t.test('dhcpd: space, class, subnets with the bootstrap pool, a host per identifier; dhcpd -t accepts it', async (t) => {
  const m = buildGenModel(await loadClusterFile(EXAMPLE));
  const out = text(m, 'dhcpd');
  t.equal(out.match(/^option rackstrap\.o\d+ code \d+ = text;$/gm)?.length, 254, 'every sub-option code defined');
  t.match(out, 'class "rackstrap-lab" {\n  match if option vendor-class-identifier = "rackstrap";\n  vendor-option-space rackstrap;\n}');
  t.match(out, 'pool {\n    range 10.1.1.200 10.1.1.215;\n    allow members of "rackstrap-lab";\n  }');
  t.match(out, '  option rackstrap.o10 "vs VsvrA table=1 addr=data0:0+data0:1+data1:0 ~gw=10.2.2.254";');
  t.match(out, /^host lab-mgmt0-Filer1 +\{ option dhcp-client-identifier "00:07:34:04:12:0E:mgmt0:Filer1"; +fixed-address 10\.1\.1\.2; \}$/m);
  t.match(out, '# virtual server VsvrA, table 1, home Filer1');
  t.equal(out.match(/^host /gm)?.length, 25, 'one host per identifier');
  const dir = mkdtempSync(join(tmpdir(), 'rsgen-dhcpd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'dhcpd.conf'), out);
  t.doesNotThrow(() => execFileSync('dhcpd', ['-t', '-cf', join(dir, 'dhcpd.conf')], { stdio: 'pipe' }), 'dhcpd -t');
  // An admin edits an address by hand: still a valid file.
  writeFileSync(join(dir, 'dhcpd.conf'), out.replace('fixed-address 10.1.1.2;', 'fixed-address 10.1.1.99;'));
  t.doesNotThrow(() => execFileSync('dhcpd', ['-t', '-cf', join(dir, 'dhcpd.conf')], { stdio: 'pipe' }), 'dhcpd -t after a hand edit');
});

t.test('kea: valid JSON, client ids are the identifier bytes, per-filer class encapsulates option 43', async (t) => {
  const m = buildGenModel(await loadClusterFile(EXAMPLE));
  const parsed = JSON.parse(text(m, 'kea')) as Record<string, any>;
  t.same(parsed, JSON.parse(JSON.stringify(keaFragment(m))), 'the printed text is the fragment');
  t.same(Object.keys(parsed), ['user-context', 'host-reservation-identifiers', 'option-def', 'client-classes', 'subnet4']);
  t.equal(parsed['option-def'].length, 254);
  t.same(parsed['client-classes'][0], {
    name: 'rackstrap-lab',
    test: "option[60].text == 'rackstrap'",
    'user-context': { rackstrap: 'filers of cluster lab: only they are offered the bootstrap pools' },
  });
  const f1 = parsed['client-classes'][1];
  t.same(f1['option-def'], [{ name: 'vendor-encapsulated-options', code: 43, type: 'empty', encapsulate: 'rackstrap' }]);
  t.equal(f1['option-data'].length, 1 + 10);
  const [mgmt, data, data3] = parsed.subnet4;
  t.same([mgmt.id, mgmt.subnet, data.subnet, data3.subnet], [167837952, '10.1.1.0/24', '10.2.2.0/24', '10.3.0.0/16']);
  t.same(mgmt.pools, [{ pool: '10.1.1.200 - 10.1.1.215', 'client-class': 'rackstrap-lab' }]);
  t.equal(data.pools, undefined, 'no pool where there is no bootstrap range');
  let n = 0;
  for (const s of parsed.subnet4) {
    for (const r of s.reservations) {
      n++;
      const bytes = Buffer.from(r['client-id'].split(':').map((h: string) => parseInt(h, 16)));
      t.equal(bytes.toString('latin1'), r['user-context'].identifier, `client-id of ${r['user-context'].identifier}`);
    }
  }
  t.equal(n, 25, 'two topology keys and 23 addresses');
});

t.test('dnsmasq: static ranges, the vendor-class-only bootstrap range, quoted ids; dnsmasq --test accepts it', async (t) => {
  const m = buildGenModel(await loadClusterFile(EXAMPLE));
  const out = text(m, 'dnsmasq');
  t.match(out, 'dhcp-vendorclass=set:rackstrap-lab,rackstrap\n');
  t.match(out, 'dhcp-range=tag:rackstrap-lab,set:rackstrap-lab-10_1_1_0-24,10.1.1.200,10.1.1.215,255.255.255.0,86400\n');
  t.match(out, 'dhcp-host=id:"00:07:34:04:12:0E:00:07:34:10:00:01",set:rackstrap-lab-Filer1\n');
  t.match(out, 'dhcp-option=tag:rackstrap-lab-Filer1,vendor:rackstrap,1,"rackstrap/1.1 gen=1 count=10 filer=Filer1"\n');
  t.match(out, 'dhcp-host=id:"00:07:34:04:12:0E:data2:VsvrC:0",10.3.5.1\n');
  const dir = mkdtempSync(join(tmpdir(), 'rsgen-dnsmasq-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'dnsmasq.conf'), `port=0\n${out}`);
  t.doesNotThrow(() => execFileSync('dnsmasq', ['--test', '-C', join(dir, 'dnsmasq.conf')], { stdio: 'pipe' }), 'dnsmasq --test');
});

t.test('dhclient: the same space, vendor class, max message size, option 43 requested', async (t) => {
  const m = buildGenModel(await loadClusterFile(EXAMPLE));
  const out = text(m, 'dhclient');
  t.equal(out.match(/^option rackstrap\.o\d+ code \d+ = text;$/gm)?.length, 254);
  t.match(out, 'send vendor-class-identifier "rackstrap";\nsend dhcp-max-message-size 1500;\n');
  t.match(out, /^request .*vendor-encapsulated-options;$/m);
  t.match(out, '\nvendor option space rackstrap;\n');
  t.equal(dhclientIdentifierStatement('00:07:34:04:12:0E:mgmt0:Filer1'), 'send dhcp-client-identifier "00:07:34:04:12:0E:mgmt0:Filer1";');
});

t.test('quoting per server', async (t) => {
  t.equal(dhcpdString('x', 'a "b" \\c'), '"a \\"b\\" \\\\c"');
  t.equal(dnsmasqString('x', 'a,b"'), '"a,b\\""');
  t.equal(keaText('x', 'a,b,c'), 'a\\,b\\,c', 'Kea: commas escaped');
  t.equal(JSON.stringify(keaText('x', 'a,b')), '"a\\\\,b"', 'as it appears in the JSON file (dhcp-servers.md)');
  t.equal(keaTextEquals(60, 'x', 'rack'), "option[60].text == 'rack'");
  t.equal(keaTextEquals(60, 'x', "it's"), 'option[60].hex == 0x69742773', 'a quote: hex');
  t.equal(keaClientId('AB:c'), '41:42:3a:63');
  t.throws(() => dhcpdString('x', 'tab\there'), GenerateError);
});

t.test('an odd vendor class: escaped for dhcpd (dhcpd -t accepts), hex for Kea, refused for dnsmasq', async (t) => {
  const loaded = variant((d) => (d.cluster.vendorClass = 'rack"s,t\'rap'));
  const m = buildGenModel(loaded);
  const dhcpd = text(m, 'dhcpd');
  t.match(dhcpd, 'match if option vendor-class-identifier = "rack\\"s,t\'rap";');
  const dir = mkdtempSync(join(tmpdir(), 'rsgen-vc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'dhcpd.conf'), dhcpd);
  t.doesNotThrow(() => execFileSync('dhcpd', ['-t', '-cf', join(dir, 'dhcpd.conf')], { stdio: 'pipe' }));
  t.equal((keaFragment(m)['client-classes'] as any[])[0].test, `option[60].hex == 0x${Buffer.from('rack"s,t\'rap').toString('hex')}`);
  t.throws(() => text(m, 'dnsmasq'), { name: 'GenerateError', message: /vendor class .* cannot be written in dnsmasq\.conf/ });
});

t.test('no bootstrap range: servers refuse (nobody could answer topology requests), dhclient and worksheet still work', async (t) => {
  const loaded = variant((d) => delete d.scope.subnets[0].bootstrap);
  const m = buildGenModel(loaded);
  for (const target of ['dhcpd', 'kea', 'dnsmasq'] as const) {
    t.throws(() => text(m, target), { name: 'GenerateError', message: /no subnet has a bootstrap range/ }, target);
  }
  t.ok(text(m, 'dhclient'));
  t.match(text(m, 'worksheet'), '| `00:07:34:04:12:0E:00:07:34:10:00:01` | no bootstrap range |');
});

t.test('an IPv6 address: listed in the worksheet, left out of the DHCPv4 files with a note', async (t) => {
  const loaded = variant((d) => {
    d.scope.subnets.push({ prefix: '2001:db8::/64' });
    d.filers.Filer2.addresses.san0 = '2001:db8::4';
  });
  const m = buildGenModel(loaded);
  t.same(m.skipped, [{ identifier: '00:07:34:04:12:0E:san0:Filer2', address: '2001:db8::4', reason: 'IPv6: not served by DHCPv4 yet' }]);
  for (const target of ['dhcpd', 'dnsmasq'] as const) {
    const out = text(m, target);
    t.match(out, '# 00:07:34:04:12:0E:san0:Filer2 2001:db8::4: IPv6: not served by DHCPv4 yet', target);
    t.notMatch(out, /fixed-address 2001|,2001:db8::4$/m, target);
  }
  t.notMatch(text(m, 'kea'), '2001:db8::4');
  t.match(text(m, 'worksheet'), '| `00:07:34:04:12:0E:san0:Filer2` | 2001:db8::4 | 2001:db8::/64 | san0 of Filer2 |');
});

t.test('a signed cluster: the signature object is in every server file', async (t) => {
  const key = Buffer.from('0123456789abcdef0123456789abcdef');
  const m = buildGenModel(await loadClusterFile(EXAMPLE), { key });
  t.match(m.keyId, /^[0-9a-f]{8}$/);
  t.equal(m.filers[0]!.objects[1]!.code, 2);
  t.match(text(m, 'dhcpd'), /option rackstrap\.o2 "hmac-sha256-128 key=[0-9a-f]{8} mac=/);
  t.match(text(m, 'dhcpd'), `# Topology is signed with the cluster key ${m.keyId}.`);
});
