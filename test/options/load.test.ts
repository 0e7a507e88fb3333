import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, formatProblem, type Problem } from '../../src/errors.js';
import { loadClusterFile, loadClusterText } from '../../src/options/load.js';

const EXAMPLE = join(process.cwd(), 'examples/cluster.yaml');
const example = readFileSync(EXAMPLE, 'utf8');

function edit(text: string, from: string, to: string): string {
  if (text.split(from).length !== 2) throw new Error(`"${from}" must occur exactly once`);
  return text.replace(from, to);
}

function rejected(text: string, file = 'c.yaml'): Problem[] {
  try {
    loadClusterText(text, file);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected the description to be rejected');
}

function lineOf(text: string, needle: string): number {
  return text.split('\n').findIndex((l) => l.includes(needle)) + 1;
}

t.test('the example validates, with no warning', async (t) => {
  const loaded = await loadClusterFile(EXAMPLE);
  t.same(loaded.warnings.map(formatProblem), []);
  t.same([...loaded.filers.keys()], ['Filer1', 'Filer2']);
  t.same(Object.keys(loaded.description.vservers), ['VsvrA', 'VsvrB', 'VsvrC']);
  const f2 = loaded.filers.get('Filer2')!;
  t.same(f2.stack.bonds.bond1?.members, ['eth4', 'eth5'], 'the patch adds bond1');
  t.equal(f2.stack.aliases.data2, 'bond1');
  t.equal(f2.stack.aliases.mgmt0, 'fail0', 'the template is inherited');
  t.same(f2.origins.bonds.bond0, ['templates', 'standard', 'bonds', 'bond0']);
  t.same(f2.origins.bonds.bond1, ['filers', 'Filer2', 'stack', 'bonds', 'bond1']);
  t.equal(loaded.keyFile, undefined);
});

t.test("the seed's own table is rejected: san0:Filer2 10.2.2.3 is data1:VsvrA:0's address", async (t) => {
  const seed = edit(example, '      san0: 10.2.2.4\n', '      san0: 10.2.2.3\n');
  const errors = rejected(seed).filter((p) => p.severity === 'error');
  t.equal(errors.length, 2, 'both uses are reported');
  const atFiler = errors.find((p) => p.field === 'filers.Filer2.addresses.san0');
  const atVserver = errors.find((p) => p.field === 'vservers.VsvrA.addresses.data1.0');
  t.match(atFiler?.rule, /10\.2\.2\.3 is also data1:VsvrA:0: no two interfaces may share an IP address/);
  t.match(atVserver?.rule, /also san0:Filer2/);
  t.equal(atFiler?.line, lineOf(seed, '      san0: 10.2.2.3'));
  t.equal(atVserver?.line, lineOf(seed, 'data1: { 0: 10.2.2.3 }'));
});

t.test('every problem is reported, in file order, with line and column', async (t) => {
  let text = edit(example, 'eth5: "00:07:34:20:00:06"', 'eth5: "00:07:34:10:00:01"'); // duplicate MAC
  text = edit(text, '  VsvrB:\n', '  vs_mgmtB:\n'); // reserved name
  text = edit(text, 'primary: eth2', 'primary: eth1'); // not a member
  const errors = rejected(text).filter((p) => p.severity === 'error');
  t.same(errors.map((p) => p.field), [
    'templates.standard.failovers.fail0.primary',
    'filers.Filer2.nics.eth5',
    'vservers.vs_mgmtB',
  ]);
  t.equal(errors[0]!.line, lineOf(text, 'primary: eth1'));
  t.equal(errors[0]!.col, text.split('\n')[errors[0]!.line! - 1]!.indexOf('eth1') + 1, 'column of the value');
  t.equal(errors[2]!.line, lineOf(text, 'vs_mgmtB:'));
  t.equal(errors[2]!.col, 3, 'a mapping is located at its key');
});

t.test('shape errors come from zod with positions, all at once', async (t) => {
  let text = edit(example, 'generation: 1 ', 'generation: zero ');
  text = edit(text, 'bond0: { mode: 802.3ad', 'bond0: { mode: lacp');
  text = edit(text, 'eth5: "00:07:34:20:00:06"', 'eth5: "00:07:34:20:00"');
  const errors = rejected(text);
  t.equal(errors.length, 3, errors.map(formatProblem).join('\n'));
  t.match(errors.find((p) => p.field === 'cluster.generation'), { rule: /expected number, got string "zero"/, line: lineOf(text, 'generation: zero') });
  t.match(errors.find((p) => p.field === 'templates.standard.bonds.bond0.mode'), { rule: /must be one of .*802\.3ad/ });
  t.match(errors.find((p) => p.field === 'filers.Filer2.nics.eth5'), { rule: /must be a MAC address/, line: lineOf(text, 'eth5: "00:07:34:20:00"') });
});

t.test('YAML syntax errors and non-descriptions are problems with positions', async (t) => {
  const broken = rejected('cluster:\n  name: [lab\nscope: {}\n');
  t.equal(broken[0]!.field, '(yaml)');
  t.ok(broken[0]!.line! >= 2);
  t.match(rejected('a: 1\na: 2\n')[0], { field: '(yaml)', rule: /unique/, line: 2 });
  t.match(rejected('')[0], { field: '(document)', rule: /empty/ });
  t.match(rejected('- just\n- a list\n')[0], { rule: /YAML mapping/ });
  t.match(rejected('\0\x01\x02binary')[0], { rule: /binary/ });
});

t.test('interface names are lower-cased everywhere; two spellings of one name are refused', async (t) => {
  let text = edit(example, 'members: [eth0, eth1]', 'members: [ETH0, Eth1]');
  text = edit(text, '      data0: bond0.10\n', '      DATA0: BOND0.10\n');
  text = edit(text, '      mgmt0: 10.1.1.2\n', '      MGMT0: 10.1.1.2\n');
  const loaded = loadClusterText(text, 'c.yaml');
  const f1 = loaded.filers.get('Filer1')!;
  t.same(f1.stack.bonds.bond0?.members, ['eth0', 'eth1']);
  t.equal(f1.stack.aliases.data0, 'bond0.10');
  t.equal(f1.addresses.mgmt0, '10.1.1.2');
  const twice = edit(example, '      eth3: "00:07:34:10:00:04"\n', '      eth3: "00:07:34:10:00:04"\n      Eth3: "00:07:34:10:00:09"\n');
  t.match(rejected(twice)[0], { field: 'filers.Filer1.nics.Eth3', rule: /same NIC/ });
});

t.test('files: missing, a directory, the key file resolved next to the description', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rackstrap-load-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await t.rejects(loadClusterFile(join(dir, 'nope.yaml')), { code: 'RS_FILE', message: /no such file/ });
  await t.rejects(loadClusterFile(dir), { code: 'RS_FILE', message: /is a directory/ });
  const withKey = join(dir, 'c.yaml');
  writeFileSync(withKey, edit(example, '  generation: 1 ', '  keyFile: keys/lab.key\n  generation: 1 '));
  const loaded = await loadClusterFile(withKey);
  t.equal(loaded.keyFile, join(dir, 'keys/lab.key'));
});
