#!/usr/bin/env node
// Launcher of a checkout. `npm run build` compiles the TypeScript to dist/ (tsc) and bundles the
// CLI into dist/bundle/ (esbuild: one module for what every command loads, one chunk per command's
// implementation), which starts like the package's executable; this runs the bundle. It runs the
// compiled modules of dist/src instead for `rackstrap lab` (it copies files of the checkout into
// its guest and finds them next to its own modules) and whenever the bundle is older than them
// (after a bare `tsc`), so it never runs code older than the last compile.
import { readFileSync, statSync } from 'node:fs';

const args = process.argv.slice(2);
// `rackstrap --version` alone needs nothing else: answered before the commands are loaded (as the
// package's executable does, src/cli/bin.ts).
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  const mtime = (file) => {
    try {
      return statSync(new URL(file, import.meta.url)).mtimeMs;
    } catch {
      return -1;
    }
  };
  const bundled = args[0] !== 'lab' && mtime('../dist/bundle/main.js') >= mtime('../dist/src/cli/main.js');
  const { main } = await import(bundled ? '../dist/bundle/main.js' : '../dist/src/cli/main.js');
  main(args).then((code) => {
    process.exitCode = code;
  });
}
