// A YAML syntax error, as netplan shows one: the first error only, at file:line:col, then the line
// and a caret under the column — in the cluster description (validate, and every command that
// loads one) and in agent.yaml.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAgentConfig } from '../../src/bootstrap/agent-config.js';
import { ConfigError, type Problem } from '../../src/errors.js';
import { main } from '../../src/cli/main.js';
import { loadClusterText } from '../../src/options/load.js';
import { caretExcerpt } from '../../src/options/yaml-syntax.js';

const example = readFileSync(join(process.cwd(), 'examples/cluster.yaml'), 'utf8');

function problemsOf(f: () => unknown): Problem[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

/** The example with `from` replaced (once) by `to`; and the 1-based line where `to` starts. */
function broken(from: string, to: string): { text: string; line: number } {
  const at = example.indexOf(from);
  if (at < 0) throw new Error(`not in the example: ${from}`);
  const text = example.slice(0, at) + to + example.slice(at + from.length);
  return { text, line: text.slice(0, at).split('\n').length };
}

t.test('the caret sits under the column, tabs kept, long lines cut around it', async (t) => {
  t.equal(caretExcerpt('a: 1\nbb: [x\n', 2, 5), '  bb: [x\n      ^');
  t.equal(caretExcerpt('\tkey: : x', 1, 7), '  \tkey: : x\n  \t     ^', 'a tab in the line is a tab under it');
  const long = `k: ${'x'.repeat(300)}!${'y'.repeat(300)}`;
  const ex = caretExcerpt(long, 1, long.indexOf('!') + 1)!;
  const [line, caret] = ex.split('\n');
  t.ok(line!.length <= 110, `cut to ${line!.length} characters`);
  t.equal(line![caret!.indexOf('^')], '!', 'the caret still points at the column');
  t.equal(caretExcerpt('a\u001b[2Jb', 1, 2), '  a?[2Jb\n   ^', 'control characters are not sent to the terminal');
  t.equal(caretExcerpt('one line', 3, 1), undefined, 'no such line');
});

t.test('a description with several syntax errors: only the first, with its line', async (t) => {
  // Two separate mistakes: an unclosed flow list, and a tab-indented key further down.
  let { text, line } = broken('  name: lab\n', '  name: [lab\n');
  text = text.replace('  leaseTime: 86400\n', '\tleaseTime: 86400\n');
  const ps = problemsOf(() => loadClusterText(text, 'c.yaml'));
  t.equal(ps.length, 1, 'one problem, not a cascade');
  const p = ps[0]!;
  t.match(p, { file: 'c.yaml', field: '(yaml)', severity: 'error' });
  t.ok(p.line! >= line && p.line! <= line + 2, `at the broken list or the line after it (${p.line}:${p.col})`);
  const shown = text.split('\n')[p.line! - 1]!;
  t.equal(p.excerpt, `  ${shown}\n  ${' '.repeat(p.col! - 1)}^`, 'the line, and a caret under the column');
  t.notMatch(p.rule, /\n| at line \d+/, 'one line of rule, the position is in the prefix');
});

t.test('duplicate keys count as syntax: the first one reported', async (t) => {
  const { text, line } = broken('  generation: 1', '  generation: 1\n  generation: 2\n  generation: 3');
  const ps = problemsOf(() => loadClusterText(text, 'c.yaml'));
  t.equal(ps.length, 1);
  t.match(ps[0], { line: line + 1, col: 3, rule: /unique/ });
  t.match(ps[0]!.excerpt, /^ {2} {2}generation: 2\n {4}\^$/);
});

t.test('validate prints file:line:col, the rule, the line and the caret, and exits 1', async (t) => {
  const dir = t.testdir({ 'c.yaml': broken('  vendorClass: rackstrap', '  vendorClass: : rackstrap').text });
  const err: string[] = [];
  const code = await main(['validate', join(dir, 'c.yaml')], { out: () => undefined, err: (s) => err.push(s) });
  t.equal(code, 1);
  const lines = err.join('\n').split('\n');
  t.match(lines[0], new RegExp(`^${join(dir, 'c.yaml').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+ \\(yaml\\): `));
  t.match(lines[1], /^ {2} {2}vendorClass: : rackstrap/);
  t.match(lines[2], /^ +\^$/);
  t.match(lines[3], /1 error$/);
  t.equal(lines.length, 4, 'nothing more');
});

t.test('agent.yaml: the first syntax error, with its line', async (t) => {
  const dir = t.testdir({ 'agent.yaml': 'clusterId: "02:00:00:00:AA:00"\nnics: { eth0: ens3\nlogLevel: [info\n' });
  let problems: Problem[] = [];
  try {
    await loadAgentConfig({ file: join(dir, 'agent.yaml'), env: {} });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems = e.problems;
    t.match(e.message, /\n {2}.*\n {2} *\^/, 'the message shows the line and the caret');
  }
  t.equal(problems.length, 1, problems.map((p) => p.rule).join('; '));
  t.match(problems[0], { file: join(dir, 'agent.yaml'), field: '(yaml)' });
  t.ok(problems[0]!.line! >= 2, 'not on the good first line');
  t.match(problems[0]!.excerpt, /\^$/);
});
