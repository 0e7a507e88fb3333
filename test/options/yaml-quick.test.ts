// The quick read (js-yaml, data only) against the full one (yaml's document, with positions): the
// same data for every description it takes, and the full read, with today's messages, for
// everything it cannot vouch for or that has anything to report.
import t from 'tap';
import fc from 'fast-check';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { ConfigError, formatProblem } from '../../src/errors.js';
import { descriptionReads, loadClusterText, type LoadedCluster } from '../../src/options/load.js';
import { readYamlQuick } from '../../src/options/yaml-quick.js';

const ROOT = process.cwd();
const example = readFileSync(join(ROOT, 'examples/cluster.yaml'), 'utf8');

function* yamlFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* yamlFiles(p);
    else if (/\.ya?ml$/.test(name)) yield p;
  }
}

type Outcome = { loaded: LoadedCluster } | { problems: string[] };

function outcome(text: string, file: string, full = false): Outcome {
  try {
    return { loaded: loadClusterText(text, file, full ? { read: 'full' } : {}) };
  } catch (e) {
    if (e instanceof ConfigError) return { problems: e.problems.map(formatProblem) };
    throw e;
  }
}

/** Which read a load took: 'quick', or 'full' when it fell back (or read fully from the start). */
function readBy(text: string, file = 'c.yaml'): { read: 'quick' | 'full'; outcome: Outcome } {
  const before = { ...descriptionReads };
  const o = outcome(text, file);
  const quick = descriptionReads.quick - before.quick;
  const full = descriptionReads.full - before.full;
  if (quick + full !== 1) throw new Error(`one read expected, got ${quick} quick and ${full} full`);
  return { read: quick ? 'quick' : 'full', outcome: o };
}

/** What yaml's document gives as plain data (the full read's data). */
function fullData(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: false });
  // What the quick read takes, yaml must take without a word.
  const said = [...doc.errors, ...doc.warnings].map((e) => e.message.split('\n')[0]);
  return said.length ? { said } : doc.toJS({ maxAliasCount: -1 });
}

t.test('every description under test/fixtures and examples: the same outcome both ways, the same data when read quickly', async (t) => {
  let quick = 0;
  let files = 0;
  for (const dir of ['test/fixtures', 'examples']) {
    for (const file of yamlFiles(join(ROOT, dir))) {
      files++;
      const text = readFileSync(file, 'utf8');
      const rel = file.slice(ROOT.length + 1);
      const q = readYamlQuick(text);
      if (q.ok) {
        quick++;
        t.strictSame(q.data, fullData(text), `${rel}: data`);
      }
      t.strictSame(outcome(text, rel), outcome(text, rel, true), `${rel}: outcome`);
    }
  }
  t.ok(files >= 50, `${files} files`);
  t.ok(quick >= files / 2, `${quick} of ${files} read quickly`);
});

t.test('the example is read quickly, and gives what the full read gives', async (t) => {
  const r = readBy(example, 'examples/cluster.yaml');
  t.equal(r.read, 'quick');
  t.strictSame(r.outcome, outcome(example, 'examples/cluster.yaml', true));
});

// Plain scalars whose type the YAML 1.2 core schema decides, and the ways js-yaml's own schemas
// differ from it (0b, _, a sign before 0x, timestamps, merge keys, YAML 1.1 booleans).
const TRICKY = [
  '010', '0o17', '0x1F', '-0x1F', '+12', '-0', '1e3', '1E-3', '-.5', '.5', '5.', '1.50', '1_000', '0b101', '0x_1F',
  '.inf', '-.inf', '+.Inf', '.NaN', '.nan', '~', 'null', 'Null', 'NULL', 'nULL', 'yes', 'no', 'on', 'off', 'y', 'n',
  'true', 'True', 'TRUE', 'tRUE', 'false', 'FALSE', '2001-12-14', '2001-12-14t21:59:43.10-05:00', '12:30:00', '1:20',
  '<<', '=', '00:07:34:00:00:01', '10.0.0.1', '10.0.0.0/16', '123456789012345678901234567890', '0o8', '0xG', "'010'",
  '"0x1F"', '"\\x41\\u00e9\\t\\/"', "'it''s'", '"a\\\n  b"', '""', "''", '[]', '{}', '[1, "a", b]', '{a: 1, b: [x, y]}',
];

const plain = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ._/-]{0,12}[A-Za-z0-9]$/);
const scalar = fc.oneof(
  fc.constantFrom(...TRICKY),
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.string({ maxLength: 12 }).map((s) => `'${s.replace(/'/g, "''").replace(/\n/g, ' ')}'`),
  plain,
  fc.double().map(String),
  fc.integer().map(String),
);

