// Filer1 of examples/cluster.yaml on the wire: the exact objects, the payload size against the
// measured server limits, and the same topology as dhclient received it from real dhcpd, Kea and
// dnsmasq (captures in test/fixtures/wire/*.env, made with the key below; see README there).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Topology } from '../../../src/options/schema.js';
import {
  decodeTopology,
  encodeTopology,
  keyFingerprint,
  option43FromDhclientEnv,
  OPTION43_BUDGET,
  OPTION43_BUDGET_WITHOUT_MMS,
  parseSubOptions,
  subOptionsFromDhclientEnv,
  subOptionsToBytes,
  topologyWireSize,
  WireDecodeError,
} from '../../../src/options/wire/index.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/wire');
/** The key the captures were signed with. An example, not a secret of any real cluster. */
const EXAMPLE_KEY = Buffer.from('rackstrap-example-cluster-key-0001');

// Built by hand from examples/cluster.yaml: Filer1 uses template `standard` unchanged, is home of
// VsvrA, and of the MySQL roles whose home is Filer1 (MgmtNode, DataNode1, AppNode1).
const filer1: Topology = {
  filer: 'Filer1',
  generation: 1,
  stack: {
    bonds: { bond0: { mode: '802.3ad', members: ['eth0', 'eth1'], lacpRate: 'fast', hashPolicy: 'layer3+4', miimon: 100 } },
    failovers: { fail0: { members: ['eth2', 'eth3'], primary: 'eth2', miimon: 100 } },
    vlans: ['bond0.10', 'bond0.20', 'fail0.30', 'fail0.40'],
    aliases: { data0: 'bond0.10', data1: 'bond0.20', mgmt0: 'fail0', mgmt1: 'fail0.30', san0: 'fail0.40' },
    mtu: { bond0: 9000 },
  },
  vservers: [
    {
      name: 'VsvrA',
      table: 1,
      addresses: [
        { alias: 'data0', instance: 0 },
        { alias: 'data0', instance: 1 },
        { alias: 'data1', instance: 0 },
      ],
    },
  ],
  mysql: [
    { role: 'MySQLMgmtNode', aliases: ['mgmt0', 'mgmt1'] },
    { role: 'MySQLDataNode1', aliases: ['mgmt0', 'mgmt1'] },
    { role: 'MySQLAppNode1', aliases: ['mgmt0', 'mgmt1'] },
  ],
};

const OBJECTS = [
  [3, 'bond0 mode=802.3ad members=eth0+eth1 lacp_rate=fast xmit_hash_policy=layer3+4 miimon=100 mtu=9000'],
  [4, 'fail0 members=eth2+eth3 primary=eth2 miimon=100'],
  [5, 'data0 on=bond0.10'],
  [6, 'data1 on=bond0.20'],
  [7, 'mgmt0 on=fail0'],
  [8, 'mgmt1 on=fail0.30'],
  [9, 'san0 on=fail0.40'],
  [10, 'vs VsvrA table=1 addr=data0:0+data0:1+data1:0'],
  [11, 'mysql MySQLMgmtNode+MySQLDataNode1+MySQLAppNode1 on=mgmt0+mgmt1'],
] as const;

