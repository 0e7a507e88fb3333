// plan(): golden batches for the example cluster's two filers, re-plans, feature switches, conflicts.
// The observed states are real `ip -j` output captured in user-mode Linux (test/fixtures/ip-json).
// RACKSTRAP_UPDATE_GOLDEN=1 rewrites test/fixtures/plans/*.txt from the current code (review the diff).
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError, PlanConflictError } from '../../src/errors.js';
import { formatBatch } from '../../src/net/batch.js';
import { aliasMac, buildDesiredState, type DesiredInput, type DesiredState } from '../../src/net/desired.js';
import { ALL_FEATURES, resolveFeatures, type Feature, type Features } from '../../src/net/features.js';
import { parseObservation, type ObservedLink, type ObservedState, type RawObservation } from '../../src/net/observe.js';
import { plan, planTeardown, type Step } from '../../src/net/plan.js';
import { ClusterDescription, Stack } from '../../src/options/schema.js';

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
const filer1Input = () => readJson<DesiredInput & { topology: { stack: unknown } }>('test/fixtures/plans/filer1.input.json');
const filer2Input = () => readJson<DesiredInput & { topology: { stack: unknown } }>('test/fixtures/plans/filer2.input.json');
const raw = (name: string) => readJson<RawObservation>(`test/fixtures/ip-json/uml-filer1/${name}.json`);

/** The captured guest had no usable iptables; a host with iptables and no rules yet. */
const withIptables = (s: ObservedState, save = ''): ObservedState => ({
  ...s,
  iptables: parseObservation({ link: [], addr: [], route: [], rule: [], iptables: { ok: true, stdout: save } }).iptables,
});
const freshFiler1 = () => withIptables(parseObservation(raw('before')));
const builtFiler1 = () => parseObservation(raw('after'));

/** Four NICs of the capture plus eth4/eth5 (copies of eth3) for Filer2's six. */
function freshFiler2(): ObservedState {
  const s = freshFiler1();
  const eth3 = s.links.find((l) => l.ifname === 'eth3')!;
  return { ...s, links: [...s.links, { ...eth3, ifname: 'eth4', ifindex: 40 }, { ...eth3, ifname: 'eth5', ifindex: 41 }] };
}

function golden(t: Test, file: string, text: string) {
  const path = `test/fixtures/plans/${file}`;
  if (process.env.RACKSTRAP_UPDATE_GOLDEN === '1') writeFileSync(path, text);
  t.equal(text, readFileSync(path, 'utf8'), `matches ${path}`);
}

t.test('the hand-built inputs are the example cluster (examples/cluster.yaml)', async (t) => {
  const cluster = ClusterDescription.parse(parseYaml(readFileSync('examples/cluster.yaml', 'utf8')));
  const template = Stack.parse(cluster.templates.standard);
  const f1 = filer1Input();
  const f2 = filer2Input();
  t.same(Stack.parse(f1.topology.stack), template, 'Filer1 is the standard template');
  const patched = Stack.parse({
    ...template,
    bonds: { ...template.bonds, ...cluster.filers.Filer2!.stack!.bonds },
    aliases: { ...template.aliases, ...cluster.filers.Filer2!.stack!.aliases },
  });
  t.same(Stack.parse(f2.topology.stack), patched, 'Filer2 is the template plus bond1 and data2');
  const prefixOf = (ip: string) =>
    cluster.scope.subnets.map((s) => s.prefix).find((p) => {
      const [net, len] = p.split('/');
      const n = (a: string) => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
      const mask = 2 ** 32 - 2 ** (32 - Number(len));
      return (n(ip) & mask) >>> 0 === (n(net!) & mask) >>> 0;
    });
  for (const [name, input] of [['Filer1', f1], ['Filer2', f2]] as const) {
    const want = Object.entries(cluster.filers[name]!.addresses).map(([alias, ip]) => `${alias} ${ip}/${prefixOf(ip)!.split('/')[1]}`);
    t.same(input.filerAddresses!.map((a) => `${a.alias} ${a.address}`), want, `${name} addresses`);
    const homed = Object.entries(cluster.vservers).filter(([, v]) => v.home === name);
    t.same(
      input.vservers!.map((v) => `${v.name} ${v.table} ${v.gateway} ${v.addresses!.map((a) => `${a.alias}=${a.address}`).join(',')}`),
      homed.map(([vs, v]) => `${vs} ${v.table} ${v.gateway} ${Object.entries(v.addresses).flatMap(([alias, inst]) => Object.values(inst).map((ip) => `${alias}=${ip}/${prefixOf(ip)!.split('/')[1]}`)).join(',')}`),
      `${name} virtual servers`,
    );
  }
});