t.test('generated YAML snippets: the quick read gives the full read\'s data whenever it takes the text', async (t) => {
  let taken = 0;
  const snippet = fc.oneof(
    scalar.map((s) => `k: ${s}\n`),
    fc.array(scalar, { minLength: 1, maxLength: 4 }).map((xs) => `k:\n${xs.map((x) => `  - ${x}`).join('\n')}\n`),
    fc.array(scalar, { maxLength: 4 }).map((xs) => `k: [${xs.join(', ')}]\n`),
    fc.array(fc.tuple(plain, scalar), { maxLength: 4 }).map((kv) => `k: {${kv.map(([a, b]) => `${a}: ${b}`).join(', ')}}\n`),
    fc.tuple(scalar, fc.integer({ min: 1, max: 3 })).map(([s, n]) => `a: &x ${s}\nb: *x\nc: [${Array(n).fill('*x').join(', ')}]\n`),
    fc.tuple(plain, plain, plain).map(([a, b, c]) => `k: ${a}\n  ${b}\n\n  ${c}\n`),
    fc.tuple(fc.constantFrom('|', '>', '|-', '>+', '|2'), plain, plain).map(([h, a, b]) => `k: ${h}\n  ${a}\n\n   ${b}\nnext: 1\n`),
    fc.tuple(plain, plain).map(([a, b]) => `k: "${a}\n  ${b}"\nj: '${b}\n\n  ${a}'\n`),
  );
  fc.assert(
    fc.property(snippet, (text) => {
      const q = readYamlQuick(text);
      if (!q.ok) return true;
      taken++;
      t.strictSame(q.data, fullData(text), JSON.stringify(text));
      return true;
    }),
    { numRuns: 3000 },
  );
  t.ok(taken > 1000, `${taken} of 3000 read quickly`);
});

// Descriptions as data: yaml writes them in block style, and JSON is YAML in flow style.
const leaf = fc.oneof(scalar.filter((s) => !s.startsWith('[') && !s.startsWith('{')), fc.integer(), fc.boolean(), fc.constant(null), fc.double());
const key = fc.oneof(plain, fc.constantFrom('0', '1', '10', 'data0', 'eth0', 'true', '1e3', '0x1F', 'a b', 'a:b', '-x', '#c'));
const tree = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(key, tie('node'), { maxKeys: 4 })),
})).node;

t.test('generated data written as YAML (block and flow): the same data both ways', async (t) => {
  let taken = 0;
  fc.assert(
    fc.property(fc.dictionary(key, tree, { minKeys: 1, maxKeys: 5 }), fc.boolean(), (data, flow) => {
      const text = flow ? JSON.stringify(data) : stringify(data);
      const q = readYamlQuick(text);
      if (!q.ok) return true;
      taken++;
      t.strictSame(q.data, fullData(text), text);
      return true;
    }),
    { numRuns: 1000 },
  );
  t.ok(taken > 500, `${taken} of 1000 read quickly`);
});

t.test('what the quick read leaves to the full one: the full read runs, and the messages are its own', async (t) => {
  const cases: Array<[string, string]> = [
    ['an alias of a mapping', example.replace(/^scope:\n/m, 'scope: &s\n') + 'extra: *s\n'],
    ['a repeated key', example.replace(/^cluster:\n/m, 'cluster:\n  name: first\n')],
    ['a tag', example.replace(/^(\s+generation:) (\d+)/m, '$1 !!int $2')],
    ['a directive', `%YAML 1.2\n---\n${example}`],
    ['a syntax error', example.replace(/^cluster:\n/m, 'cluster: [\n')],
    ['two documents', `${example}---\n${example}`],
    ['a bad description', example.replace(/^(\s+generation:) \d+/m, '$1 soon')],
    ['an unknown field', example.replace(/^cluster:\n/m, 'cluster:\n  colour: blue\n')],
    ['an empty file', ''],
    ['a list', '- a\n- b\n'],
    ['a zero byte', `${example}\0`],
    ['nesting 70 deep', `${'['.repeat(70)}${']'.repeat(70)}\n`],
  ];
  for (const [what, text] of cases) {
    const r = readBy(text);
    t.equal(r.read, 'full', `${what}: read fully`);
    t.strictSame(r.outcome, outcome(text, 'c.yaml', true), `${what}: the full read's outcome`);
  }
  const bad = readBy(example.replace(/^cluster:\n/m, 'cluster:\n  name: first\n')).outcome;
  t.match('problems' in bad ? bad.problems[0] : '', /^c\.yaml:\d+:\d+ \(yaml\): Map keys must be unique/, 'a repeated key is a (yaml) problem with its position');
});

t.test('an alias of a scalar is read quickly; an alias of a mapping is not', async (t) => {
  const scalarAlias = example.replace(/^(\s+domain:) (\S+)/m, '$1 &d $2') + '# *d\n';
  t.equal(readYamlQuick(scalarAlias).ok, true);
  const q = readYamlQuick('a: &m {x: 1}\nb: *m\n');
  t.same(q, { ok: false, why: 'a collection reached twice (an alias)' });
});

t.test('a valid description with warnings: read fully, each warning with its position', async (t) => {
  const dir = join(ROOT, 'test/fixtures/config/warn');
  let n = 0;
  for (const file of yamlFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    const r = readBy(text, 'w.yaml');
    if (!('loaded' in r.outcome)) continue;
    n++;
    t.equal(r.read, 'full', `${file}: read fully`);
    t.ok(r.outcome.loaded.warnings.length > 0, `${file}: has warnings`);
    for (const w of r.outcome.loaded.warnings) t.ok(w.line !== undefined && w.line >= 1 && w.col !== undefined, `${formatProblem(w)}: positioned`);
    t.strictSame(r.outcome, outcome(text, 'w.yaml', true));
  }
  t.ok(n > 0, `${n} valid descriptions with warnings`);
});
