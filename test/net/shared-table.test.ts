// Virtual servers sharing one routing table: the table is one object with one default route.
// Before, each server added the table's default route, and the second `ip route add` failed with
// "File exists", so the whole change rolled back on every try.
import t from 'tap';
import { ConfigError } from '../../src/errors.js';
import { buildDesiredState, type DesiredInput } from '../../src/net/desired.js';
import { parseObservation } from '../../src/net/observe.js';
import { plan } from '../../src/net/plan.js';

const input = (gatewayB: string): DesiredInput => ({
  topology: { filer: 'F', generation: 1, stack: { bonds: {}, failovers: {}, vlans: [], aliases: { data0: 'eth0' }, mtu: {} } },
  vservers: [
    { name: 'VsA', table: 7, gateway: '10.2.2.254', addresses: [{ alias: 'data0', address: '10.2.2.1/24' }, { alias: 'data0', address: '10.2.2.5/24' }] },
    { name: 'VsB', table: 7, gateway: gatewayB, addresses: [{ alias: 'data0', address: '10.2.2.2/24' }] },
  ],
});

const fresh = parseObservation({
  link: [{ ifindex: 2, ifname: 'eth0', flags: ['UP'], mtu: 1500, operstate: 'UP', link_type: 'ether', address: '02:00:00:00:00:01' }],
  addr: [],
  route: [],
  rule: [],
  iptables: { ok: false, reason: 'not read' },
});

t.test('two servers in one table: one default route, owned by the table', async (t) => {
  const d = buildDesiredState(input('10.2.2.254'));
  const defaults = d.routes.filter((r) => r.table === 7 && r.dst === 'default');
  t.equal(defaults.length, 1, 'one default route in table 7');
  t.match(defaults[0], { gateway: '10.2.2.254', dev: 'data0', realm: 7 });
  t.match(defaults[0]?.owner, /table 7.*VsA.*VsB/, 'the route names the table and both servers');
  t.equal(d.rules.filter((r) => r.table === 7).length, 3, 'a rule per server address');

  const p = plan(d, fresh);
  const adds = p.steps.filter((s) => s.kind === 'route-add').map((s) => s.argv.join(' '));
  t.equal(adds.filter((a) => a.includes('default')).length, 1, 'the plan adds the default route once');
  // Two routes to one prefix in one table are only accepted by the kernel as `append`.
  const slots = adds.map((a) => a.replace(/ src \S+/, ''));
  const dup = slots.filter((a, i) => slots.indexOf(a) !== i);
  t.ok(dup.every((a) => a.startsWith('ip route append')), `repeated prefixes are appended (${dup.join('; ')})`);
});

t.test('two servers in one table with different gateways: refused, naming both', async (t) => {
  let err: unknown;
  try {
    buildDesiredState(input('10.2.2.253'));
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof ConfigError, 'a ConfigError');
  t.match((err as Error).message, /VsB shares table 7 with VsA, whose gateway is 10\.2\.2\.254/);
});