t.test('golden plans: Filer1 and Filer2 from a fresh filer', async (t) => {
  const p1 = plan(buildDesiredState(filer1Input()), freshFiler1());
  golden(t, 'filer1.txt', formatBatch(p1));
  t.same(p1.skipped, [], 'nothing skipped with every feature on');
  const p2 = plan(buildDesiredState(filer2Input()), freshFiler2());
  golden(t, 'filer2.txt', formatBatch(p2));
  // Filer2's extra bond is exactly the difference in links.
  // (Alias MACs differ between filers on purpose: both are on the same segments at once.)
  const linkLines = (p: { steps: Step[] }) =>
    p.steps.filter((s) => s.kind.startsWith('link-')).map((s) => s.argv.join(' ').replace(/ address \S+/, ''));
  const extra = linkLines(p2).filter((l) => !linkLines(p1).includes(l));
  t.ok(extra.some((l) => l.includes('link add bond1 type bond mode 802.3ad lacp_rate fast xmit_hash_policy layer3+4 miimon 100')));
  t.ok(extra.every((l) => /bond1|eth4|eth5|data2/.test(l)), `only bond1's links are extra: ${extra.join('; ')}`);
});

t.test('every step carries its undo; link and address steps undo exactly', async (t) => {
  const p = plan(buildDesiredState(filer1Input()), freshFiler1());
  for (const s of p.steps) {
    if (s.kind === 'route-flush' || s.kind === 'link-mark' || s.kind === 'link-sysctl') t.same(s.undo, [], `${s.kind} has nothing to undo (the link goes)`);
    else t.equal(s.undo.length, 1, `${s.kind} ${s.target} has an undo`);
  }
  const byArgv = (a: string) => p.steps.find((s) => s.argv.join(' ') === a)!;
  t.same(byArgv('ip link set dev eth0 down').undo, [['ip', 'link', 'set', 'dev', 'eth0', 'up']]);
  t.same(byArgv('ip link set dev eth0 master bond0').undo, [['ip', 'link', 'set', 'dev', 'eth0', 'nomaster']]);
  t.same(p.steps.find((s) => s.kind === 'link-add' && s.target === 'data0')!.undo, [['ip', 'link', 'del', 'dev', 'data0']]);
  t.same(p.steps.find((s) => s.kind === 'addr-add' && s.target.startsWith('10.2.2.1/'))!.undo, [['ip', 'addr', 'del', '10.2.2.1/24', 'dev', 'data0']]);
});

t.test('re-plan against the state the plan built (real kernel capture) is empty', async (t) => {
  const desired = buildDesiredState(filer1Input());
  const built = builtFiler1();
  const p = plan(desired, built);
  t.same(p.steps, [], 'no steps');
  t.match(p.skipped, [{ feature: 'accounting', reason: /iptables does not work here/ }], 'accounting skipped: no iptables in that kernel');

  // With iptables and the counters in place (as `iptables -S` prints them), still nothing to do.
  const save = [
    '-P INPUT ACCEPT', '-P FORWARD ACCEPT', '-P OUTPUT ACCEPT', '-N RACKSTRAP-IN', '-N RACKSTRAP-OUT',
    '-A INPUT -m comment --comment rackstrap -j RACKSTRAP-IN', '-A INPUT -i lo -j ACCEPT',
    '-A OUTPUT -m comment --comment rackstrap -j RACKSTRAP-OUT',
    ...['10.2.2.1', '10.3.3.1', '10.2.2.3'].flatMap((ip) =>
      ['', '-p tcp ', '-p udp ', '-p icmp '].flatMap((proto) => [
        `-A RACKSTRAP-IN -d ${ip}/32 ${proto}-m comment --comment "vs.VsvrA"`,
        `-A RACKSTRAP-OUT -s ${ip}/32 ${proto}-m comment --comment "vs.VsvrA"`,
      ]),
    ),
  ].join('\n');
  const full = plan(desired, withIptables(built, save));
  t.same(full.steps, [], 'no steps with the counters present');
  t.same(full.skipped, []);
});

