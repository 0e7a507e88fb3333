// The README's main job, end to end, and the agent's UML proof: `npm run demo`'s
// flow (src/demo) in a user-mode Linux guest with the example cluster unchanged. Everything is
// checked here on the host from what the guest's own kernel reported (`ip -j -d` output written to
// the shared folder), not from what the demo printed:
//   - bonds: 802.3ad with every member distributing (LACP negotiated with the fake switch)
//   - VLANs with the right ids on the right parents, aliases on the right VLANs
//   - every alias with the example's addresses (filer, virtual server and MySQL identifiers)
//   - VsvrA's table 1 with its default route, connected routes with realm, and its rules
//   - the cache written (two valid copies of generation 1)
//   - the run from the cache (server stopped, stacks torn down) equal to the DHCP run
//   - generation 2 with moved addresses picked up live
import t from 'tap';
import { decodeCacheFile } from '../../src/cache/cache-file.js';
import { runLab } from '../../src/lab/host.js';
import { expectedFiler } from '../../src/lab/expect.js';
import { comparable } from '../../src/lab/observe-filer.js';
import { parseObservation, type ObservedState, type RawObservation } from '../../src/net/observe.js';
import { loadClusterFile } from '../../src/options/load.js';
import { parseInterfaceName } from '../../src/options/names.js';
import { umlUnavailable } from '../../src/lab/uml.js';

const CLUSTER = 'examples/cluster.yaml';

