// Users do not have the documents behind the rules: no text they can meet cites a section ("§")
// or a requirements document ("seed 003"). Checked three ways: every string the program can print
// (each string literal and template piece under src/, comments excluded), what the rules say about
// every description of the corpora, and the shipped example, man pages' sources and README.
// docs/requirements.md is the one place that maps rules to the sections they enforce.
import t from 'tap';
import ts from 'typescript';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Problem } from '../../src/errors.js';
import { loadClusterText } from '../../src/options/load.js';

const ROOT = process.cwd();
const CITATION = /§|\bseed[ _-]?0\d\d\b|\bseed 00\d\b/i;

function walk(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p, ext));
    else if (name.endsWith(ext)) out.push(p);
  }
  return out;
}

/** Every string literal and template piece of a TypeScript file, with its line. */
function stringsOf(file: string): Array<{ line: number; text: string }> {
  const source = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const out: Array<{ line: number; text: string }> = [];
  const visit = (n: ts.Node): void => {
    if (ts.isStringLiteralLike(n) || ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)) {
      out.push({ line: sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1, text: n.text });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

t.test('no string under src/ cites a section or a requirements document', async (t) => {
  const files = walk(join(ROOT, 'src'), '.ts');
  t.ok(files.length > 100, `${files.length} source files read`);
  const hits: string[] = [];
  let count = 0;
  for (const f of files) {
    for (const s of stringsOf(f)) {
      count++;
      if (CITATION.test(s.text)) hits.push(`${f.slice(ROOT.length + 1)}:${s.line}: ${s.text}`);
    }
  }
  t.ok(count > 2000, `${count} strings read`);
  t.same(hits, [], 'strings citing sections');
});

function problemsOf(text: string, file: string): Problem[] {
  try {
    return loadClusterText(text, file).warnings;
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

t.test('what the rules say about every description of the corpora cites nothing', async (t) => {
  const dirs = ['test/fixtures/config/invalid', 'test/fixtures/config/warn', 'test/fixtures/corpus'];
  const hits: string[] = [];
  let problems = 0;
  for (const d of dirs) {
    for (const f of walk(join(ROOT, d), '.yaml')) {
      for (const p of problemsOf(readFileSync(f, 'utf8'), f)) {
        problems++;
        if (CITATION.test(p.rule) || CITATION.test(p.field)) hits.push(`${f.slice(ROOT.length + 1)}: ${p.field}: ${p.rule}`);
      }
    }
  }
  t.ok(problems > 90, `${problems} problems reported`);
  t.same(hits, [], 'problems citing sections');
});

t.test('the shipped example and the README cite nothing', async (t) => {
  for (const f of ['examples/cluster.yaml', 'README.md', ...walk(join(ROOT, 'contrib'), '')]) {
    const lines = readFileSync(f.startsWith('/') ? f : join(ROOT, f), 'utf8').split('\n');
    const hits = lines.map((l, i) => `${i + 1}: ${l}`).filter((l) => CITATION.test(l));
    t.same(hits, [], `${f.replace(ROOT + '/', '')} cites nothing`);
  }
});