t.test('a moved subnet changes only addresses, routes and rules', async (t) => {
  const input = filer1Input();
  input.vservers![0]!.addresses![1]!.address = '10.4.3.1/16'; // VsvrA's 10.3.3.1/16 moves to 10.4.0.0/16
  input.filerAddresses![1]!.address = '10.1.2.3/24'; // mgmt1 moves to 10.1.2.0/24 (no router there)
  delete input.filerAddresses![1]!.router;
  const p = plan(buildDesiredState(input), builtFiler1());
  t.same(formatBatch(p).split('\n').filter((l) => l && !l.startsWith('#')), [
    'rule del priority 31000 from 10.3.3.1 table 1 realms 1/1 protocol 114',
    'route del 10.3.0.0/16 dev data0 src 10.3.3.1 table 1 realm 1 proto 114',
    'addr add 10.1.2.3/24 broadcast 10.1.2.255 dev mgmt1 metric 114',
    'addr add 10.4.3.1/16 broadcast 10.4.255.255 dev data0 noprefixroute metric 114',
    'addr del 10.3.3.1/16 dev data0',
    'addr del 10.1.1.3/24 dev mgmt1',
    'route add 10.4.0.0/16 dev data0 src 10.4.3.1 table 1 realm 1 proto 114',
    'rule add priority 31000 from 10.4.3.1 table 1 realms 1/1 protocol 114',
    'route flush cache',
  ]);
  t.ok(p.steps.every((s) => /^(addr|route|rule)-/.test(s.kind)), 'no link is touched');
  // Old addresses go after the new ones are in: a device never passes through zero addresses.
  const idx = (k: string) => p.steps.findIndex((s) => s.argv.join(' ').includes(k));
  t.ok(idx('addr add 10.1.2.3') < idx('addr del 10.1.1.3'));
});

t.test('a changed bond mode recreates the bond and everything on it, with exact undo', async (t) => {
  const built = builtFiler1();
  const links = built.links.map((l) => (l.ifname === 'bond0' ? { ...l, bond: { ...l.bond!, mode: 'balance-rr' } } : l));
  const p = plan(buildDesiredState(filer1Input()), { ...built, links });
  const dels = p.steps.filter((s) => s.kind === 'link-del').map((s) => s.target);
  t.same(dels, ['data0', 'data1', 'bond0.10', 'bond0.20', 'bond0'], 'top-down');
  const adds = p.steps.filter((s) => s.kind === 'link-add').map((s) => s.target);
  t.same(adds, ['bond0', 'bond0.10', 'bond0.20', 'data0', 'data1'], 'bottom-up');
  t.ok(p.steps.findIndex((s) => s.kind === 'link-release' && s.target === 'eth0') < p.steps.findIndex((s) => s.kind === 'link-del' && s.target === 'bond0'), 'members released before the bond goes');
  const delBond = p.steps.find((s) => s.kind === 'link-del' && s.target === 'bond0')!;
  t.same(delBond.undo, [
    ['ip', 'link', 'add', 'bond0', 'mtu', '9000', 'type', 'bond', 'mode', 'balance-rr', 'miimon', '100'],
    ['ip', 'link', 'set', 'dev', 'bond0', 'alias', 'rackstrap:bond'],
    ['ip', 'link', 'set', 'dev', 'bond0', 'up'],
  ], 'undo rebuilds the bond as it was');
  // Addresses and routes on the rebuilt aliases are removed explicitly (so undo restores them) and added back.
  t.ok(p.steps.some((s) => s.kind === 'addr-del' && s.target === '10.2.2.1/24 on data0'));
  t.ok(p.steps.some((s) => s.kind === 'addr-add' && s.target === '10.2.2.1/24 on data0'));
  t.ok(p.steps.some((s) => s.kind === 'route-del' && s.target.startsWith('table 1 default')));
  t.notOk(p.steps.some((s) => s.target === 'mgmt0'), 'the failover side is untouched');
});

