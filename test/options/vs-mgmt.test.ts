// The management virtual server: exactly `vs_mgmt` is allowed (every other name starting with it
// stays reserved), its addresses may sit on mgmt# aliases as well as data#, it gets its own
// identifiers and routing table like any virtual server, and it can run on every filer that has
// its aliases (explain says which).

import t from 'tap';
import { parseDocument } from 'yaml';
import { readFileSync } from 'node:fs';
import { renderExplain } from '../../src/cli/run/explain.js';
import { ConfigError } from '../../src/errors.js';
import { vserverIdentifier } from '../../src/options/identifiers.js';
import { loadClusterText } from '../../src/options/load.js';
import { reservationsOf } from '../../src/options/resolve.js';

const base = readFileSync('examples/cluster.yaml', 'utf8');

function withVservers(extra: Record<string, unknown>, edit?: (doc: ReturnType<typeof parseDocument>) => void): string {
  const doc = parseDocument(base);
  for (const [name, v] of Object.entries(extra)) doc.setIn(['vservers', name], doc.createNode(v));
  edit?.(doc);
  return doc.toString();
}

function problems(text: string): string[] {
  try {
    loadClusterText(text, 'cluster.yaml');
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.filter((p) => p.severity === 'error').map((p) => `${p.field}: ${p.rule}`);
  }
}

const VS_MGMT = { table: 10, addresses: { mgmt0: { 0: '10.1.1.250' }, data0: { 0: '10.3.9.1' } } };

t.test('vs_mgmt is accepted, with addresses on mgmt# and data# aliases', async (t) => {
  const text = withVservers({ vs_mgmt: VS_MGMT });
  t.same(problems(text), []);
  const loaded = loadClusterText(text, 'cluster.yaml');
  const mine = reservationsOf(loaded).flatMap((r) => (r.kind === 'vserver' && r.vserver === 'vs_mgmt' ? [[r.identifier, r.address]] : []));
  t.same(mine.sort(), [
    ['00:07:34:04:12:0E:data0:vs_mgmt:0', '10.3.9.1'],
    ['00:07:34:04:12:0E:mgmt0:vs_mgmt:0', '10.1.1.250'],
  ], 'its own identifiers, one per address instance');
  const out = renderExplain(loaded, {});
  t.match(out, /vs_mgmt · table 10 · no gateway · no home \(placed by HA\)\n {4}addresses +mgmt0 10\.1\.1\.250; data0 10\.3\.9\.1\n {4}runs on +Filer1, Filer2/, 'explain says where it can run');
});

t.test('vs_mgmt runs only on filers that have its aliases', async (t) => {
  // mgmt2 exists only on Filer2: vs_mgmt with an address there can run on Filer2 alone.
  const text = withVservers({ vs_mgmt: { table: 10, addresses: { mgmt2: { 0: '10.1.1.251' } } } }, (doc) => {
    doc.setIn(['filers', 'Filer2', 'stack', 'aliases', 'mgmt2'], 'fail0.30');
    doc.setIn(['filers', 'Filer2', 'stack', 'vlans'], doc.createNode(['fail0.30']));
  });
  const found = problems(text);
  if (found.length) {
    // The stack may not allow two aliases on one VLAN; then the placement is shown by data2 instead.
    t.comment(`alternative placement check: ${found.join('; ')}`);
    const alt = withVservers({ vs_mgmt: { table: 10, addresses: { mgmt0: { 0: '10.1.1.250' }, data2: { 0: '10.3.9.2' } } } });
    t.same(problems(alt), []);
    t.match(renderExplain(loadClusterText(alt, 'cluster.yaml'), {}), /vs_mgmt · table 10[^\n]*\n[^\n]*\n {4}runs on +Filer2\n/, 'only Filer2 has data2');
    return;
  }
  t.match(renderExplain(loadClusterText(text, 'cluster.yaml'), {}), /vs_mgmt · table 10[^\n]*\n[^\n]*\n {4}runs on +Filer2\n/);
});

t.test('every other name starting with vs_mgmt stays reserved, in any case', async (t) => {
  for (const name of ['vs_mgmt2', 'vs_mgmt_b', 'VS_MGMT', 'Vs_Mgmt']) {
    const found = problems(withVservers({ [name]: { table: 11, addresses: { data0: { 0: '10.3.9.3' } } } }));
    t.match(found, [new RegExp(`^vservers\\.${name}: vs_mgmt is reserved`)], name);
  }
});

t.test('only vs_mgmt may use mgmt# aliases; san# is private to a filer for everyone', async (t) => {
  t.match(problems(withVservers({ VsvrD: { table: 12, addresses: { mgmt0: { 0: '10.1.1.252' } } } })), [/VsvrD\.addresses\.mgmt0: virtual servers have addresses on data# aliases/]);
  t.match(problems(withVservers({ vs_mgmt: { table: 10, addresses: { san0: { 0: '10.2.2.250' } } } })), [/vs_mgmt\.addresses\.san0: vs_mgmt has addresses on mgmt# or data# aliases; san0 is a san# alias/]);
  t.throws(() => vserverIdentifier('00:07:34:04:12:0E', 'mgmt0', 'VsvrA', 0), /virtual server identifiers use data#, not mgmt0/);
  t.equal(vserverIdentifier('00:07:34:04:12:0E', 'mgmt0', 'vs_mgmt', 0), '00:07:34:04:12:0E:mgmt0:vs_mgmt:0');
});
