// Build step of the package: writes the manual pages and the bash completion below a staging
// folder. Usage: node dist/src/packaging/write-manual.js ROOT
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildProgram } from '../cli/main.js';
import { version } from '../cli/version.js';
import { renderBashCompletion, renderManPages } from './manual.js';

const root = process.argv[2];
if (root === undefined) {
  process.stderr.write('usage: write-manual ROOT\n');
  process.exitCode = 2;
} else {
  const program = buildProgram({ out: () => undefined, err: () => undefined });
  for (const f of [...renderManPages(program, version()), renderBashCompletion(program)]) {
    const file = path.join(root, f.name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, f.content, { mode: 0o644 });
    process.stdout.write(`${f.name}\n`);
  }
}