function readEnv(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(join(FIXTURES, file), 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

t.test('Filer1 unsigned: exact objects', async (t) => {
  const objs = encodeTopology(filer1);
  t.same(
    objs.map((o) => [o.code, o.text]),
    [[1, 'rackstrap/1.0 gen=1 count=10 filer=Filer1'], ...OBJECTS],
  );
  const decoded = decodeTopology(subOptionsToBytes(objs));
  t.same(decoded.topology, filer1);
  t.equal(decoded.signed, false);
  t.same(decoded.version, { major: 1, minor: 0 });
  t.same(decoded.skipped, []);
});

t.test('Filer1 signed: signature object at code 2, count includes it', async (t) => {
  const objs = encodeTopology(filer1, { key: EXAMPLE_KEY });
  t.equal(keyFingerprint(EXAMPLE_KEY), '5d4a3a7f');
  t.same(
    objs.map((o) => [o.code, o.text]),
    [
      [1, 'rackstrap/1.0 gen=1 count=11 filer=Filer1'],
      [2, 'hmac-sha256-128 key=5d4a3a7f mac=rR_iTAUBBdw726ApFcjYyw'],
      ...OBJECTS,
    ],
  );
  const decoded = decodeTopology(subOptionsToBytes(objs), { key: EXAMPLE_KEY, requireSignature: true, expectFiler: 'Filer1' });
  t.same(decoded.topology, filer1);
  t.equal(decoded.signed, true);
});

t.test('Filer1 fits the measured option 43 limits', async (t) => {
  const unsigned = topologyWireSize(filer1);
  const signed = topologyWireSize(filer1, { signed: true });
  t.equal(unsigned, 394);
  t.equal(signed, 451);
  t.equal(topologyWireSize(filer1, { key: EXAMPLE_KEY }), signed, 'sizing without the key gives the signed size');
  t.equal(subOptionsToBytes(encodeTopology(filer1, { key: EXAMPLE_KEY })).length, signed);
  t.ok(signed <= 480, `signed ${signed} bytes is under the ~480 bytes of shared/notes/dhcp-servers.md`);
  t.ok(signed <= OPTION43_BUDGET, 'signed fits the budget of all three servers with option 57');
  t.ok(unsigned <= OPTION43_BUDGET_WITHOUT_MMS.dhcpd, 'unsigned even fits dhcpd without option 57');
});

t.test('captures: what real servers delivered to dhclient decodes to Filer1', async (t) => {
  const want = subOptionsToBytes(encodeTopology(filer1, { key: EXAMPLE_KEY }));
  for (const server of ['dhcpd', 'kea', 'dnsmasq']) {
    const env = readEnv(`filer1-signed.${server}-mms.env`);
    const raw = option43FromDhclientEnv(env);
    t.ok(raw, `${server}: dhclient exported raw option 43`);
    if (!raw) continue;
    if (server === 'dnsmasq') {
      // Measured: dnsmasq sends sub-options in reverse config order and appends an end byte.
      t.equal(raw[raw.length - 1], 0xff, 'dnsmasq: end byte inside option 43');
      t.same(parseSubOptions(raw).map((o) => o.code), [11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    } else {
      t.equal(raw.toString('hex'), want.toString('hex'), `${server}: payload byte for byte as encoded`);
    }
    const opts = { key: EXAMPLE_KEY, requireSignature: true };
    const fromRaw = decodeTopology(raw, opts);
    const fromScriptEnv = decodeTopology(subOptionsFromDhclientEnv(env, 'rackstrap'), opts);
    t.same(fromRaw.topology, filer1, `${server}: raw option 43`);
    t.same(fromScriptEnv.topology, filer1, `${server}: new_rackstrap_o* variables`);
    t.ok(fromRaw.signed && fromScriptEnv.signed);
  }
});

t.test('capture: dnsmasq without option 57 cut option 43 and lost the header; refused', async (t) => {
  const env = readEnv('filer1-signed.dnsmasq-nomms.env');
  const raw = option43FromDhclientEnv(env)!;
  t.same(parseSubOptions(raw).map((o) => o.code), [11, 10, 9, 8, 7, 6, 5, 4]);
  t.throws(() => decodeTopology(raw), { code: 'RS_WIRE_NO_HEADER' });
  t.throws(() => decodeTopology(subOptionsFromDhclientEnv(env, 'rackstrap')), { code: 'RS_WIRE_NO_HEADER' });
  const err = (() => {
    try {
      decodeTopology(raw);
    } catch (e) {
      return e;
    }
  })();
  t.ok(err instanceof WireDecodeError);
});
