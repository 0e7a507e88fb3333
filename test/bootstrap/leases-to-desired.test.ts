// Leases -> desired state: the identifiers a topology asks for, and what their leases build
// (filer and MySQL addresses on mgmt#/san#, each home server's table with its default route).
// Topologies come from the agent's flat test cluster, as the server would send them.
import t from 'tap';
import type { Lease } from '../../src/cache/cache-entry.js';
import { addressRequests, managementAliases } from '../../src/bootstrap/address-requests.js';
import { desiredInputFor, leaseRecord, leasesFor, type LeaseMap } from '../../src/bootstrap/leases-to-desired.js';
import type { DhcpLease } from '../../src/dhcp-client/index.js';
import { buildDesiredState } from '../../src/net/desired.js';
import { loadClusterFile } from '../../src/options/load.js';
import { topologyFor } from '../../src/options/resolve.js';
import type { Topology } from '../../src/options/schema.js';

const CID = '02:00:00:00:AA:00';
const FLAT = 'test/fixtures/agent/cluster-flat.yaml';

const topology = async (filer: string): Promise<Topology> => topologyFor(await loadClusterFile(FLAT), filer);

function dhcpLease(identifier: string, iface: string, address: string, prefixLength: number, routers: string[]): DhcpLease {
  return {
    identifier,
    interface: iface,
    address,
    prefixLength,
    broadcast: '0.0.0.0',
    routers,
    dns: ['10.1.1.53'],
    ntp: [],
    serverId: '10.1.1.250',
    leaseTime: 3600,
    t1: 1800,
    t2: 3150,
    obtainedAt: Date.parse('2026-01-01T00:00:00Z'),
    expiresAt: Date.parse('2026-01-01T01:00:00Z'),
  };
}

t.test('the identifiers of Filer1: filer ids on mgmt#/san#, home servers on data#, MySQL roles on mgmt#', async (t) => {
  const reqs = addressRequests(await topology('Filer1'), CID);
  t.same(
    reqs.map((r) => `${r.kind} ${r.alias} ${r.identifier}`),
    [
      `filer mgmt0 ${CID}:mgmt0:Filer1`,
      `filer san0 ${CID}:san0:Filer1`,
      `vserver data0 ${CID}:data0:VsvrA:0`,
      `vserver data0 ${CID}:data0:VsvrA:1`,
      `vserver data1 ${CID}:data1:VsvrA:0`,
      `mysql mgmt0 ${CID}:mgmt0:MySQLMgmtNode`,
      `mysql mgmt0 ${CID}:mgmt0:MySQLDataNode1`,
    ],
  );
  t.same(reqs.find((r) => r.kind === 'vserver'), { kind: 'vserver', identifier: `${CID}:data0:VsvrA:0`, alias: 'data0', vserver: 'VsvrA', instance: 0, table: 1 });
  t.same(managementAliases(await topology('Filer1')), ['mgmt0']);
});

t.test('a VLAN of an alias is addressable too; data# without a home server asks nothing', async (t) => {
  const topo: Topology = {
    filer: 'F',
    generation: 3,
    stack: { bonds: {}, failovers: {}, vlans: ['mgmt0.7', 'eth1.5'], aliases: { mgmt0: 'eth0', data3: 'eth1', san1: 'eth1.5' }, mtu: {} },
    vservers: [],
    mysql: [],
  };
  t.same(addressRequests(topo, CID).map((r) => r.identifier), [`${CID}:mgmt0:F`, `${CID}:mgmt0.7:F`, `${CID}:san1:F`]);
});

