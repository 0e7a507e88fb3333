// The corpus of cluster shapes (test/fixtures/corpus): the files, loaded. Shared by the corpus tests
// and the lab run over the corpus (test/lab-corpus/).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export const CORPUS_DIR = 'test/fixtures/corpus';

/** Every description of the corpus, by path, in name order. */
export function corpusFiles(): string[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(CORPUS_DIR, f));
}