t.test('teardown removes what rackstrap owns, in seed 000 disable order', async (t) => {
  const built = builtFiler1();
  const p = planTeardown(built);
  golden(t, 'filer1-teardown.txt', formatBatch(p));
  // Seed 000 disable order: rules, routes, addresses, then the links (members released just before
  // their bond goes), then the route cache.
  const phase = (k: string) => ['rule-del', 'route-del', 'addr-del', 'link', 'route-flush'].indexOf(k.startsWith('link-') ? 'link' : k);
  const phases = p.steps.map((s) => phase(s.kind));
  t.ok(phases.every((ph, i) => ph >= 0 && (i === 0 || ph >= phases[i - 1]!)), 'phases in order');
  for (const s of p.steps.filter((s) => s.kind === 'link-release')) {
    const master = s.undo[0]!.at(-1)!;
    t.ok(p.steps.indexOf(s) < p.steps.findIndex((x) => x.kind === 'link-del' && x.target === master), `${s.target} released before ${master} goes`);
  }
  const delIdx = (n: string) => p.steps.findIndex((s) => s.kind === 'link-del' && s.target === n);
  for (const l of built.links.filter((l) => l.owned)) {
    t.ok(delIdx(l.ifname) >= 0, `${l.ifname} removed`);
    if (l.parent !== undefined && built.links.find((x) => x.ifname === l.parent)?.owned) t.ok(delIdx(l.ifname) < delIdx(l.parent), `${l.ifname} before ${l.parent}`);
  }
  t.notOk(p.steps.some((s) => s.kind === 'link-del' && /^eth|^lo$/.test(s.target)), 'NICs are never deleted');
  t.same(p.steps.filter((s) => s.kind === 'link-up').map((s) => s.target), ['eth0', 'eth1', 'eth2', 'eth3'], 'released NICs come back up');
  t.notOk(p.steps.some((s) => s.kind === 'addr-del' && !s.argv.join(' ').match(/dev (mgmt|data|san)\d/)), 'only addresses on our aliases');
});

// ---- feature switches --------------------------------------------------------------------------

/** The fresh filer plus the links of `features` as an admin would have made them (no rackstrap mark). */
function withForeign(desired: DesiredState, features: Feature[]): ObservedState {
  const s = freshFiler1();
  const links: ObservedLink[] = [...s.links];
  let idx = 100;
  const feat = (l: DesiredState['links'][number]) => (l.kind === 'bond' ? l.role : l.kind === 'vlan' ? 'vlan' : l.kind === 'macvlan' ? 'alias' : undefined);
  for (const d of desired.links) {
    const f = feat(d);
    if (f === undefined || !features.includes(f)) continue;
    const base = { ifname: d.ifname, ifindex: idx++, up: true, mtu: d.mtu ?? 1500, owned: false };
    if (d.kind === 'bond') {
      links.push({ ...base, kind: 'bond', bond: { mode: d.mode, miimon: d.miimon } });
      for (const m of d.members) {
        const i = links.findIndex((l) => l.ifname === m);
        links[i] = { ...links[i]!, master: d.ifname };
      }
    } else if (d.kind === 'vlan') links.push({ ...base, kind: 'vlan', parent: d.parent, vlanId: d.vlanId });
    else if (d.kind === 'macvlan') links.push({ ...base, kind: 'macvlan', parent: d.parent, macvlanMode: 'bridge', mac: '02:00:00:00:00:01' });
  }
  return { ...s, links };
}

t.test('a switched-off feature removes exactly its steps and says why', async (t) => {
  const desired = buildDesiredState(filer1Input());
  const full = plan(desired, freshFiler1());
  const cases: Feature[][] = [['accounting'], ['routing'], ['routing', 'address'], ['bond'], ['failover'], ['bond', 'failover'], ['bond', 'failover', 'vlan'], ['bond', 'failover', 'vlan', 'alias']];
  for (const off of cases) {
    const features = resolveFeatures({ disable: off });
    const p = plan(desired, withForeign(desired, off), features);
    const want = full.steps.filter((s) => s.feature === undefined || !off.includes(s.feature));
    t.same(p.steps.map((s) => s.argv.join(' ')), want.map((s) => s.argv.join(' ')), `--no-${off.join(' --no-')}: the others' steps, unchanged`);
    t.same([...new Set(p.skipped.map((s) => s.feature))].sort(), [...off].sort(), 'each switched-off feature is reported');
    for (const s of p.skipped) t.match(s.reason, /^--no-/, `skip says which switch: ${s.reason}`);
  }
});