t.test('Filer1 leases build the seed 000 state: addresses, table 1 with realm and default route, rules', async (t) => {
  const topo = await topology('Filer1');
  const reqs = addressRequests(topo, CID);
  const got: Record<string, [string, number, string[]]> = {
    [`${CID}:mgmt0:Filer1`]: ['10.1.1.2', 24, ['10.1.1.254']],
    [`${CID}:san0:Filer1`]: ['10.2.2.2', 24, ['10.2.2.254']],
    [`${CID}:data0:VsvrA:0`]: ['10.2.2.1', 24, ['10.2.2.254']],
    // A router off the lease's subnet is no gateway for it.
    [`${CID}:data0:VsvrA:1`]: ['10.3.3.1', 16, ['192.0.2.1', '10.3.255.254']],
    [`${CID}:data1:VsvrA:0`]: ['10.2.2.3', 24, ['10.2.2.254']],
    [`${CID}:mgmt0:MySQLMgmtNode`]: ['10.1.1.10', 24, ['10.1.1.254']],
    [`${CID}:mgmt0:MySQLDataNode1`]: ['10.1.1.12', 24, ['10.1.1.254']],
  };
  const leases: LeaseMap = {};
  for (const r of reqs) {
    const [address, len, routers] = got[r.identifier]!;
    leases[r.identifier] = leaseRecord(r, dhcpLease(r.identifier, r.alias, address, len, routers));
  }
  const a1 = leases[`${CID}:data0:VsvrA:1`] as Extract<Lease, { kind: 'vserver' }>;
  t.equal(a1.gateway, '10.3.255.254', 'the first on-link router is the server gateway');
  t.equal(a1.leaseExpiry, '2026-01-01T01:00:00.000Z');
  t.same(a1.dns, ['10.1.1.53']);

  const input = desiredInputFor({ topology: topo, clusterId: CID, nics: { eth0: 'eth0', eth1: 'eth1' }, leases });
  t.same(input.filerAddresses, [
    { alias: 'mgmt0', address: '10.1.1.2/24', broadcast: '0.0.0.0', router: '10.1.1.254' },
    { alias: 'san0', address: '10.2.2.2/24', broadcast: '0.0.0.0', router: '10.2.2.254' },
    { alias: 'mgmt0', address: '10.1.1.10/24', broadcast: '0.0.0.0', router: '10.1.1.254' },
    { alias: 'mgmt0', address: '10.1.1.12/24', broadcast: '0.0.0.0', router: '10.1.1.254' },
  ]);
  const d = buildDesiredState(input);
  t.same(d.addresses.map((a) => `${a.dev} ${a.local}/${a.prefixlen} ${a.prefixRoute ? 'prefixroute' : 'noprefixroute'}`), [
    'mgmt0 10.1.1.2/24 prefixroute',
    'san0 10.2.2.2/24 prefixroute',
    'mgmt0 10.1.1.10/24 prefixroute',
    'mgmt0 10.1.1.12/24 prefixroute',
    'data0 10.2.2.1/24 noprefixroute',
    'data0 10.3.3.1/16 noprefixroute',
    'data1 10.2.2.3/24 noprefixroute',
  ]);
  t.same(d.routes.map((r) => `${r.table} ${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev}${r.realm ? ` realm ${r.realm}` : ''}`), [
    '254 default via 10.1.1.254 dev mgmt0',
    '1 10.2.2.0/24 dev data0 realm 1',
    '1 10.3.0.0/16 dev data0 realm 1',
    '1 10.2.2.0/24 dev data1 realm 1',
    '1 default via 10.2.2.254 dev data0 realm 1',
  ]);
  t.same(d.rules.map((r) => `${r.priority} from ${r.src}/${r.srclen} table ${r.table} realms ${r.realmFrom}/${r.realmTo}`), [
    '31000 from 10.2.2.1/32 table 1 realms 1/1',
    '31000 from 10.3.3.1/32 table 1 realms 1/1',
    '31000 from 10.2.2.3/32 table 1 realms 1/1',
  ]);
  t.same(d.counters.map((c) => `${c.server} ${c.address}`), ['VsvrA 10.2.2.1', 'VsvrA 10.3.3.1', 'VsvrA 10.2.2.3']);
});

t.test('leases of another generation or filer are left out; missing ones leave the alias bare', async (t) => {
  const topo = await topology('Filer2');
  const stale: Lease = {
    kind: 'filer', alias: 'mgmt1', address: '10.1.1.99', prefixLength: 24, routers: [], serverId: '10.1.1.250',
    leaseStart: '2026-01-01T00:00:00.000Z', leaseExpiry: null,
  };
  const mine: Lease = { ...stale, alias: 'mgmt0', address: '10.1.1.4' };
  const all: LeaseMap = { [`${CID}:mgmt1:Filer2`]: stale, [`${CID}:mgmt0:Filer1`]: { ...stale, address: '10.1.1.2' }, [`${CID}:mgmt0:Filer2`]: mine };
  t.same(Object.keys(leasesFor(topo, CID, all)), [`${CID}:mgmt0:Filer2`]);
  const d = buildDesiredState(desiredInputFor({ topology: topo, clusterId: CID, nics: { eth0: 'eth0', eth1: 'eth1', eth2: 'eth2' }, leases: all }));
  t.same(d.addresses.map((a) => `${a.dev} ${a.local}`), ['mgmt0 10.1.1.4']);
  t.same(d.routes, [], 'no router, no default route; no server address, no table');
  t.same(d.links.map((l) => l.ifname), ['eth2', 'data0', 'data1', 'eth1', 'data2', 'eth0', 'mgmt0', 'san0'], 'the stack is built whatever the leases');
});

t.test("a server's gateway comes from the topology, not from the first router of its leases", async (t) => {
  // Here VsvrA's gateway is another router of its subnet than the one the leases name first.
  const base = await topology('Filer1');
  const topo: Topology = { ...base, vservers: base.vservers.map((v) => (v.name === 'VsvrA' ? { ...v, gateway: '10.2.2.1' } : v)) };
  const got: Record<string, [string, number, string[]]> = {
    [`${CID}:mgmt0:Filer1`]: ['10.1.1.2', 24, ['10.1.1.254']],
    [`${CID}:data0:VsvrA:0`]: ['10.2.2.10', 24, ['10.2.2.254', '10.2.2.1']],
    [`${CID}:data0:VsvrA:1`]: ['10.3.3.1', 16, ['10.3.255.254']],
  };
  const leases: LeaseMap = {};
  for (const r of addressRequests(topo, CID)) {
    const g = got[r.identifier];
    if (g !== undefined) leases[r.identifier] = leaseRecord(r, dhcpLease(r.identifier, r.alias, g[0], g[1], g[2]));
  }
  const nics = { eth0: 'eth0', eth1: 'eth1' };
  const defaultOf = (x: Topology, l: LeaseMap) => buildDesiredState(desiredInputFor({ topology: x, clusterId: CID, nics, leases: l })).routes.find((r) => r.table === 1 && r.dst === 'default');
  t.equal(defaultOf(topo, leases)?.gateway, '10.2.2.1', "the topology's gateway");
  // A topology without one (format 1.0) still falls back to the lease's first on-link router.
  const old: Topology = { ...topo, vservers: topo.vservers.map(({ gateway: _g, ...v }) => v) };
  t.equal(defaultOf(old, leases)?.gateway, '10.2.2.254');
  // No address on the gateway's subnet yet: no default route until one arrives.
  const only16 = { [`${CID}:data0:VsvrA:1`]: leases[`${CID}:data0:VsvrA:1`]! };
  t.equal(defaultOf(topo, only16), undefined);
});
