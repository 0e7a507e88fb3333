// Every description of the corpus is valid: `validate`'s rules accept it with no error (and no
// warning: each file is a shape an admin may write as it is).
import t from 'tap';
import { ConfigError, formatProblem } from '../../src/errors.js';
import { loadClusterFile } from '../../src/options/load.js';
import { corpusFiles } from './helpers/corpus.js';

const files = corpusFiles();

t.ok(files.length >= 12, `at least 12 descriptions in the corpus (${files.length})`);

for (const file of files) {
  t.test(file, async (t) => {
    try {
      const loaded = await loadClusterFile(file);
      t.same(loaded.warnings.map(formatProblem), [], 'no warning');
      t.ok(loaded.filers.size >= 1, 'at least one filer');
    } catch (e) {
      t.fail(e instanceof ConfigError ? e.problems.map(formatProblem).join('\n') : String(e));
    }
  });
}
