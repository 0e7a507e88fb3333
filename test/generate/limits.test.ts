// The per-server option 43 limits: the model reproduces both measured scopes, keeps the relay
// margin, shrinks with bigger scopes, and the check names filer, size, limit and subnet.
import t from 'tap';
import { join } from 'node:path';
import { loadClusterFile } from '../../src/options/load.js';
import type { ResolvedSubnet } from '../../src/options/resolve.js';
import { buildGenModel } from '../../src/generate/model.js';
import { checkServerLimits, option43Footprint, option43Limit, RELAY_MARGIN, SERVER_LIMITS, SERVER_TARGETS } from '../../src/generate/limits.js';
import { TopologyTooBigError } from '../../src/generate/errors.js';

function subnet(over: Partial<ResolvedSubnet>): ResolvedSubnet {
  return {
    prefix: '10.1.1.0/24',
    family: 4,
    network: '10.1.1.0',
    prefixLength: 24,
    netmask: '255.255.255.0',
    routers: ['10.1.1.254'],
    dns: ['10.1.1.53'],
    ntp: ['10.1.1.123'],
    domain: 'lab.example',
    leaseTime: 86400,
    pool: undefined,
    bootstrap: { start: '10.1.1.200', end: '10.1.1.215' },
    ...over,
  };
}

const ID = 35; // <cluster ID>:<base MAC>

t.test('at the measured scope: the measured maximum minus the relay margin', async (t) => {
  for (const s of SERVER_TARGETS) {
    const limit = option43Limit(s, subnet({}), ID);
    const l = SERVER_LIMITS[s];
    t.ok(option43Footprint(limit + l.endByte) <= option43Footprint(l.measuredOption43 + l.endByte) - RELAY_MARGIN, `${s}: ${limit} keeps the margin`);
    t.ok(l.measuredOption43 - limit >= RELAY_MARGIN - 2 && l.measuredOption43 - limit <= RELAY_MARGIN + 4, `${s}: ${limit} is about the margin below ${l.measuredOption43}`);
  }
  t.same(SERVER_TARGETS.map((s) => option43Limit(s, subnet({}), ID)), [1302, 1082, 1096]);
});

t.test('the second measured scope (3 DNS servers, a 32-byte domain) is predicted', async (t) => {
  // Measured: dhcpd 1320 intact / 1340 dropped; Kea 1100 / 1110 no reply; dnsmasq 1110 / 1120 cut.
  const measured = { dhcpd: [1320, 1340], kea: [1100, 1110], dnsmasq: [1110, 1120] } as const;
  const big = subnet({ dns: ['10.1.1.53', '10.1.1.54', '10.1.1.55'], domain: 'a-much-longer-domain.example.com' });
  for (const s of SERVER_TARGETS) {
    const predicted = option43Limit(s, big, ID) + RELAY_MARGIN;
    t.ok(predicted >= measured[s][0] - 2 && predicted < measured[s][1], `${s}: ~${predicted} between ${measured[s][0]} and ${measured[s][1]}`);
  }
});

t.test('more options on the subnet, longer identifiers: less room', async (t) => {
  for (const s of SERVER_TARGETS) {
    const base = option43Limit(s, subnet({}), ID);
    t.ok(option43Limit(s, subnet({ routers: ['10.1.1.254', '10.1.1.253'] }), ID) < base, `${s}: a second router`);
    t.ok(option43Limit(s, subnet({ domain: undefined, dns: [], ntp: [] }), ID) > base, `${s}: a bare subnet`);
    t.ok(option43Limit(s, subnet({}), ID + 10) < base, `${s}: a longer echoed client id`);
  }
});

t.test('checkServerLimits: the tightest bootstrap subnet counts; too big names filer, size, limit, subnet', async (t) => {
  const m = buildGenModel(await loadClusterFile(join(process.cwd(), 'examples/cluster.yaml')));
  t.same(checkServerLimits(m, 'kea'), [
    { filer: 'Filer1', size: 409, limit: 1082, subnet: '10.1.1.0/24' },
    { filer: 'Filer2', size: 549, limit: 1082, subnet: '10.1.1.0/24' },
  ]);
  // A second bootstrap subnet with a long domain: its smaller limit is the one reported.
  const tight = subnet({ prefix: '10.9.0.0/24', network: '10.9.0.0', domain: 'x'.repeat(200) });
  const model = { ...m, bootstrapSubnets: [...m.bootstrapSubnets, tight] };
  const fits = checkServerLimits(model, 'dnsmasq');
  t.equal(fits[0]!.subnet, '10.9.0.0/24');
  t.equal(fits[0]!.limit, option43Limit('dnsmasq', tight, ID));
  const tiny = { ...m, filers: m.filers.map((f) => (f.filer === 'Filer2' ? { ...f, wireSize: 2000 } : f)) };
  t.throws(() => checkServerLimits(tiny, 'dhcpd'), TopologyTooBigError);
  try {
    checkServerLimits(tiny, 'dhcpd');
  } catch (e) {
    const err = e as TopologyTooBigError;
    t.same([err.code, err.filer, err.size, err.limit, err.subnet], ['RS_GEN_TOO_BIG', 'Filer2', 2000, 1302, '10.1.1.0/24']);
    t.equal(
      err.message.split(';')[0],
      'Filer2: topology is 2000 bytes of option 43, over the 1302 bytes ISC dhcpd 4.4 delivers intact on 10.1.1.0/24 (past that it drops option 43 entirely, without a log line)',
    );
  }
});