t.test('npm run demo: the example cluster on a real kernel, from DHCP, from the cache, and live', async (t) => {
  const missing = umlUnavailable();
  if (missing !== undefined) {
    t.fail(`user-mode Linux is required for this test: ${missing}`);
    return;
  }
  const loaded = await loadClusterFile(CLUSTER);
  const printed: string[] = [];
  const run = await runLab({ cluster: CLUSTER, print: (s) => printed.push(s), timeoutMs: 280_000 });
  t.comment(`demo: ${(run.elapsedMs / 1000).toFixed(1)} s boot to power-off`);
  const res = run.results;
  if (res === undefined) {
    t.fail(`the guest wrote no results (exit ${run.exitCode}):\n${printed.join('')}\n--- log ---\n${run.log.slice(-4000)}\n--- console ---\n${run.console.slice(-2000)}`);
    return;
  }
  t.same(res.problems, [], 'the demo found no problem');
  t.equal(run.exitCode, 0, 'the guest exited 0');
  for (const [name, runs] of Object.entries(res.runs)) for (const r of runs) t.comment(`${name} ${r.filer}: ${r.addressedMs?.toFixed(0) ?? 'not up'} ms${r.lacpMs !== undefined ? `, LACP +${r.lacpMs.toFixed(0)} ms` : ''}`);

  const state = (file: string): ObservedState => {
    const raw = run.files.get(file);
    if (raw === undefined) throw new Error(`the guest wrote no ${file}`);
    return parseObservation(JSON.parse(raw) as RawObservation);
  };

  for (const f of loaded.filers.values()) {
    const lower = f.name.toLowerCase();
    await t.test(`${f.name}: stack and addresses from DHCP`, async (t) => {
      const s = state(`${lower}-dhcp.json`);
      const link = (n: string) => s.links.find((l) => l.ifname === n);

      for (const [name, bond] of Object.entries(f.stack.bonds)) {
        t.match(link(name), { kind: 'bond', owned: true, up: true, bond: { mode: bond.mode } }, `${name} is a ${bond.mode} bond`);
        for (const m of bond.members) {
          t.equal(link(m)?.master, name, `${m} is in ${name}`);
          if (bond.mode === '802.3ad') t.ok(link(m)?.slave?.adPortState?.includes('distributing'), `${m}: LACP distributing (${link(m)?.slave?.adPortState?.join(',')})`);
        }
      }
      for (const [name, fo] of Object.entries(f.stack.failovers)) {
        t.match(link(name), { kind: 'bond', bond: { mode: 'active-backup' } }, `${name} is an active-backup bond`);
        for (const m of fo.members) t.equal(link(m)?.master, name, `${m} is in ${name}`);
      }
      for (const vlan of f.stack.vlans) {
        const p = parseInterfaceName(vlan);
        if (!p.ok || p.value.kind !== 'vlan') throw new Error(`${vlan} is not a VLAN name`);
        t.match(link(vlan), { kind: 'vlan', parent: p.value.parent, vlanId: p.value.vlanId, up: true }, `${vlan}: VLAN ${p.value.vlanId} on ${p.value.parent}`);
      }
      for (const [alias, on] of Object.entries(f.stack.aliases)) t.match(link(alias), { kind: 'macvlan', parent: on, up: true }, `${alias} sits on ${on}`);

      const have = new Set(s.addresses.map((a) => `${a.dev} ${a.local}/${a.prefixlen}`));
      for (const a of expectedFiler(loaded, f.name).addresses) t.ok(have.has(`${a.dev} ${a.address}`), `${a.dev} has ${a.address} (${a.owner})`);
    });
  }

  await t.test('Filer1 in detail: the example as written', async (t) => {
    const s = state('filer1-dhcp.json');
    const link = (n: string) => s.links.find((l) => l.ifname === n);
    t.match(link('bond0'), { bond: { mode: '802.3ad', lacpRate: 'fast', hashPolicy: 'layer3+4' }, mtu: 9000 });
    t.match(link('bond0.10'), { parent: 'bond0', vlanId: 10 });
    t.match(link('fail0.40'), { parent: 'fail0', vlanId: 40 });
    t.match(link('data0'), { parent: 'bond0.10' });
    t.match(link('san0'), { parent: 'fail0.40' });
    const addrs = new Set(s.addresses.map((a) => `${a.local}/${a.prefixlen} ${a.dev}`));
    for (const a of ['10.1.1.2/24 mgmt0', '10.1.1.3/24 mgmt1', '10.2.2.2/24 san0', '10.2.2.1/24 data0', '10.3.3.1/16 data0', '10.2.2.3/24 data1', '10.1.1.10/24 mgmt0', '10.1.1.11/24 mgmt1']) {
      t.ok(addrs.has(a), a);
    }
    const table1 = s.routes.filter((r) => r.table === 1);
    t.ok(table1.some((r) => r.dst === 'default' && r.gateway === '10.2.2.254' && r.dev === 'data0'), 'table 1: default via 10.2.2.254 dev data0');
    t.ok(table1.some((r) => r.dst === '10.2.2.0/24' && r.dev === 'data0' && r.prefsrc === '10.2.2.1' && r.realm === 1), 'table 1: 10.2.2.0/24 dev data0 src 10.2.2.1 realm 1');
    const rules = s.rules.filter((r) => r.table === 1).map((r) => `${r.src}/${r.srclen} ${r.realmFrom}/${r.realmTo}`).sort();
    t.same(rules, ['10.2.2.1/32 1/1', '10.2.2.3/32 1/1', '10.3.3.1/32 1/1'], 'a rule per VsvrA address into table 1, realm 1');
    t.notOk(s.routes.some((r) => r.table === 2 || r.table === 3), 'no tables of Filer2’s servers');
  });

  await t.test('the cache: written after the DHCP run, and the same stack from it', async (t) => {
    for (const f of loaded.filers.values()) {
      const lower = f.name.toLowerCase();
      const copies = ['a', 'b'].map((c) => run.files.get(`${lower}-cache.${c}.json`)).filter((x): x is string => x !== undefined);
      t.ok(copies.length >= 1, `${f.name}: a cache copy was written`);
      for (const c of copies) {
        const d = decodeCacheFile(Buffer.from(c), { clusterId: loaded.description.cluster.id });
        t.ok(d.ok, `${f.name}: cache copy decodes (${d.ok ? '' : d.reason})`);
        if (d.ok) {
          t.equal(d.entry.generation, loaded.description.cluster.generation, `${f.name}: cache generation`);
          t.equal(Object.keys(d.entry.leases).length, expectedFiler(loaded, f.name).addresses.length, `${f.name}: a lease per address`);
        }
      }
      const dhcp = state(`${lower}-dhcp.json`);
      const cache = state(`${lower}-cache.json`);
      t.same(comparable(cache), comparable(dhcp), `${f.name}: the cache run built what the DHCP run built`);
      const cacheRun = res.runs.cache?.find((r) => r.filer === f.name);
      t.ok(cacheRun?.addressedMs !== undefined && cacheRun.addressedMs >= res.dhcpTimeoutMs, `${f.name}: up from the cache only after the DHCP timeout (${cacheRun?.addressedMs?.toFixed(0)} ms)`);
    }
  });

  await t.test('generation 2: moved addresses picked up live', async (t) => {
    t.ok(res.moved.length >= 2, 'an address moved on each filer');
    for (const m of res.moved) {
      const s = state(`${m.filer.toLowerCase()}-live.json`);
      const on = s.addresses.filter((a) => a.dev === m.alias).map((a) => a.local);
      t.ok(on.includes(m.to), `${m.filer} ${m.alias} has ${m.to}`);
      t.notOk(on.includes(m.from), `${m.filer} ${m.alias} no longer has ${m.from}`);
    }
  });

  t.match(printed.join(''), /1\. Boot user-mode Linux[\s\S]*3\. Start both agents[\s\S]*Summary/, 'the demo printed its steps');
});
