// Hostile YAML structure is refused with a rule and a position, having done bounded work: an
// alias bomb (each level ten aliases of the one before) stops at the alias that takes the
// repeated values past the limit, and 10,000 levels of nesting stop being parsed at level 65.
// Once, the bomb gave exit 70 with a stack (yaml's "Excessive alias count"), and the nesting a
// JavaScript internal ("Maximum call stack size exceeded").
import t from 'tap';
import { LineCounter } from 'yaml';
import { ConfigError, formatProblem } from '../../src/errors.js';
import { loadClusterText } from '../../src/options/load.js';
import { checkAliases, MAX_ALIAS_VALUES, MAX_NESTING, parseDocumentBounded } from '../../src/options/yaml-bounds.js';
import { runBounded } from '../helpers/bounded-run.js';

function problemsOf(text: string): string[] {
  try {
    loadClusterText(text, 'hostile.yaml');
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map(formatProblem);
  }
}

/** Ten levels of ten aliases each: 10^10 values once expanded. */
const bomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`)].join('\n') + '\n';

t.test('an alias bomb: refused at the alias that passes the limit, with its position', async (t) => {
  t.same(problemsOf(bomb), [`hostile.yaml:4:45 (yaml): alias *a2 takes what aliases repeat past 10,000 values; a description may repeat at most 10,000 values through aliases`]);
  // Stopped at the 8th alias of line 4: 110 + 1,110 + 8 x 1,111 values counted, never the 10^10.
  const lc = new LineCounter();
  const parsed = parseDocumentBounded(bomb, { lineCounter: lc, uniqueKeys: false });
  t.ok(parsed.ok);
  if (parsed.ok) t.match(checkAliases(parsed.doc), { rule: /alias \*a2/ });
});

t.test('aliases within the limit still work (a template repeated through an anchor)', async (t) => {
  const lc = new LineCounter();
  const few = 'base: &b {mtu: 9000, vlans: [a, b]}\n' + Array.from({ length: 100 }, (_, i) => `t${i}: *b`).join('\n') + '\n';
  const parsed = parseDocumentBounded(few, { lineCounter: lc, uniqueKeys: false });
  t.ok(parsed.ok && checkAliases(parsed.doc) === undefined, `100 aliases of 5 values: ${100 * 5} < ${MAX_ALIAS_VALUES}`);
});

t.test('an alias inside the node it names is refused', async (t) => {
  t.match(problemsOf('cluster:\n  name: &n [*n]\n'), [/hostile\.yaml:2:13 \(yaml\): alias \*n refers to a node that contains it/]);
});

t.test('10,000 levels of nesting: a rule with the position where parsing stopped', async (t) => {
  const flow = `cluster: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`;
  const block = `${'- '.repeat(10_000)}x\n`;
  const rule = `nested more than ${MAX_NESTING} levels deep; a cluster description nests at most ${MAX_NESTING} mappings and lists`;
  // Column of the first collection past the limit: parsing went no further than that.
  t.same(problemsOf(flow), [`hostile.yaml:1:${'cluster: '.length + MAX_NESTING + 2} (yaml): ${rule}`]);
  const [b] = problemsOf(block);
  t.match(b, new RegExp(`^hostile\\.yaml:1:(\\d+) \\(yaml\\): ${rule.replace(/[()]/g, '\\$&')}$`));
  t.ok(Number(/:1:(\d+)/.exec(b!)![1]) <= 2 * (MAX_NESTING + 2) + 1, 'stopped within the first 66 levels');
  const deepMap = Array.from({ length: 200 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' x\n';
  t.match(problemsOf(deepMap), [/^hostile\.yaml:\d+:\d+ \(yaml\): nested more than 64 levels/]);
  t.same(problemsOf(`cluster: ${'['.repeat(MAX_NESTING - 1)}${']'.repeat(MAX_NESTING - 1)}\n`).filter((p) => p.includes('nested')), [], '63 levels inside cluster: allowed');
});

t.test('validate on the bomb and the nesting: exit 1 with the rule, no stack, bounded memory', async (t) => {
  const dir = t.testdir({ 'bomb.yaml': bomb, 'deep.yaml': `cluster: ${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}\n` });
  for (const [file, rule] of [['bomb.yaml', /bomb\.yaml:4:45 \(yaml\): alias \*a2/], ['deep.yaml', /deep\.yaml:1:\d+ \(yaml\): nested more than 64 levels deep/]] as const) {
    const r = await runBounded(['validate', `${dir}/${file}`]);
    t.equal(r.code, 1, `${file}: exit 1`);
    t.match(r.stderr, rule, `${file}: the rule at its position`);
    t.notMatch(r.stderr, /internal error|Maximum call stack|Excessive alias/, `${file}: no internals`);
    t.ok(r.maxRssMb < 300, `${file}: peak RSS ${r.maxRssMb.toFixed(0)} MB`);
  }
});

t.test('a repeated key is a syntax error at the repeat, also after an alias past the limit', async (t) => {
  t.same(problemsOf('cluster:\n  name: a\n  name: b\n').map((p) => p.split('\n')[0]), ['hostile.yaml:3:3 (yaml): Map keys must be unique ("name" appears twice)']);
  // The syntax error comes first, wherever it is: the walk that counts aliases goes on past the bomb.
  t.match(problemsOf(`${bomb}a0: again\n`), [/^hostile\.yaml:11:1 \(yaml\): Map keys must be unique \("a0" appears twice\)/]);
});

t.test('the parse leaves process.env as it found it, also when it stops early', async (t) => {
  const env = process.env;
  t.ok(parseDocumentBounded('a: 1\n', { lineCounter: new LineCounter(), uniqueKeys: false }).ok);
  t.equal(process.env, env);
  t.notOk(parseDocumentBounded(`${'['.repeat(100)}`, { lineCounter: new LineCounter(), uniqueKeys: false }).ok);
  t.equal(process.env, env, 'after a document nested too deeply');
});
