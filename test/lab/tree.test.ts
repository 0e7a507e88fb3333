// The stack tree is read back from the kernel: a real UML capture of Filer1 (bonds negotiated,
// VLANs, aliases, table 1) renders with LACP states, VLAN ids, addresses with their table, and the
// per-server routes and rules; what rackstrap does not own stays out.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { renderStack } from '../../src/lab/tree.js';
import { parseObservation, type RawObservation } from '../../src/net/observe.js';

const load = (f: string) => parseObservation(JSON.parse(readFileSync(f, 'utf8')) as RawObservation);

t.test('Filer1 after its plan (UML capture)', async (t) => {
  const text = renderStack(load('test/fixtures/ip-json/uml-filer1/after.json'), 'Filer1');
  const lines = text.split('\n');
  t.equal(lines[0], 'Filer1');
  const row = (name: string) => lines.find((l) => new RegExp(`[├└]─ ${name.replace('.', '\\.')}\\s`).test(l)) ?? '';
  t.match(row('bond0'), /802\.3ad, lacp fast, layer3\+4, mtu 9000$/);
  t.match(row('eth0'), /LACP in_sync collecting distributing$/);
  t.match(row('bond0.10'), /VLAN 10$/);
  t.notMatch(row('bond0.10'), /mtu/, 'an inherited MTU is not repeated');
  t.match(row('data0'), /10\.2\.2\.1\/24 \(table 1\)\s+10\.3\.3\.1\/16 \(table 1\)$/);
  t.match(row('mgmt0'), /10\.1\.1\.2\/24$/);
  t.match(row('eth2'), /active$/);
  t.match(row('eth3'), /backup$/);
  // Nesting: data0 under bond0.10 under bond0; eth2 under fail0.
  const at = (name: string) => lines.indexOf(row(name));
  t.ok(at('bond0') < at('bond0.10') && at('bond0.10') < at('data0') && at('data0') < at('fail0'), 'data0 is in bond0’s subtree');
  t.ok(text.includes('table 1 (realm 1):\n   default via 10.2.2.254 dev data0'), 'table 1 with its default route');
  t.ok(text.includes('   rule 31000: from 10.3.3.1 lookup 1 realms 1/1'));
  t.ok(text.includes('main:\n   default via 10.1.1.254 dev mgmt0'));
});

t.test('a filer with nothing of rackstrap shows only its title', async (t) => {
  t.equal(renderStack(load('test/fixtures/ip-json/uml-filer1/before.json'), 'Filer1 (fresh)'), 'Filer1 (fresh)');
});
