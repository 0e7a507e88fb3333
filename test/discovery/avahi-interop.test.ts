// Interop with avahi, the responder most Linux hosts run: avahi-browse sees rackstrap's own
// responder and its TXT; rackstrap's browser sees a service avahi publishes; and on a host whose
// avahi-daemon runs, rackstrap publishes through it (D-Bus) instead of starting a second
// responder: only avahi-daemon holds UDP 5353 there, and the service still carries our TXT and
// only the mgmt address.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoverOnce } from '../../src/discovery/discover.js';
import { instanceName } from '../../src/discovery/names.js';
import { ClusterTxt, decodeTxt } from '../../src/discovery/txt.js';
import { makeLab } from '../helpers/netns.js';
import { segmentLab, spawnAdvertiser, startAvahi, txtFor } from './helpers/mdns-lab.js';

const CLUSTER_ID = '02:00:00:5e:20:02';

/** avahi-browse -p -r lines `=;if;IPv4;name;type;domain;host;address;port;"k=v" "k=v"` -> records. */
function parseResolved(stdout: string): Array<{ ifname: string; name: string; host: string; address: string; port: number; txt: Buffer[] }> {
  const unescape = (s: string) => s.replace(/\\(\d{3})/g, (_m, d: string) => String.fromCharCode(Number(d)));
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('='))
    .map((l) => {
      const f = l.split(';');
      const txt = [...(f.slice(9).join(';').matchAll(/"([^"]*)"/g))].map((m) => Buffer.from(m[1]!, 'utf8'));
      return { ifname: f[1]!, name: unescape(f[3]!), host: f[6]!, address: f[7]!, port: Number(f[8]), txt };
    });
}

t.test('interop with avahi', async (t) => {
  const lab = await makeLab(t, { prefix: 'qdb' });
  const dir = mkdtempSync(join(tmpdir(), 'qdb-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { hosts } = await segmentLab(lab, ['own', 'av']);
  const own = hosts.get('own')!;
  const av = hosts.get('av')!;
  const avahi = await startAvahi(lab, av.ns, join(dir, 'avahi'), 'avhost');

  await t.test('avahi-browse sees the service of rackstrap\'s own responder, with its TXT and mgmt address', async (t) => {
    const txt = txtFor('interop', CLUSTER_ID, { joinPort: 7443 });
    const adv = spawnAdvertiser(lab, own.ns, { member: 'filer1', txt, interfaces: [{ ifname: 'mgmt0', addresses: [own.mgmt] }], responder: 'own' });
    await adv.waitFor((e) => e.event === 'announced');
    const r = await lab.exec(av.ns, 'avahi-browse', ['-r', '-t', '-p', '_rackstrap._tcp'], { env: avahi.env, timeout: 15_000 });
    const found = parseResolved(r.stdout).filter((x) => x.name === instanceName('filer1', 'interop'));
    t.ok(found.length > 0, `avahi-browse resolved "${instanceName('filer1', 'interop')}":\n${r.stdout}`);
    t.same(found[0] && decodeTxt(found[0].txt), ClusterTxt.parse(txt), 'TXT as advertised');
    t.equal(found[0]?.address, own.mgmt);
    t.equal(found[0]?.port, 7443);
    adv.child.kill('SIGTERM');
    await adv.waitFor((e) => e.event === 'stopped');
  });

  await t.test('rackstrap discover sees a service avahi-publish publishes', async (t) => {
    const txt = txtFor('interop', CLUSTER_ID);
    const pairs = ['txtvers=1', 'cl=interop', `id=${CLUSTER_ID}`, 'v=0.1.0', 'n=3'];
    lab.spawn(av.ns, 'avahi-publish', ['-s', 'published by avahi', '_rackstrap._tcp', '7000', ...pairs], { env: avahi.env });
    let members: Awaited<ReturnType<typeof discoverOnce>>['members'] = [];
    for (let i = 0; i < 10 && !members.some((m) => m.instance === 'published by avahi'); i++) {
      members = (await discoverOnce({ interfaces: ['mgmt0'], netns: lab.netnsPath(own.ns), timeoutMs: 1500 })).members;
    }
    const m = members.find((x) => x.instance === 'published by avahi');
    t.ok(m, 'found');
    t.same(m?.txt, ClusterTxt.parse(txt));
    t.same(m?.addresses, [av.mgmt], 'at the avahi host\'s mgmt address');
    t.equal(m?.host, 'avhost.local');
    t.equal(m?.port, 7000);
  });

  await t.test('where avahi-daemon runs, rackstrap publishes through it and opens no second responder', async (t) => {
    const txt = txtFor('interop', CLUSTER_ID, { joinPort: 7443 });
    const adv = spawnAdvertiser(lab, av.ns, { member: 'filer2', txt, interfaces: [{ ifname: 'mgmt0', addresses: [av.mgmt] }] }, avahi.env);
    const started = await adv.waitFor((e) => e.event === 'started');
    t.equal(started.mode, 'avahi');
    await adv.waitFor((e) => e.event === 'announced');
    const ss = await lab.exec(av.ns, 'ss', ['-H', '-u', '-a', '-p', '-n', 'sport = :5353']);
    const holders = ss.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => /users:\(\("([^"]+)"/.exec(l)?.[1]);
    t.ok(holders.length > 0, 'something holds 5353 (the check can see it)');
    t.same([...new Set(holders)], ['avahi-daemon'], `only avahi-daemon holds UDP 5353:\n${ss.stdout}`);
    let m;
    for (let i = 0; i < 10 && m === undefined; i++) {
      m = (await discoverOnce({ interfaces: ['mgmt0'], netns: lab.netnsPath(own.ns), timeoutMs: 1500 })).members.find((x) => x.instance === instanceName('filer2', 'interop'));
    }
    t.ok(m, 'the service avahi publishes for rackstrap is found');
    t.same(m?.txt, ClusterTxt.parse(txt));
    t.same(m?.addresses, [av.mgmt], 'mgmt address only (avahi publishes on mgmt0 only)');
    t.equal(m?.port, 7443);
  });
});
