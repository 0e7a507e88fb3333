// What the agent accepts from an OFFER's option 43 (steps 2-3 of the bootstrap): a topology that
// decodes, is signed with the cluster key when the filer holds one, names this filer, and passes
// the stack rules. Everything else is refused with a code and a reason (the caller keeps its state).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { judgeTopology } from '../../src/bootstrap/topology-source.js';
import { loadClusterFile } from '../../src/options/load.js';
import { topologyFor } from '../../src/options/resolve.js';
import type { Topology } from '../../src/options/schema.js';
import { encodeTopology, subOptionsToBytes } from '../../src/options/wire/index.js';

const KEY = Buffer.from('rackstrap-test-cluster-key-0001');
const OTHER_KEY = Buffer.from('rackstrap-test-cluster-key-0002');
const NICS = ['eth0', 'eth1'];

const filer1 = async (): Promise<Topology> => topologyFor(await loadClusterFile('test/fixtures/agent/cluster-flat.yaml'), 'Filer1');
const bytes = (topo: Topology, key?: Buffer) => subOptionsToBytes(encodeTopology(topo, key === undefined ? {} : { key }));
const hexFixture = (name: string) =>
  Buffer.from(
    readFileSync(`test/fixtures/wire/${name}`, 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('')
      .replace(/\s/g, ''),
    'hex',
  );

t.test('without a key: an unsigned topology for this filer is taken as it is', async (t) => {
  const topo = await filer1();
  const j = judgeTopology(bytes(topo), { nics: NICS, expectFiler: 'Filer1' });
  t.ok(j.ok);
  if (!j.ok) return;
  t.same(j.topology, topo);
  t.equal(j.signed, false);
});

t.test('with the key: only a topology signed with it', async (t) => {
  const topo = await filer1();
  const signed = judgeTopology(bytes(topo, KEY), { key: KEY, nics: NICS });
  t.match(signed, { ok: true, signed: true });
  t.match(judgeTopology(bytes(topo), { key: KEY, nics: NICS }), { ok: false, code: 'RS_WIRE_UNSIGNED' }, 'a rogue server without the key');
  t.match(judgeTopology(bytes(topo, OTHER_KEY), { key: KEY, nics: NICS }), { ok: false, code: 'RS_WIRE_KEY_MISMATCH' });
  const tampered = bytes(topo, KEY);
  const at = tampered.indexOf(Buffer.from('mgmt0'));
  tampered.write('mgmt9', at, 'latin1');
  t.match(judgeTopology(tampered, { key: KEY, nics: NICS }), { ok: false, code: 'RS_WIRE_BAD_SIGNATURE' });
});

t.test("another filer's validly signed topology is refused when the filer knows its name", async (t) => {
  const other = topologyFor(await loadClusterFile('test/fixtures/agent/cluster-flat.yaml'), 'Filer2');
  t.match(judgeTopology(bytes(other, KEY), { key: KEY, expectFiler: 'Filer1', nics: ['eth0', 'eth1', 'eth2'] }), { ok: false, code: 'RS_WIRE_WRONG_FILER' });
});

t.test('a newer major version is refused (the current configuration is kept), not misread', async (t) => {
  const j = judgeTopology(hexFixture('newer-major.hex'), { nics: NICS });
  t.match(j, { ok: false, code: 'RS_WIRE_VERSION', reason: /keeping the current configuration/ });
});

t.test('a stack that breaks the naming rules is refused with the rule', async (t) => {
  const topo = await filer1();
  // eth5 is not a NIC of this host: an alias on it could never come up.
  const bad: Topology = { ...topo, stack: { ...topo.stack, aliases: { ...topo.stack.aliases, mgmt1: 'eth5' } } };
  const j = judgeTopology(bytes(bad), { nics: NICS });
  t.match(j, { ok: false, code: 'RS_TOPOLOGY_RULES', reason: /aliases\.mgmt1/ });
  t.match(judgeTopology(Buffer.from('not option 43 at all'), { nics: NICS }), { ok: false, code: /^RS_WIRE_/ });
});
