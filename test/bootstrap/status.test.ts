// The status file: written atomically next to the cache, read back through its schema, and shown
// by `rackstrap status` as a tree from each alias down to its NICs, with leases and the last error.
import t from 'tap';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readStatus, statusPath, writeStatus, type AgentStatus } from '../../src/bootstrap/status.js';
import { renderStackTree, renderStatus } from '../../src/bootstrap/status-render.js';
import type { Stack } from '../../src/options/schema.js';

const STACK: Stack = {
  bonds: { bond0: { mode: '802.3ad', members: ['eth0', 'eth1'] } },
  failovers: { fail0: { members: ['eth2', 'eth3'] } },
  vlans: ['bond0.10', 'fail0.30'],
  aliases: { data0: 'bond0.10', mgmt0: 'fail0', mgmt1: 'fail0.30' },
  mtu: {},
};

const status = (over: Partial<AgentStatus> = {}): AgentStatus => ({
  version: 1,
  pid: 4242,
  daemon: true,
  mode: 'dhcp',
  startedAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:01.000Z',
  clusterId: '02:00:00:00:AA:00',
  baseMac: '02:00:00:00:01:00',
  source: 'dhcp',
  topology: { filer: 'Filer1', generation: 3, stack: STACK, vservers: [], mysql: [] },
  nics: { eth0: 'ens3', eth1: 'eth1', eth2: 'eth2', eth3: 'eth3' },
  addresses: [
    { dev: 'mgmt0', address: '10.1.1.2/24', owner: 'filer Filer1' },
    { dev: 'mgmt0', address: '10.1.1.10/24', owner: 'MySQLMgmtNode' },
  ],
  leases: [
    { identifier: '02:00:00:00:AA:00:mgmt0:Filer1', kind: 'filer', alias: 'mgmt0', address: '10.1.1.2/24', expiresAt: '2026-01-01T01:00:00.000Z', serverId: '10.1.1.250', state: 'bound' },
    { identifier: '02:00:00:00:AA:00:mgmt1:Filer1', kind: 'filer', alias: 'mgmt1', state: 'selecting' },
  ],
  cache: { dir: '/var/lib/rackstrap', generation: 3, writtenAt: '2026-01-01T00:00:01.000Z' },
  keyId: null,
  featuresOff: ['accounting'],
  lastApply: { at: '2026-01-01T00:00:01.000Z', steps: 40, what: 'generation 3 from DHCP' },
  lastError: { at: '2026-01-01T00:00:00.500Z', code: 'RS_STEP', message: 'step 7 failed' },
  ...over,
});

t.test('the stack as a tree from the aliases down; addresses on their alias; NIC map shown', async (t) => {
  t.same(renderStackTree(STACK, { nics: { eth0: 'ens3' }, addresses: status().addresses }), [
    'data0 [alias]',
    '└─ bond0.10 [VLAN 10]',
    '   └─ bond0 [bond 802.3ad]',
    '      ├─ eth0 [NIC ens3]',
    '      └─ eth1 [NIC]',
    'mgmt0 [alias]  10.1.1.2/24 (filer Filer1), 10.1.1.10/24 (MySQLMgmtNode)',
    '└─ fail0 [failover active-backup]',
    '   ├─ eth2 [NIC]',
    '   └─ eth3 [NIC]',
    'mgmt1 [alias]',
    '└─ fail0.30 [VLAN 30]',
    '   └─ fail0 [failover active-backup]',
    '      ├─ eth2 [NIC]',
    '      └─ eth3 [NIC]',
  ]);
});

t.test('status text: state, generation, cache, leases with expiry, last error', async (t) => {
  const text = renderStatus(status(), { running: true, now: new Date('2026-01-01T00:00:10.000Z') });
  t.match(text, /^agent: running \(pid 4242\), configured from DHCP\n/);
  t.match(text, /filer: Filer1  generation 3  cluster 02:00:00:00:AA:00/);
  t.match(text, /cache: \/var\/lib\/rackstrap  generation 3, written 2026-01-01T00:00:01.000Z/);
  t.match(text, /features off: accounting/);
  t.match(text, /leases \(1\/2\):\n  identifier +address +expires +server +state\n  02:00:00:00:AA:00:mgmt0:Filer1 +10\.1\.1\.2\/24 +2026-01-01T01:00:00\.000Z \(in 3590 s\) +10\.1\.1\.250 +bound\n  02:00:00:00:AA:00:mgmt1:Filer1 +- +- +- +selecting/);
  t.match(text, /last error: 2026-01-01T00:00:00.500Z RS_STEP: step 7 failed/);
  t.match(renderStatus(status({ mode: 'cache', source: 'cache' }), { running: false }), /^agent: not running \(pid 4242 gone\), configured from the cache/);
  t.match(renderStatus(status({ mode: 'down', topology: null, daemon: false, lastError: null }), { running: false }), /torn down[\s\S]*last error: none/);
});

t.test('written atomically (0600, no temp left), read back through the schema', async (t) => {
  const dir = t.testdir({});
  const s = status();
  await writeStatus(dir, s);
  t.same(await readStatus(dir), s);
  t.equal(statSync(statusPath(dir)).mode & 0o777, 0o600);
  await t.rejects(readStatus(join(dir, 'nowhere')), { code: 'RS_STATUS', message: /the agent has not run with this cache directory/ });
  writeFileSync(statusPath(dir), '{"version": 99}');
  await t.rejects(readStatus(dir), { code: 'RS_STATUS', message: /not a status this version understands/ });
});
