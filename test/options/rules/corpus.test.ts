// The malformed-description corpus: each file is examples/cluster.yaml with one thing broken, and
// says on its first line which field and rule must be reported:
//   # expect: <substring of the field path> | <substring of the rule>
//   # also: <rule substring>|<rule substring>   (optional: other errors the same change causes)
// Every error reported must be the expected rule or one listed under `also`: one rule per file.
// The warn/ corpus is the same with `# warn:`; those files must load (warnings only).
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, formatProblem, type Problem } from '../../../src/errors.js';
import { loadClusterText } from '../../../src/options/load.js';

const ROOT = process.cwd();
const INVALID = join(ROOT, 'test/fixtures/config/invalid');
const WARN = join(ROOT, 'test/fixtures/config/warn');

function header(text: string, tag: string): { field: string; rule: string } {
  const m = new RegExp(`^# ${tag}: (.*?) \\| (.*)$`, 'm').exec(text.split('\n')[0] ?? '');
  if (!m) throw new Error(`first line must be "# ${tag}: <field> | <rule>"`);
  return { field: m[1]!, rule: m[2]! };
}

function problemsOf(text: string, file: string): Problem[] | undefined {
  try {
    loadClusterText(text, file);
    return undefined;
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

const invalid = readdirSync(INVALID).filter((f) => f.endsWith('.yaml')).sort();

t.test('the corpus is big enough', async (t) => {
  t.ok(invalid.length >= 35, `${invalid.length} malformed descriptions`);
});

for (const name of invalid) {
  t.test(`rejects ${name}`, async (t) => {
    const text = readFileSync(join(INVALID, name), 'utf8');
    const { field, rule } = header(text, 'expect');
    const also = (/^# also: (.*)$/m.exec(text)?.[1] ?? '').split('|').filter(Boolean);
    const problems = problemsOf(text, name);
    t.ok(problems, 'is rejected');
    if (!problems) return;
    const errors = problems.filter((p) => p.severity === 'error');
    const listing = errors.map(formatProblem).join('\n');
    const hit = errors.find((p) => p.field.includes(field) && p.rule.includes(rule));
    t.ok(hit, `an error names field "${field}" and rule "${rule}"; got:\n${listing}`);
    if (hit) {
      t.equal(hit.file, name, 'names the file');
      t.ok(typeof hit.line === 'number' && hit.line > 1, `has a line number (${hit.line})`);
      t.ok(typeof hit.col === 'number' && hit.col >= 1, 'has a column');
      // The line reported holds the field's last key (or, for a missing field, its parent).
      const lineText = text.split('\n')[hit.line! - 1] ?? '';
      t.ok(lineText.trim().length > 0 && !lineText.trim().startsWith('#'), `line ${hit.line} is content: ${lineText.trim()}`);
    }
    const stray = errors.filter((p) => !p.rule.includes(rule) && !also.some((a) => p.rule.includes(a)));
    t.same(stray.map(formatProblem), [], 'breaks only the one rule');
  });
}

for (const name of readdirSync(WARN).filter((f) => f.endsWith('.yaml')).sort()) {
  t.test(`warns on ${name}`, async (t) => {
    const text = readFileSync(join(WARN, name), 'utf8');
    const { field, rule } = header(text, 'warn');
    const loaded = loadClusterText(text, name);
    const hit = loaded.warnings.find((p) => p.field.includes(field) && p.rule.includes(rule));
    t.ok(hit, `a warning names "${field}" and "${rule}"; got:\n${loaded.warnings.map(formatProblem).join('\n')}`);
    t.ok(hit?.line, 'with a line number');
    t.ok(loaded.warnings.every((w) => w.severity === 'warning'));
  });
}
