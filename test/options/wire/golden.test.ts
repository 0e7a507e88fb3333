// Filer1 of examples/cluster.yaml on the wire: the exact objects, the payload size against the
// measured server limits, and the same topology as dhclient received it from real dhcpd, Kea and
// dnsmasq (captures in test/fixtures/wire/*.env, made with the key below by the format 1.0 writer;
// see README there): what an older server sent is still read.
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
  type AddressFacts,
} from '../../../src/options/wire/index.js';
import { encodeTopology as encodeTopology10 } from '../../helpers/wire-1.0/index.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/wire');
/** The key the captures were signed with. An example, not a secret of any real cluster. */
const EXAMPLE_KEY = Buffer.from('rackstrap-example-cluster-key-0001');

// Built by hand from examples/cluster.yaml: Filer1 uses template `standard` unchanged, is home of
// VsvrA, and of the MySQL roles whose home is Filer1 (MgmtNode, DataNode1, AppNode1).
const filer1WithoutGateway: Topology = {
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
/** Format 1.1 carries VsvrA's gateway. */
const filer1: Topology = { ...filer1WithoutGateway, vservers: [{ ...filer1WithoutGateway.vservers[0]!, gateway: '10.2.2.254' }] };

// What the servers of examples/cluster.yaml hand out for Filer1's identifiers (by hand from the
// file: the address, its subnet's prefix length and the subnet's router).
const CID = '00:07:34:04:12:0E';
const fact = (id: string, address: string, prefixLength: number, router: string): AddressFacts => ({ identifier: `${CID}:${id}`, address, prefixLength, router });
const FILER1_ADDRESSES: AddressFacts[] = [
  fact('mgmt0:Filer1', '10.1.1.2', 24, '10.1.1.254'),
  fact('mgmt1:Filer1', '10.1.1.3', 24, '10.1.1.254'),
  fact('san0:Filer1', '10.2.2.2', 24, '10.2.2.254'),
  fact('data0:VsvrA:0', '10.2.2.1', 24, '10.2.2.254'),
  fact('data0:VsvrA:1', '10.3.3.1', 16, '10.3.255.254'),
  fact('data1:VsvrA:0', '10.2.2.3', 24, '10.2.2.254'),
  fact('mgmt0:MySQLMgmtNode', '10.1.1.10', 24, '10.1.1.254'),
  fact('mgmt1:MySQLMgmtNode', '10.1.1.11', 24, '10.1.1.254'),
  fact('mgmt0:MySQLDataNode1', '10.1.1.12', 24, '10.1.1.254'),
  fact('mgmt1:MySQLDataNode1', '10.1.1.13', 24, '10.1.1.254'),
  fact('mgmt0:MySQLAppNode1', '10.1.1.16', 24, '10.1.1.254'),
  fact('mgmt1:MySQLAppNode1', '10.1.1.17', 24, '10.1.1.254'),
];
const FILER1_REQUEST = { clusterId: CID, baseMac: '00:07:34:10:00:01' };
const SIGNING = { key: EXAMPLE_KEY, addresses: FILER1_ADDRESSES, binding: FILER1_REQUEST };

const OBJECTS = [
  [3, 'bond0 mode=802.3ad members=eth0+eth1 lacp_rate=fast xmit_hash_policy=layer3+4 miimon=100 mtu=9000'],
  [4, 'fail0 members=eth2+eth3 primary=eth2 miimon=100'],
  [5, 'data0 on=bond0.10'],
  [6, 'data1 on=bond0.20'],
  [7, 'mgmt0 on=fail0'],
  [8, 'mgmt1 on=fail0.30'],
  [9, 'san0 on=fail0.40'],
  [10, 'vs VsvrA table=1 addr=data0:0+data0:1+data1:0 ~gw=10.2.2.254'],
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
    [[1, 'rackstrap/1.1 gen=1 count=10 filer=Filer1'], ...OBJECTS],
  );
  const decoded = decodeTopology(subOptionsToBytes(objs));
  t.same(decoded.topology, filer1);
  t.equal(decoded.signed, false);
  t.same(decoded.version, { major: 1, minor: 1 });
  t.same(decoded.skipped, []);
  t.same(decoded.addressTags, [], 'no tags without the key (they are keyed MACs)');
});

t.test('Filer1 signed: signature bound to the request at code 2, address tags last, count includes both', async (t) => {
  const objs = encodeTopology(filer1, SIGNING);
  t.equal(keyFingerprint(EXAMPLE_KEY), '5d4a3a7f');
  t.same(
    objs.map((o) => [o.code, o.text]),
    [
      [1, 'rackstrap/1.1 gen=1 count=12 filer=Filer1'],
      [2, 'hmac-sha256-128 key=5d4a3a7f mac=5WU2yPZUHdt-tAxATAZZww ~to=xTOXgx3VV-PSAREBGnE2xQ'],
      ...OBJECTS,
      [12, '~addr 5j-6Skbs8b6B82p-8hs9I1DYILsPdZW_IYEVCHBeO_kSSgfQXiwYmVLQXs5wscGDcQxaoOnEkPknO4FNpwCsyDhuySPjWvYW'],
    ],
  );
  const decoded = decodeTopology(subOptionsToBytes(objs), { key: EXAMPLE_KEY, requireSignature: true, expectFiler: 'Filer1', binding: FILER1_REQUEST });
  t.same(decoded.topology, filer1);
  t.equal(decoded.signed, true);
  t.equal(decoded.binding, 'request');
  t.equal(decoded.addressTags.length, 12, 'one tag per reserved identifier');
});

t.test('Filer1 fits the measured option 43 limits', async (t) => {
  const unsigned = topologyWireSize(filer1);
  const signed = topologyWireSize(filer1, { signed: true, addresses: FILER1_ADDRESSES, binding: FILER1_REQUEST });
  t.equal(unsigned, 409, '394 bytes in format 1.0, plus the gateway');
  t.equal(signed, 597, '451 bytes in format 1.0, plus the gateway, the binding (27) and 12 address tags (104)');
  t.equal(topologyWireSize(filer1, SIGNING), signed, 'sizing without the key gives the signed size');
  t.equal(subOptionsToBytes(encodeTopology(filer1, SIGNING)).length, signed);
  t.ok(signed <= OPTION43_BUDGET, 'signed fits the budget of all three servers with option 57');
  t.ok(unsigned <= OPTION43_BUDGET_WITHOUT_MMS.dhcpd, 'unsigned even fits dhcpd without option 57');
});

t.test('captures: what real servers delivered to dhclient (format 1.0) still decodes to Filer1', async (t) => {
  const want = subOptionsToBytes(encodeTopology10(filer1WithoutGateway, { key: EXAMPLE_KEY }));
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
    t.same(fromRaw.topology, filer1WithoutGateway, `${server}: raw option 43`);
    t.same(fromScriptEnv.topology, filer1WithoutGateway, `${server}: new_rackstrap_o* variables`);
    t.ok(fromRaw.signed && fromScriptEnv.signed);
    t.same(fromRaw.version, { major: 1, minor: 0 });
    // A filer that checks the binding refuses a 1.0 answer: its binding is exactly what a forger strips.
    t.throws(() => decodeTopology(raw, { ...opts, binding: FILER1_REQUEST }), { code: 'RS_WIRE_NOT_BOUND' });
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
