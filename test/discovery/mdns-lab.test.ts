// Advertising and discovery on a real segment: three hosts in network namespaces, each with a
// management and a data interface on separate bridges. Members advertise on mgmt0 only; the
// browser (the code `rackstrap discover` runs) in the third host finds them, reads their TXT,
// sees only mgmt addresses, follows an address change, a goodbye and a silent disappearance, and
// a name clash ends with one consistent pair of names everywhere. tcpdump on the data bridge
// proves no mDNS packet ever reaches the data segment (and on the mgmt bridge that capture works).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchClusters, discoverOnce } from '../../src/discovery/discover.js';
import type { BrowserEvent, Member } from '../../src/discovery/browser.js';
import { instanceName } from '../../src/discovery/names.js';
import { ClusterTxt } from '../../src/discovery/txt.js';
import { makeLab } from '../helpers/netns.js';
import { capture, segmentLab, spawnAdvertiser, txtFor, waitUntil } from './helpers/mdns-lab.js';

const CLUSTER = 'prod';
const CLUSTER_ID = '02:00:00:5e:10:01';
const CA = `sha256:${'c4'.repeat(32)}`;

t.test('mDNS on the management segment only', async (t) => {
  const lab = await makeLab(t, { prefix: 'qda' });
  const dir = mkdtempSync(join(tmpdir(), 'qda-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { sw, hosts } = await segmentLab(lab, ['a', 'b', 'c']);
  const a = hosts.get('a')!;
  const b = hosts.get('b')!;
  const c = hosts.get('c')!;
  const dataCap = await capture(lab, sw, 'br-data', ['udp', 'port', '5353'], dir);
  const mgmtCap = await capture(lab, sw, 'br-mgmt', ['udp', 'port', '5353'], dir);

  // Member a serves joins (its TXT names the join port and CA); b does not. b's records live 3 s,
  // so its silent disappearance is noticed within the test's budget.
  const txtA = txtFor(CLUSTER, CLUSTER_ID, { joinPort: 7443, ca: CA });
  const txtB = txtFor(CLUSTER, CLUSTER_ID, { ca: CA });
  const advA = spawnAdvertiser(lab, a.ns, { member: 'filer1', txt: txtA, interfaces: [{ ifname: 'mgmt0', addresses: [a.mgmt] }], responder: 'own' });
  const advB = spawnAdvertiser(lab, b.ns, {
    member: 'filer2',
    txt: txtB,
    interfaces: [{ ifname: 'mgmt0', addresses: [b.mgmt] }],
    responder: 'own',
    ttl: { host: 3, other: 3 },
  });
  await advA.waitFor((e) => e.event === 'announced');
  await advB.waitFor((e) => e.event === 'announced');

  const netnsC = lab.netnsPath(c.ns);
  await t.test('a browser started later finds both members within 1 s, with the TXT they advertise and their mgmt address only (never the data one)', async (t) => {
    const r = await discoverOnce({ interfaces: ['mgmt0'], netns: netnsC, timeoutMs: 3000 });
    t.ok(r.firstMs !== undefined && r.firstMs < 1000, `first result after ${r.firstMs?.toFixed(0)} ms (bound 1000)`);
    const byName = new Map(r.members.map((m) => [m.instance, m]));
    t.same([...byName.keys()].sort(), [instanceName('filer1', CLUSTER), instanceName('filer2', CLUSTER)].sort());
    t.same(byName.get(instanceName('filer1', CLUSTER))?.txt, ClusterTxt.parse(txtA), 'TXT of filer1 as advertised');
    t.same(byName.get(instanceName('filer2', CLUSTER))?.txt, ClusterTxt.parse(txtB), 'TXT of filer2 as advertised');
    t.same(byName.get(instanceName('filer1', CLUSTER))?.addresses, [a.mgmt]);
    t.same(byName.get(instanceName('filer2', CLUSTER))?.addresses, [b.mgmt]);
    t.same(byName.get(instanceName('filer1', CLUSTER))?.port, 7443);
  });

  const events: Array<BrowserEvent & { at: number }> = [];
  const watcher = await watchClusters({ interfaces: ['mgmt0'], netns: netnsC, onEvent: (e) => events.push({ ...e, at: performance.now() }) });
  t.teardown(() => watcher.stop());
  const member = (instance: string): Member | undefined => {
    const last = events.filter((e) => e.member.instance === instance).at(-1);
    return last === undefined || last.event === 'down' ? undefined : last.member;
  };
  await waitUntil(() => member(instanceName('filer1', CLUSTER)) !== undefined && member(instanceName('filer2', CLUSTER)) !== undefined, 3000, 'both members in the watch');

  await t.test('an address change on mgmt0 is re-announced; the old address goes, a new data address never shows', async (t) => {
    // Deleted first: deleting a primary address takes the secondaries of its subnet with it.
    await lab.ip(a.ns, 'addr', 'del', `${a.mgmt}/24`, 'dev', 'mgmt0');
    await lab.ip(a.ns, 'addr', 'add', '10.60.0.101/24', 'dev', 'mgmt0');
    await lab.ip(a.ns, 'addr', 'add', '10.61.0.101/24', 'dev', 'data0');
    await waitUntil(() => member(instanceName('filer1', CLUSTER))?.addresses.join() === '10.60.0.101', 5000, 'filer1 at its new address');
    t.same(member(instanceName('filer1', CLUSTER))?.addresses, ['10.60.0.101']);
  });

  await t.test('a goodbye removes the member within 1 s', async (t) => {
    advA.child.kill('SIGTERM');
    const bye = await advA.waitFor((e) => e.event === 'goodbye');
    await waitUntil(() => events.some((e) => e.event === 'down' && e.member.instance === instanceName('filer1', CLUSTER)), 3000, 'filer1 down');
    const down = events.find((e) => e.event === 'down' && e.member.instance === instanceName('filer1', CLUSTER))!;
    t.equal(down.event === 'down' && down.reason, 'goodbye');
    t.ok(down.at - bye.at < 1000, `dropped ${(down.at - bye.at).toFixed(0)} ms after the goodbye (bound 1000)`);
  });

  await t.test('a member that vanishes silently is dropped within its TTL, after re-queries went unanswered', async (t) => {
    const killedAt = performance.now();
    advB.child.kill('SIGKILL');
    await waitUntil(() => events.some((e) => e.event === 'down' && e.member.instance === instanceName('filer2', CLUSTER)), 6000, 'filer2 down');
    const down = events.find((e) => e.event === 'down' && e.member.instance === instanceName('filer2', CLUSTER))!;
    t.equal(down.event === 'down' && down.reason, 'expired');
    t.ok(down.at - killedAt <= 3000 + 300, `dropped ${(down.at - killedAt).toFixed(0)} ms after it vanished (TTL 3000 ms)`);
  });

  await t.test('a name clash: one member keeps the name, the other is renamed, and every host sees the same pair', async (t) => {
    const opts = (h: typeof a) => ({ member: 'twin', txt: txtB, interfaces: [{ ifname: 'mgmt0', addresses: [h.mgmt] }], responder: 'own' as const, followAddresses: false });
    // a's mgmt address is 10.60.0.101 since the address test.
    const p1 = spawnAdvertiser(lab, a.ns, { ...opts(a), interfaces: [{ ifname: 'mgmt0', addresses: ['10.60.0.101'] }] });
    const p2 = spawnAdvertiser(lab, b.ns, opts(b));
    const base = instanceName('twin', CLUSTER);
    const renamed = `${base} (2)`;
    const settled = async (p: typeof p1) => {
      await p.waitFor((e) => e.event === 'announced' && (e.instance === base || e.instance === renamed), 15_000);
      // The last announcement is the name it keeps.
      await new Promise((r) => setTimeout(r, 2500));
      return p.events.filter((e) => e.event === 'announced').at(-1)!.instance as string;
    };
    const [n1, n2] = await Promise.all([settled(p1), settled(p2)]);
    t.same([n1, n2].sort(), [base, renamed].sort(), `one keeps "${base}", the other is "${renamed}"`);
    const loser = n1 === renamed ? p1 : p2;
    const winner = loser === p1 ? p2 : p1;
    t.ok(loser.events.some((e) => e.event === 'renamed' && e.from === base && e.to === renamed), 'the renamed side reported the rename');
    t.notOk(winner.events.some((e) => e.event === 'renamed'), 'the side that kept the name did not rename');
    const expectAddr = new Map([[n1, '10.60.0.101'], [n2, b.mgmt]]);
    for (const [label, h] of [['a', a], ['b', b], ['c', c]] as const) {
      const r = await discoverOnce({ interfaces: ['mgmt0'], netns: lab.netnsPath(h.ns), timeoutMs: 3000 });
      const seen = r.members.filter((m) => m.instance.startsWith(base)).map((m) => `${m.instance}=${m.addresses.join()}`).sort();
      t.same(seen, [...expectAddr].map(([n, ad]) => `${n}=${ad}`).sort(), `host ${label} sees the same two names at the right addresses`);
    }
  });

  await t.test('no mDNS packet reached the data segment', async (t) => {
    const data = await dataCap.stop();
    const mgmt = await mgmtCap.stop();
    t.ok(mgmt.length > 10, `the management capture saw ${mgmt.length} mDNS packets (the capture works)`);
    t.same(data, [], 'the data capture saw none');
  });
});
