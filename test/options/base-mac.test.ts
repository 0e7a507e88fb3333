// A filer's base MAC has one definition: the description's baseMac when it sets one, else the MAC
// of its lowest-numbered NIC (eth0), the MAC on its label. The agent reads the same NIC's
// permanent MAC from the hardware, so a filer described like the example asks for exactly the
// identifier the DHCP configs hold; a baseMac set apart from eth0's is a warning naming the fix.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolveNicIdentity } from '../../src/bootstrap/nic-discovery.js';
import { ConfigError, formatProblem } from '../../src/errors.js';
import { buildGenModel } from '../../src/generate/model.js';
import type { Runner } from '../../src/net/runner.js';
import { topologyKey } from '../../src/options/identifiers.js';
import { loadClusterText } from '../../src/options/load.js';

const example = readFileSync('examples/cluster.yaml', 'utf8');

function edit(text: string, from: string, to: string): string {
  if (text.split(from).length !== 2) throw new Error(`"${from}" must occur exactly once`);
  return text.replace(from, to);
}

/** `ip -j -d link show` of a filer whose NICs carry `macs`, after its agent enslaved them: each member shows its bond's MAC. */
function ipLinkAfterBonding(macs: Record<string, string>, bondOf: Record<string, string[]>): Runner {
  const links: unknown[] = [{ ifname: 'lo', link_type: 'loopback', address: '00:00:00:00:00:00' }];
  for (const [nic, mac] of Object.entries(macs)) {
    const bond = Object.entries(bondOf).find(([, members]) => members.includes(nic));
    if (bond === undefined) {
      links.push({ ifname: nic, link_type: 'ether', address: mac.toLowerCase() });
      continue;
    }
    // The bond took its last member's MAC here, so every member but that one shows a MAC not its own.
    const bondMac = macs[bond[1].at(-1)!]!.toLowerCase();
    links.push({ ifname: nic, link_type: 'ether', address: bondMac, linkinfo: { info_slave_kind: 'bond', info_slave_data: { state: 'ACTIVE', perm_hwaddr: mac.toLowerCase() } } });
  }
  for (const [bond, members] of Object.entries(bondOf)) links.push({ ifname: bond, link_type: 'ether', address: macs[members.at(-1)!]!.toLowerCase(), linkinfo: { info_kind: 'bond' } });
  return { run: async (argv) => ({ argv, exitCode: 0, stdout: JSON.stringify(links), stderr: '' }) };
}

t.test('the example: each base MAC is the filer’s eth0 MAC, and the configs key its topology by it', async (t) => {
  const loaded = loadClusterText(example, 'cluster.yaml');
  t.same(loaded.warnings.map(formatProblem), [], 'no warning');
  const model = buildGenModel(loaded);
  for (const f of loaded.filers.values()) {
    const eth0 = f.nics.eth0!;
    t.equal(f.baseMac, eth0, `${f.name}: base MAC = eth0's MAC ${eth0}`);
    t.equal(f.baseMacNic, 'eth0');
    const topo = model.filers.find((x) => x.filer === f.name);
    t.equal(topo?.topologyKey, `00:07:34:04:12:0E:${eth0}`, `${f.name}: the generated topology identifier ends in eth0's MAC`);
  }
});

t.test('the agent, told nothing, derives the same base MAC from the hardware, its NICs enslaved or not', async (t) => {
  const loaded = loadClusterText(example, 'cluster.yaml');
  const model = buildGenModel(loaded);
  for (const f of loaded.filers.values()) {
    const fresh = await resolveNicIdentity({}, ipLinkAfterBonding(f.nics, {}));
    t.equal(fresh.baseMac, f.baseMac, `${f.name}, fresh from the box: ${fresh.baseMac}`);
    const bonds = Object.fromEntries([...Object.entries(f.stack.bonds), ...Object.entries(f.stack.failovers)].map(([n, b]) => [n, b.members]));
    const built = await resolveNicIdentity({}, ipLinkAfterBonding(f.nics, bonds));
    t.equal(built.baseMac, f.baseMac, `${f.name}, restarted with eth0 in a bond carrying another NIC's MAC: still eth0's own`);
    t.ok(
      model.filers.some((x) => x.topologyKey === topologyKey(loaded.description.cluster.id, built.baseMac)),
      `${f.name}: the identifier the agent sends is one the DHCP configs hold`,
    );
  }
});

t.test('a baseMac set apart from eth0 is a warning naming both MACs and both fixes', async (t) => {
  const text = edit(example, '  Filer1:\n', '  Filer1:\n    baseMac: "00:07:34:10:00:00"\n');
  const loaded = loadClusterText(text, 'cluster.yaml');
  t.equal(loaded.filers.get('Filer1')!.baseMac, '00:07:34:10:00:00', 'the description’s value is the base MAC');
  t.equal(loaded.filers.get('Filer1')!.baseMacNic, undefined);
  const w = loaded.warnings.filter((p) => p.field === 'filers.Filer1.baseMac');
  t.equal(w.length, 1, loaded.warnings.map(formatProblem).join('\n'));
  t.match(w[0], {
    line: text.split('\n').findIndex((l) => l.includes('baseMac: "00:07:34:10:00:00"')) + 1,
    rule: /00:07:34:10:00:00 is not the MAC of its eth0 \(00:07:34:10:00:01\).*agent\.yaml sets baseMac: 00:07:34:10:00:00.*Remove baseMac here/,
  });
  const same = loadClusterText(edit(example, '  Filer1:\n', '  Filer1:\n    baseMac: "00:07:34:10:00:01"\n'), 'cluster.yaml');
  t.same(same.warnings.map(formatProblem), [], 'a baseMac equal to eth0’s MAC says nothing');
});

t.test('a filer with neither NICs nor baseMac is an error naming the filer', async (t) => {
  const text = [
    'cluster: { name: c, id: "02:00:00:00:00:01", vendorClass: rackstrap, generation: 1 }',
    'scope: { subnets: [{ prefix: 10.1.1.0/24 }] }',
    'filers:',
    '  F1:',
    '    nics: {}',
    '',
  ].join('\n');
  try {
    loadClusterText(text, 'c.yaml');
    t.fail('accepted');
  } catch (e) {
    t.ok(e instanceof ConfigError);
    const p = (e as ConfigError).problems.find((x) => /no base MAC/.test(x.rule));
    t.match(p, { field: 'filers.F1', rule: /F1 lists no NIC, so it has no base MAC/ });
  }
});
