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
