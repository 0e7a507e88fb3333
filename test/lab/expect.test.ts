// What each filer of the example must hold: its own addresses, its home virtual servers' and its
// MySQL roles', and nothing of the other filer's.
import t from 'tap';
import { expectedFiler, missingAddresses } from '../../src/lab/expect.js';
import { parseObservation, type RawObservation } from '../../src/net/observe.js';
import { loadClusterFile } from '../../src/options/load.js';
import { readFileSync } from 'node:fs';

t.test('Filer1 of the example', async (t) => {
  const loaded = await loadClusterFile('examples/cluster.yaml');
  const e = expectedFiler(loaded, 'Filer1');
  t.same(e.addresses.filter((a) => a.owner === 'filer').map((a) => `${a.dev} ${a.address}`), ['mgmt0 10.1.1.2/24', 'mgmt1 10.1.1.3/24', 'san0 10.2.2.2/24']);
  t.same(e.addresses.filter((a) => a.owner === 'VsvrA').map((a) => `${a.dev} ${a.address} ${a.table}`), ['data0 10.2.2.1/24 1', 'data0 10.3.3.1/16 1', 'data1 10.2.2.3/24 1']);
  t.same(e.addresses.filter((a) => a.owner.startsWith('MySQL')).map((a) => a.owner), ['MySQLMgmtNode', 'MySQLMgmtNode', 'MySQLDataNode1', 'MySQLDataNode1', 'MySQLAppNode1', 'MySQLAppNode1']);
  t.same(e.vservers, [{ name: 'VsvrA', table: 1, gateway: '10.2.2.254' }]);
  t.notOk(e.addresses.some((a) => a.owner === 'VsvrB' || a.address.startsWith('10.1.1.4/')), 'nothing of Filer2');

  // The UML capture of the net layer's Filer1 plan has every filer and VsvrA address, no MySQL ones.
  const after = parseObservation(JSON.parse(readFileSync('test/fixtures/ip-json/uml-filer1/after.json', 'utf8')) as RawObservation);
  t.same(missingAddresses(e, after).map((a) => a.owner), ['MySQLMgmtNode', 'MySQLMgmtNode', 'MySQLDataNode1', 'MySQLDataNode1', 'MySQLAppNode1', 'MySQLAppNode1']);
});
