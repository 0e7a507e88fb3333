// IPv6 in a description, until DHCPv6 exists: nothing IPv6 lands in a DHCPv4 configuration or in
// option 43, and each IPv6 address is reported once as "IPv6: not served by DHCPv4 yet". Before, gen
// dhcpd and gen dnsmasq put an IPv6 DNS server into the IPv4 option (dhcpd -t and dnsmasq --test
// failed) and the topology listed the IPv6 instance, so the agent asked DHCPv4 for it forever.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { generateTarget } from '../../src/generate/index.js';
import { buildGenModel } from '../../src/generate/model.js';
import { loadClusterFile } from '../../src/options/load.js';
import { topologyFor } from '../../src/options/resolve.js';

const MIXED = 'test/fixtures/config/ipv6-mixed.yaml';
const V6 = ['2001:db8::53', '2001:db8::123', '2001:db8:3::41'];

t.test('generated configs of a mixed description: no IPv6 in them, and the real servers accept them', async (t) => {
  const model = buildGenModel(await loadClusterFile(MIXED));
  const dir = mkdtempSync(join(tmpdir(), 'rs-v6-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const body = (target: 'dhcpd' | 'kea' | 'dnsmasq') => generateTarget(model, target)[0]!.content;
  for (const target of ['dhcpd', 'kea', 'dnsmasq'] as const) {
    const lines = body(target).split('\n').filter((l) => !/^\s*(#|\/\/)/.test(l) && !l.includes('"comment"'));
    for (const a of V6) t.notOk(lines.some((l) => l.includes(a)), `${target}: ${a} is in no option or reservation`);
  }
  writeFileSync(join(dir, 'dhcpd.conf'), body('dhcpd'));
  t.doesNotThrow(() => execFileSync('dhcpd', ['-t', '-cf', join(dir, 'dhcpd.conf')], { stdio: 'pipe' }), 'dhcpd -t');
  writeFileSync(join(dir, 'dnsmasq.conf'), `port=0\n${body('dnsmasq')}`);
  t.doesNotThrow(() => execFileSync('dnsmasq', ['--test', '-C', join(dir, 'dnsmasq.conf')], { stdio: 'pipe' }), 'dnsmasq --test');
  const kea = JSON.parse(body('kea')) as Record<string, unknown>;
  const full = { Dhcp4: { ...kea, 'interfaces-config': { interfaces: [] }, 'lease-database': { type: 'memfile', persist: false } } };
  writeFileSync(join(dir, 'kea-dhcp4.json'), JSON.stringify(full));
  t.doesNotThrow(() => execFileSync('kea-dhcp4', ['-t', join(dir, 'kea-dhcp4.json')], { stdio: 'pipe' }), 'kea-dhcp4 -t');
});

t.test('the topology asks only for what DHCPv4 serves: the agent does not wait for an IPv6 instance', async (t) => {
  const topo = topologyFor(await loadClusterFile(MIXED), 'Filer2');
  t.same(topo.vservers.find((v) => v.name === 'VsvrB')?.addresses, [{ alias: 'data0', instance: 0 }], 'VsvrB: instance 0 only (instance 1 is IPv6)');
});

t.test('validate and explain report each IPv6 address once', async (t) => {
  for (const cmd of ['validate', 'explain']) {
    const text: string[] = [];
    const code = await main([cmd, MIXED], { out: (s) => text.push(s), err: (s) => text.push(s) });
    t.equal(code, 0, `${cmd} exits 0`);
    const notices = text.join('\n').split('\n').filter((l) => l.startsWith('IPv6: not served by DHCPv4 yet'));
    t.equal(notices.length, 1, `${cmd}: one notice line`);
    for (const a of V6) t.equal(notices[0]?.split(`${a} `).length, 2, `${cmd}: ${a} named once`);
  }
});

t.test('serve says once at start, in plain words, that the IPv6 addresses are not served', async (t) => {
  const { DhcpServer } = await import('../../src/dhcp-server/server.js');
  const dir = mkdtempSync(join(tmpdir(), 'rs-v6-serve-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  // Loopback and a high port: nothing on the network hears it; only the start-up log is read.
  const server = await DhcpServer.start({ configFile: MIXED, interfaces: ['lo'], leaseFile: join(dir, 'leases.log'), port: 20000 + (process.pid % 20000), write: (s) => lines.push(s) });
  await server.stop();
  const events = lines.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event?: string; detail?: string; addresses?: number });
  const notices = events.filter((e) => e.event === 'ipv6-not-served');
  t.equal(notices.length, 1, 'one line');
  t.match(notices[0]?.detail, /^IPv6: not served by DHCPv4 yet: \d+ IPv6 addresses of the description .*give those hosts their IPv6 addresses another way/);
  for (const a of V6) t.equal(notices[0]?.detail?.split(`${a} `).length, 2, `${a} named once`);
  t.equal(notices[0]?.addresses, V6.length);
  t.notOk(events.some((e) => /does not declare/.test(e.detail ?? '')), 'nothing logged as an undeclared identifier');
});

t.test('the topology counts the IPv6 addresses it leaves out; the wire carries the count, optional for older readers', async (t) => {
  const { decodeTopology, encodeTopology } = await import('../../src/options/wire/index.js');
  const loaded = await loadClusterFile(MIXED);
  const topo = topologyFor(loaded, 'Filer2');
  // From the fixture: VsvrB (home Filer2) has data0 instance 1 = 2001:db8:3::41; nothing else of Filer2's is IPv6.
  t.equal(topo.ipv6, 1, 'Filer2: one IPv6 address not asked for');
  t.equal(topologyFor(loaded, 'Filer1').ipv6, undefined, 'Filer1: none');
  const objs = encodeTopology(topo);
  t.match(objs[0]!.text, / ~v6=1$/, 'the header says it, marked optional');
  t.equal(decodeTopology(Buffer.concat(objs.map((o) => Buffer.concat([Buffer.from([o.code, Buffer.byteLength(o.text)]), Buffer.from(o.text)])))).topology.ipv6, 1, 'and it reads back');
});