t.test('switches as a mask (seed 004 style) and as --no-* flags', async (t) => {
  t.same(resolveFeatures(), ALL_FEATURES);
  t.same(resolveFeatures({ mask: '0x3f' }), { ...ALL_FEATURES, accounting: false });
  t.same(resolveFeatures({ mask: 0x7f, disable: ['bond', 'vlan'] }), { ...ALL_FEATURES, bond: false, vlan: false });
  t.same(resolveFeatures({ mask: '0x18' }), { bond: false, failover: false, vlan: false, alias: true, address: true, routing: false, accounting: false });
  t.throws(() => resolveFeatures({ mask: '0x80' }), { code: 'RS_USAGE', message: /bits outside 0x7f.*bond 0x1/ });
  t.throws(() => resolveFeatures({ mask: 'lots' }), { code: 'RS_USAGE' });
  t.throws(() => resolveFeatures({ disable: ['bogus' as Feature] }), { code: 'RS_USAGE', message: /unknown feature/ });
  const off: Features = resolveFeatures({ mask: 0 });
  const p = plan(buildDesiredState(filer1Input()), withForeign(buildDesiredState(filer1Input()), ['bond', 'failover', 'vlan', 'alias']), off);
  t.same(p.steps, [], 'mask 0: nothing is done');
  t.ok(p.skipped.length > 0);
});

t.test('--no-address with routing on needs the addresses to be there', async (t) => {
  const desired = buildDesiredState(filer1Input());
  t.throws(() => plan(desired, freshFiler1(), resolveFeatures({ disable: ['address'] })), {
    code: 'RS_CONFLICT',
    message: /needs 10\.2\.2\.1 on data0; addresses are managed outside rackstrap \(--no-address\)/,
  });
});

// ---- conflicts: never touch the admin's configuration ---------------------------------------------

