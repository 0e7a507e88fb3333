// The shapes the CLI checks replies and the status file with (no zod at start-up) are generated
// from the zod schemas: the checked-in modules must be what the schemas give now, and the checker
// must agree with zod on valid values and on every single-point change of them (a key removed, a
// value of another type, an unknown key), for every reply type and the status file.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AgentStatus } from '../../src/bootstrap/status.js';
import { REPLIES, Reply, type CommandName } from '../../src/control/protocol.js';
import { checkShape, unknownKeyword, type Shape } from '../../src/json-shape/check.js';
import { generatedShapes, shapeOf } from '../../src/packaging/shapes.js';

t.test('the generated shape modules are what the zod schemas give now', async (t) => {
  for (const [file, text] of Object.entries(generatedShapes())) {
    t.equal(readFileSync(file, 'utf8'), text, `${file} is up to date (regenerate: node dist/src/packaging/write-shapes.js)`);
  }
});

const AT = '2026-12-04T10:00:00.000Z';
const counter = { packets: 3, bytes: 300 };
const inout = { in: counter, out: { packets: 1, bytes: 60 } };
const lease = { identifier: '02:00:00:00:AA:00:mgmt0:Filer1', kind: 'filer', alias: 'mgmt0', address: '10.1.1.2/24', expiresAt: AT, serverId: '10.1.1.250', state: 'bound' };
const drift = {
  policy: 'repair', checks: 2, lastCheckAt: AT, lastTrigger: 'timer', items: [{ kind: 'address', target: 'data0 10.2.2.3/24', reason: 'missing' }],
  conflicts: ['route 10.9.0.0/16'], health: [{ ifname: 'eth1', role: 'nic', problem: 'no-carrier', message: 'eth1 has no carrier' }],
  repairs: 1, lastRepair: { at: AT, steps: 1, what: ['address data0'] }, lastError: null,
};
const SAMPLES: Record<CommandName, unknown> = {
  info: {
    protocol: 1, agentVersion: '0.1.0', pid: 42, startedAt: AT, mode: 'dhcp', filer: 'Filer1', generation: 3, source: 'dhcp', clusterId: '02:00:00:00:AA:00',
    reconcile: 'repair', lastApply: { at: AT, steps: 4, what: 'generation 3' }, lastError: null,
    watch: { datagrams: 1, events: 2, batches: 1, overflows: 0, resyncs: 0, skipped: 0 }, drift: { checks: 1, repairs: 0, differences: 0, conflicts: 0, health: 0 },
  },
  links: {
    links: [{ ifname: 'bond0', kind: 'bond', role: 'bond', owned: true, up: true, carrier: true, master: null, mtu: 1500, rx: counter, tx: null, lacp: ['distributing'] }],
    health: drift.health,
    switchProblems: [{ kind: 'lacp-no-partner', ifname: 'eth0', message: 'eth0 has no LACP partner', fix: 'put the port in a LACP group' }],
  },
  leases: { leases: [lease, { identifier: 'x', kind: 'vserver', alias: 'data0', state: 'selecting', expiresAt: null }] },
  cache: { dir: '/var/lib/rackstrap', generation: null, writtenAt: null },
  features: { features: [{ name: 'accounting', on: false, flag: '--no-accounting' }] },
  stats: {
    epoch: 1, since: AT, source: 'iptables', note: null,
    servers: [{ server: 'VsvrA', in: counter, out: counter, protocols: { tcp: inout, udp: inout, icmp: inout }, addresses: [{ address: '10.2.2.3', in: counter, out: counter }] }],
    devices: [{ ifname: 'eth0', rx: counter, tx: counter, rxErrors: 0, txErrors: 0, rxDropped: 1, txDropped: 0 }],
  },
  drift,
  renew: { renewing: true },
  release: { released: false },
  reapply: { steps: 0 },
  'zero-stats': { epoch: 2, since: AT },
};
const STATUS = {
  version: 1, pid: 4242, daemon: true, mode: 'dhcp', startedAt: AT, updatedAt: AT, clusterId: '02:00:00:00:AA:00', baseMac: '02:00:00:00:01:00', source: 'dhcp',
  topology: {
    filer: 'Filer1', generation: 3,
    stack: { bonds: { bond0: { mode: '802.3ad', members: ['eth0', 'eth1'] } }, failovers: { fail0: { members: ['eth2', 'eth3'] } }, vlans: ['bond0.10'], aliases: { data0: 'bond0.10', mgmt0: 'fail0' }, mtu: {} },
    vservers: [{ name: 'VsvrA', table: 1, gateway: '10.2.2.1', addresses: [{ alias: 'data0', instance: 0 }] }],
    mysql: [{ role: 'MySQLMgmtNode', aliases: ['mgmt0'] }],
  },
  nics: { eth0: 'ens3' }, addresses: [{ dev: 'mgmt0', address: '10.1.1.2/24', owner: 'filer Filer1' }], leases: [lease],
  cache: { dir: '/var/lib/rackstrap', generation: 3, writtenAt: AT }, keyId: null, featuresOff: [], lastApply: null, lastError: null,
  rogueServers: [{ what: 'topology', from: '10.1.1.9', interface: 'eth0', reason: 'not signed', firstSeen: AT, lastSeen: AT, count: 2 }],
  drift,
};

