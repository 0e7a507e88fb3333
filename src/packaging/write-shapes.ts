// Writes the generated shape modules (shapes.ts) into the checkout. Usage, from the checkout:
//   npm run build && node dist/src/packaging/write-shapes.js && npm run build
import { writeFileSync } from 'node:fs';
import { generatedShapes } from './shapes.js';

for (const [file, text] of Object.entries(generatedShapes())) {
  writeFileSync(file, text);
  process.stdout.write(`${file}\n`);
}