t.test('what exists, is not rackstrap\'s and is in the way is an error naming it', async (t) => {
  const desired = buildDesiredState(filer1Input());
  const base = freshFiler1();
  const expectConflict = (name: string, s: ObservedState, re: RegExp) => {
    try {
      plan(desired, s);
      t.fail(`${name}: no conflict`);
    } catch (e) {
      t.ok(e instanceof PlanConflictError, `${name}: PlanConflictError`);
      t.match((e as PlanConflictError).message, re, name);
    }
  };
  const link = (l: Partial<ObservedLink> & { ifname: string }): ObservedLink => ({ ifindex: 77, up: true, mtu: 1500, owned: false, ...l });
  expectConflict('admin\'s data0', { ...base, links: [...base.links, link({ ifname: 'data0', kind: 'veth', ifalias: 'uplink to rack 3' })] },
    /data0 exists and was not created by rackstrap \(alias "uplink to rack 3".*--no-alias/);
  expectConflict('missing NIC', { ...base, links: base.links.filter((l) => l.ifname !== 'eth3') }, /eth3: no interface named eth3/);
  expectConflict('NIC in an admin bond', { ...base, links: [...base.links.map((l) => (l.ifname === 'eth1' ? { ...l, master: 'team9' } : l)), link({ ifname: 'team9', kind: 'bond' })] },
    /eth1 should join bond0 but is enslaved to team9/);
  expectConflict('address in use', { ...base, addresses: [{ dev: 'eth3', local: '10.2.2.1', prefixlen: 24, noprefixroute: false, owned: false }] },
    /10\.2\.2\.1 \(for VsvrA on data0\) is already on eth3, not added by rackstrap/);
  expectConflict('admin route in the server table', { ...base, routes: [{ table: 1, dst: '10.3.0.0/16', type: 1, dev: 'eth3', protocol: 4, metric: 0, owned: false }] },
    /table 1 10\.3\.0\.0\/16 dev data0: table 1 already has 10\.3\.0\.0\/16 dev eth3 \(protocol 4\)/);
  expectConflict('admin default route', { ...base, routes: [{ table: 254, dst: 'default', type: 1, gateway: '192.0.2.1', dev: 'eth3', protocol: 16, metric: 0, owned: false }] },
    /table main default dev mgmt0: table main already has default via 192\.0\.2\.1 dev eth3/);
  // Every conflict is listed at once.
  try {
    plan(desired, { ...base, links: [...base.links, link({ ifname: 'data0' }), link({ ifname: 'san0' })] });
  } catch (e) {
    t.equal((e as PlanConflictError).conflicts.length, 2, 'both named');
  }
});

t.test('what rackstrap owns but is no longer wanted is removed; the admin\'s objects are not', async (t) => {
  const built = builtFiler1();
  const input = filer1Input();
  input.vservers = [];
  (input.topology.stack as { aliases: Record<string, string> }).aliases = { mgmt0: 'fail0', mgmt1: 'fail0.30', san0: 'fail0.40', data0: 'bond0.10' };
  (input.topology.stack as { vlans: string[] }).vlans = ['bond0.10', 'fail0.30', 'fail0.40'];
  const admin = { dev: 'eth3', local: '192.0.2.9', prefixlen: 24, noprefixroute: false, owned: false };
  const adminRoute = { table: 1, dst: '192.0.2.0/24', type: 1, dev: 'eth3', protocol: 4, metric: 0, owned: false };
  const p = plan(buildDesiredState(input), { ...built, addresses: [...built.addresses, admin], routes: [...built.routes, adminRoute] });
  t.same(p.steps.filter((s) => s.kind === 'link-del').map((s) => s.target), ['data1', 'bond0.20']);
  t.same(p.steps.filter((s) => s.kind === 'rule-del').length, 3);
  t.notOk(p.steps.some((s) => s.argv.join(' ').includes('192.0.2.')), 'admin address and route untouched');
});

// ---- the desired state ------------------------------------------------------------------------

t.test('desired-state inputs that cannot be built are ConfigErrors naming the field', async (t) => {
  const bad = (mutate: (i: ReturnType<typeof filer1Input>) => void, re: RegExp, name: string) => {
    const i = filer1Input();
    mutate(i);
    try {
      buildDesiredState(i);
      t.fail(`${name}: accepted`);
    } catch (e) {
      t.ok(e instanceof ConfigError, name);
      t.match((e as ConfigError).message, re, name);
    }
  };
  bad((i) => (i.vservers![0]!.addresses![0]!.alias = 'data7'), /vservers\.0\.addresses\.0: data7 is not an interface of this filer's stack/, 'unknown alias');
  bad((i) => (i.vservers![0]!.addresses![0]!.address = '10.1.1.2/24'), /10\.1\.1\.2 is already given to filer Filer1 on mgmt0/, 'duplicate address');
  bad((i) => (i.vservers![0]!.gateway = '10.9.9.9'), /gateway 10\.9\.9\.9 of VsvrA is on none of its subnets/, 'gateway off-subnet');
  bad((i) => ((i.topology.stack as unknown as { failovers: { fail0: { primary: string } } }).failovers.fail0.primary = 'eth0'), /primary: eth0 is not one of its members/, 'primary');
  bad((i) => ((i.topology.stack as unknown as { bonds: { bond0: { mode: string } } }).bonds.bond0.mode = 'balance-rr'), /lacpRate applies to mode 802\.3ad only/, 'bond options');
  bad((i) => (i.filerAddresses![0]!.alias = 'eth0'), /eth0 cannot carry addresses/, 'address on a NIC');
  bad((i) => (i.filerAddresses![0]!.address = '10.1.1.2'), /filerAddresses\.0\.address: must be an IPv4 address with its prefix length/, 'prefix missing');
  bad((i) => ((i.topology.stack as { aliases: Record<string, string> }).aliases.data0 = 'bond7'), /data0 uses bond7, which the stack does not define/, 'undefined parent');
});

t.test('NIC map: eth# become the kernel names, everything else keeps its name', async (t) => {
  const input = filer1Input();
  input.nics = { eth0: 'enp1s0f0', eth1: 'enp1s0f1', eth2: 'eno1', eth3: 'eno2' };
  const d = buildDesiredState(input);
  const bond0 = d.links.find((l) => l.ifname === 'bond0');
  t.match(bond0, { kind: 'bond', members: ['enp1s0f0', 'enp1s0f1'] });
  t.match(d.links.find((l) => l.ifname === 'fail0'), { primary: 'eno1' });
  t.same(d.links.filter((l) => l.kind === 'ethernet').map((l) => `${l.name}=${l.ifname}`), ['eth0=enp1s0f0', 'eth1=enp1s0f1', 'eth2=eno1', 'eth3=eno2']);
});

t.test('alias MACs: stable, locally administered unicast, distinct per filer, alias and cluster', async (t) => {
  const m = aliasMac('Filer1', 'data0', '00:07:34:04:12:0E');
  t.equal(m, aliasMac('Filer1', 'data0', '00:07:34:04:12:0e'), 'cluster ID case does not matter');
  t.match(m, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  const first = parseInt(m.slice(0, 2), 16);
  t.equal(first & 0x01, 0, 'unicast');
  t.equal(first & 0x02, 0x02, 'locally administered');
  const all = new Set(['Filer1', 'Filer2'].flatMap((f) => ['data0', 'data1', 'mgmt0'].flatMap((a) => ['c1', 'c2'].map((c) => aliasMac(f, a, c)))));
  t.equal(all.size, 12, 'all distinct');
  // Golden value: a change here changes every filer's alias MACs in the field.
  t.equal(aliasMac('Filer1', 'data0', '00:07:34:04:12:0E'), 'ca:cb:ee:b1:94:c8');
});

t.test('scope "links": the bootstrap\'s first apply builds the stack and leaves addresses alone', async (t) => {
  const input = filer1Input();
  const noAddresses = buildDesiredState({ ...input, filerAddresses: [], vservers: [] });
  const fresh = plan(noAddresses, freshFiler1(), ALL_FEATURES, { scope: 'links' });
  const full = plan(buildDesiredState(input), freshFiler1());
  t.same(fresh.steps.map((s) => s.argv.join(' ')), full.steps.filter((s) => s.kind.startsWith('link-')).map((s) => s.argv.join(' ')), 'exactly the link steps');
  t.same(fresh.skipped, []);
  // Restarted on a built filer: nothing to do, addresses and routes kept (a full plan would remove them).
  t.same(plan(noAddresses, builtFiler1(), ALL_FEATURES, { scope: 'links' }).steps, []);
  t.ok(plan(noAddresses, builtFiler1()).steps.some((s) => s.kind === 'addr-del'));
  // A link that must go still takes its addresses and routes with it, explicitly (for undo).
  const stack = input.topology.stack as { aliases: Record<string, string> };
  delete stack.aliases.data1;
  const p = plan(buildDesiredState({ ...input, filerAddresses: [], vservers: [] }), builtFiler1(), ALL_FEATURES, { scope: 'links' });
  t.same(p.steps.map((s) => s.argv.join(' ')), [
    'ip route del 10.2.2.0/24 dev data1 src 10.2.2.3 table 1 realm 1 proto 114',
    'ip addr del 10.2.2.3/24 dev data1',
    'ip link del dev data1',
    'ip route flush cache',
  ]);
});

t.test('MTU: explicit or inherited, raised bottom-up and lowered top-down', async (t) => {
  const built = builtFiler1();
  const mtuOf = (n: string) => built.links.find((l) => l.ifname === n)!.mtu;
  t.equal(mtuOf('data0'), 9000, 'the capture: data0 inherited bond0\'s 9000');
  const lines = (p: { steps: Step[] }) => p.steps.map((s) => s.argv.join(' '));
  const input = () => filer1Input();
  // bond0 down to 1500: VLANs and aliases above follow, top-down.
  const down = input();
  delete (down.topology.stack as { mtu: Record<string, number> }).mtu.bond0;
  t.same(lines(plan(buildDesiredState(down), built)), [
    'ip link set dev data1 mtu 1500', 'ip link set dev data0 mtu 1500', 'ip link set dev bond0.20 mtu 1500', 'ip link set dev bond0.10 mtu 1500', 'ip link set dev bond0 mtu 1500',
  ]);
  // fail0 up to 9000 (from 1500): bottom-up, every link above it follows.
  const up = input();
  (up.topology.stack as { mtu: Record<string, number> }).mtu.fail0 = 9000;
  const p = plan(buildDesiredState(up), built);
  t.same(lines(p), [
    'ip link set dev fail0 mtu 9000', 'ip link set dev fail0.30 mtu 9000', 'ip link set dev fail0.40 mtu 9000',
    'ip link set dev mgmt0 mtu 9000', 'ip link set dev mgmt1 mtu 9000', 'ip link set dev san0 mtu 9000',
  ]);
  t.same(p.steps[0]!.undo, [['ip', 'link', 'set', 'dev', 'fail0', 'mtu', '1500']]);
  t.match(p.steps[1]!.reason, /inherited/);
});