/** Every value one change away from `v`: each node replaced by values of other types, each key removed, an unknown key added. */
function* changes(v: unknown): Generator<[string, unknown]> {
  for (const other of [null, 7, -1.5, 'x', AT, true, [], {}]) if (JSON.stringify(other) !== JSON.stringify(v)) yield [`= ${JSON.stringify(other)}`, other];
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) for (const [what, c] of changes(v[i])) yield [`[${i}] ${what}`, v.map((x, j) => (j === i ? c : x))];
    if (v.length > 0) yield ['emptied', []];
  } else if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    yield ['+unknownKey', { ...o, unknownKey: 1 }];
    for (const k of Object.keys(o)) {
      const { [k]: _, ...rest } = o;
      yield [`-${k}`, rest];
      for (const [what, c] of changes(o[k])) yield [`.${k} ${what}`, { ...o, [k]: c }];
    }
  }
}

function agree(t: Test, name: string, schema: z.ZodType, shape: Shape, sample: unknown): void {
  const valid = schema.safeParse(sample);
  t.ok(valid.success, `${name}: the sample is valid`);
  t.same(checkShape(shape, sample), { ok: true, value: valid.data }, `${name}: the checker returns what zod returns`);
  let n = 0;
  const disagree: string[] = [];
  for (const [what, changed] of changes(sample)) {
    n++;
    const z1 = schema.safeParse(changed);
    const c = checkShape(shape, changed);
    if (z1.success !== c.ok || (z1.success && c.ok && JSON.stringify(z1.data) !== JSON.stringify(c.value))) disagree.push(`${what}: zod ${z1.success ? 'accepts' : 'refuses'}, the checker ${c.ok ? 'accepts' : `refuses (${c.path}: ${c.message})`}`);
  }
  t.ok(n > 10, `${name}: ${n} changed values tried`);
  t.same(disagree, [], `${name}: zod and the checker agree on every changed value`);
}

t.test('every shape uses only what the checker knows', async (t) => {
  for (const [name, shape] of [['status', shapeOf(AgentStatus)], ['reply', shapeOf(Reply)], ...Object.entries(REPLIES).map(([c, s]) => [c, shapeOf(s)] as const)] as const) {
    t.equal(unknownKeyword(shape), undefined, name);
  }
});

t.test('the checker and zod agree on every reply type, the reply envelope and the status file', async (t) => {
  for (const [c, schema] of Object.entries(REPLIES) as Array<[CommandName, z.ZodType]>) agree(t, c, schema, shapeOf(schema), SAMPLES[c]);
  agree(t, 'reply envelope (ok)', Reply, shapeOf(Reply), { v: 1, id: 3, ok: true, command: 'cache', result: SAMPLES.cache });
  agree(t, 'reply envelope (error)', Reply, shapeOf(Reply), { v: 1, id: null, ok: false, error: { code: 'RS_DENIED', message: 'no' } });
  agree(t, 'status file', AgentStatus, shapeOf(AgentStatus), STATUS);
});

t.test('a mismatch says where and what', async (t) => {
  t.same(checkShape(shapeOf(REPLIES.links), { ...(SAMPLES.links as object), links: [{ ...(SAMPLES.links as { links: object[] }).links[0], mtu: 'big' }] }), {
    ok: false,
    path: 'links[0].mtu',
    message: 'expected integer, got string "big"',
  });
  t.match(checkShape(shapeOf(AgentStatus), { ...STATUS, startedAt: 'yesterday' }), { ok: false, path: 'startedAt', message: /^not date-time: "yesterday"$/ });
  t.match(checkShape(shapeOf(AgentStatus), { ...STATUS, version: 2 }), { ok: false, path: 'version', message: 'expected 1, got number 2' });
});
