// The live-update step's description: generation + 1, one address per filer moved inside its
// subnet to an address nobody uses, everything else (comments included) as it was.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { changeDescription } from '../../src/lab/change.js';
import { loadClusterFile } from '../../src/options/load.js';

t.test('the example: generation 2, san0 of each filer moved', async (t) => {
  const text = readFileSync('examples/cluster.yaml', 'utf8');
  const loaded = await loadClusterFile('examples/cluster.yaml');
  const c = changeDescription(text, loaded, 'gen2.yaml');
  t.equal(c.generation, 2);
  t.equal(c.loaded.description.cluster.generation, 2, 'the changed text loads, with the new generation');
  t.same(c.moved, [
    { filer: 'Filer1', alias: 'san0', from: '10.2.2.2', to: '10.2.2.12' },
    { filer: 'Filer2', alias: 'san0', from: '10.2.2.4', to: '10.2.2.14' },
  ]);
  t.equal(c.loaded.filers.get('Filer1')!.addresses.san0, '10.2.2.12');
  t.equal(c.loaded.filers.get('Filer1')!.addresses.mgmt0, '10.1.1.2', 'other addresses stay');
  t.same(c.loaded.description.vservers, loaded.description.vservers, 'virtual servers unchanged');
  t.ok(c.text.includes('# Filer2\'s extra pair becomes a second LACP bond carrying data2.'), 'comments kept');
  const changedLines = c.text.split('\n').filter((l, i) => l !== text.split('\n')[i]);
  t.equal(changedLines.length, 3, 'three lines differ: generation and two addresses');
});

t.test('a move skips addresses that are taken', async (t) => {
  const text = readFileSync('examples/cluster.yaml', 'utf8').replace('san0: 10.2.2.2\n', 'san0: 10.2.2.2\n      mgmt1: 10.1.1.3\n').replace('      mgmt1: 10.1.1.3\n      san0', '      san0');
  const withTaken = text.replace('data1: { 0: 10.2.2.3 }', 'data1: { 0: 10.2.2.3, 1: 10.2.2.12 }');
  const { loadClusterText } = await import('../../src/options/load.js');
  const loaded = loadClusterText(withTaken, 'taken.yaml');
  const c = changeDescription(withTaken, loaded, 'gen2.yaml');
  t.equal(c.moved.find((m) => m.filer === 'Filer1')?.to, '10.2.2.13', '10.2.2.12 is VsvrA’s: the next free one');
});
