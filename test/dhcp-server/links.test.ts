// The server follows its interfaces while it runs: one named with --interface that appears after
// the start is served as soon as it has an address; an address change is used at once; a link
// that goes away closes its socket (logged, nothing else disturbed) and is served again when it
// comes back as a new link; no carrier and addresses in no subnet of the description are warned
// about once per change. Real namespaces and veth pairs; the pure parts are checked first.

import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import t from 'tap';
import { MESSAGE_TYPE, OPTION } from '../../src/dhcp-packet/index.js';
import { loadServerConfig } from '../../src/dhcp-server/load-config.js';
import { linkConditions, parseLinks } from '../../src/dhcp-server/links.js';
import { makeLab } from '../helpers/netns.js';
import { exampleText, id } from './helpers/fixtures.js';
import { Relay, relayLink, typeOf } from './helpers/relay.js';
import { ServeProcess, type LogLine } from './helpers/serve.js';

const POOLS = { 1: { start: '10.2.2.100', end: '10.2.2.110' } };

t.test('links as `ip -j address show` prints them, and the warnings each deserves', async (t) => {
  const json = JSON.stringify([
    { ifindex: 2, ifname: 'mgmt0', flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'], mtu: 1500, addr_info: [{ family: 'inet', local: '10.1.1.1', prefixlen: 24 }, { family: 'inet6', local: 'fe80::1', prefixlen: 64 }] },
    { ifindex: 3, ifname: 'mgmt1', flags: ['NO-CARRIER', 'BROADCAST', 'MULTICAST', 'UP'], mtu: 9000, addr_info: [{ family: 'inet', local: '10.2.2.1', prefixlen: 24 }] },
    { ifindex: 4, ifname: 'lab0', flags: ['UP', 'LOWER_UP'], mtu: 1500, addr_info: [{ family: 'inet', local: '192.168.7.1', prefixlen: 24 }] },
    { ifindex: 5, ifname: 'bare0', flags: ['BROADCAST'], mtu: 1500, addr_info: [] },
  ]);
  const links = parseLinks(json);
  t.same(links.get('mgmt0'), { index: 2, name: 'mgmt0', up: true, carrier: true, mtu: 1500, addresses: [{ address: 0x0a010101, text: '10.1.1.1', prefixLength: 24 }] }, 'IPv4 addresses only');
  t.match(links.get('mgmt1'), { up: true, carrier: false, mtu: 9000, addresses: [{ text: '10.2.2.1' }] }, 'a link without carrier keeps its addresses (os.networkInterfaces() leaves them out)');
  const dir = t.testdir({ 'cluster.yaml': exampleText() });
  const { config } = await loadServerConfig(join(dir, 'cluster.yaml'));
  const kinds = (name: string): string[] => [...linkConditions(links.get(name), config.subnets).keys()];
  t.same(kinds('mgmt0'), [], 'up, carrier, an address in 10.1.1.0/24: nothing to say');
  t.same(kinds('mgmt1'), ['no-carrier']);
  t.same(kinds('lab0'), ['no-subnet']);
  t.match(linkConditions(links.get('lab0'), config.subnets).get('no-subnet'), /192\.168\.7\.1\/24.*none of the description's subnets/);
  t.same(kinds('bare0'), ['no-carrier', 'no-address']);
  t.same(kinds('nosuch0'), ['missing']);
});

t.test('serve follows an interface that appears, changes address, loses carrier, goes and comes back', async (t) => {
  const lab = await makeLab(t, { prefix: 'qhl' });
  const dir = t.testdir();
  const config = join(dir, 'cluster.yaml');
  writeFileSync(config, exampleText({ pools: POOLS }));
  const { srv, cli, relay } = await relayLink(t, lab);
  const m0 = id('mgmt0:Filer1');

  const server = await ServeProcess.ready(lab, srv, { config, interfaces: ['srv0', 'late0'], leaseFile: join(dir, 'leases.log'), logLevel: 'info' });
  const count = (event: string, ifname: string): number => server.lines.filter((l) => l.event === event && l.interface === ifname).length;
  const after = (n: number) => (pred: (l: LogLine) => boolean) => (l: LogLine): boolean => server.lines.indexOf(l) >= n && pred(l);
  t.match(await server.waitFor((l) => l.event === 'interface-missing', 5000, 'the missing warning'), { level: 'warn', interface: 'late0' });
  t.equal((await relay.dora('02:00:00:00:01:01', m0)).reply?.yiaddr, '10.1.1.2', 'serving srv0 meanwhile');

  // The cable is plugged in: the link appears, still without an address.
  let mark = server.lines.length;
  await lab.veth(srv, 'late0', cli, 'l0');
  const appeared = await server.waitFor(after(mark)((l) => l.event === 'interface-appeared'), 10_000, 'the new interface');
  t.match(appeared, { interface: 'late0', addresses: [] });
  await server.waitFor(after(mark)((l) => l.event === 'interface-no-address' && l.interface === 'late0'), 10_000, 'the no-address warning');
  mark = server.lines.length;
  await lab.ip(srv, 'addr', 'add', '10.2.2.1/24', 'dev', 'late0');
  t.match(await server.waitFor(after(mark)((l) => l.event === 'interface-changed'), 10_000, 'the address'), { interface: 'late0', addresses: ['10.2.2.1/24'] });
  const client = await Relay.direct(lab.netnsPath(cli), 'l0');
  t.teardown(() => client.close());
  let offer = await client.ask({ type: MESSAGE_TYPE.DISCOVER, mac: '02:00:00:00:02:01' });
  t.equal(typeOf(offer), MESSAGE_TYPE.OFFER, 'answered on the interface that appeared after the start');
  t.equal(offer?.options.get(OPTION.SERVER_ID), '10.2.2.1');
  t.match(offer?.yiaddr, /^10\.2\.2\.1(0\d|10)$/, 'from the pool of its subnet');

  // The address changes: the next answer names the new one.
  mark = server.lines.length;
  // (Deleting a primary address deletes its secondaries: the old one goes first.)
  await lab.ip(srv, 'addr', 'del', '10.2.2.1/24', 'dev', 'late0');
  await lab.ip(srv, 'addr', 'add', '10.2.2.2/24', 'dev', 'late0');
  await server.waitFor(after(mark)((l) => l.event === 'interface-changed' && JSON.stringify(l.addresses) === '["10.2.2.2/24"]'), 10_000, 'the changed address');
  offer = await client.ask({ type: MESSAGE_TYPE.DISCOVER, mac: '02:00:00:00:02:01' });
  t.equal(offer?.options.get(OPTION.SERVER_ID), '10.2.2.2', 'the new address is the server identifier');

  // Carrier lost and back: warned once, the end noted; a second loss warns again (a moment later
  // if it comes within a second of the last warning of its kind: the limit on a flapping link).
  const carrierMark = server.lines.length;
  for (let round = 1; round <= 2; round++) {
    mark = server.lines.length;
    await lab.ip(cli, 'link', 'set', 'l0', 'down');
    await server.waitFor(after(mark)((l) => l.event === 'interface-no-carrier' && l.interface === 'late0'), 10_000, 'the no-carrier warning');
    await lab.ip(cli, 'link', 'set', 'l0', 'up');
    await server.waitFor(after(mark)((l) => l.event === 'interface-no-carrier-ended' && l.interface === 'late0'), 10_000, 'carrier back');
  }
  t.equal(server.lines.slice(carrierMark).filter((l) => l.event === 'interface-no-carrier').length, 2, 'one warning per loss of carrier');

  // An address in none of the description's subnets: one warning, however often the link changes.
  mark = server.lines.length;
  await lab.ip(srv, 'addr', 'add', '192.168.77.1/24', 'dev', 'late0');
  await lab.ip(srv, 'addr', 'del', '10.2.2.2/24', 'dev', 'late0');
  await server.waitFor(after(mark)((l) => l.event === 'interface-no-subnet' && l.interface === 'late0'), 10_000, 'the no-subnet warning');
  for (const mtu of ['1400', '1450']) {
    const before = server.lines.length;
    await lab.ip(srv, 'link', 'set', 'late0', 'mtu', mtu);
    await server.waitFor(after(before)((l) => l.event === 'interface-changed' && l.mtu === Number(mtu)), 10_000, `MTU ${mtu}`);
  }
  t.equal(count('interface-no-subnet', 'late0'), 1, 'warned once while the condition lasts');

  // The link is deleted: its socket closes, logged; the server keeps serving the rest.
  mark = server.lines.length;
  await lab.ip(srv, 'link', 'del', 'late0');
  t.match(await server.waitFor(after(mark)((l) => l.event === 'interface-gone'), 10_000, 'the gone line'), { interface: 'late0', detail: /went away/ });
  t.equal(server.exitStatus, undefined, 'still running');
  t.equal((await relay.dora('02:00:00:00:01:01', m0)).reply?.yiaddr, '10.1.1.2', 'srv0 still served');
  await server.waitFor(after(mark)((l) => l.event === 'interface-missing' && l.interface === 'late0'), 10_000, 'missing again');

  // It comes back as a new link (another ifindex): a new socket, served again.
  mark = server.lines.length;
  await lab.veth(srv, 'late0', cli, 'l1');
  await lab.ip(srv, 'addr', 'add', '10.2.2.3/24', 'dev', 'late0');
  await server.waitFor(after(mark)((l) => l.event === 'interface-appeared' && l.interface === 'late0'), 10_000, 'the link back');
  await server.waitFor((l) => server.lines.indexOf(l) >= mark && (l.event === 'interface-appeared' || l.event === 'interface-changed') && JSON.stringify(l.addresses) === '["10.2.2.3/24"]', 10_000, 'its address');
  const again = await Relay.direct(lab.netnsPath(cli), 'l1');
  t.teardown(() => again.close());
  offer = await again.ask({ type: MESSAGE_TYPE.DISCOVER, mac: '02:00:00:00:02:02' });
  t.equal(offer?.options.get(OPTION.SERVER_ID), '10.2.2.3', 'answered on the new link');

  t.same(server.lines.filter((l) => l.level === 'error').map((l) => l.event), [], 'no error logged');
  server.signal('SIGTERM');
  t.same(await server.exited, { code: 0, signal: null });
});
