// Build step of a checkout (`npm run build`, after tsc): bundles the CLI with esbuild into
// dist/bundle/, which bin/rackstrap.js runs. One ES module for what every invocation loads
// (commander and the command definitions) and one chunk per lazily imported part (each command's
// implementation and what only it needs), so a checkout starts like the package's executable
// (scripts/build-deb.sh bundles the same entry, as one file) instead of resolving and loading
// hundreds of modules. The description loader's worker is a second entry (serve starts it from
// next to the code that loads it). dist/bundle/meta.json maps each output file to its sources.
// Usage: node dist/src/packaging/bundle.js [OUT_DIR]   (default dist/bundle)
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const out = process.argv[2] ?? 'dist/bundle';
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
rmSync(out, { recursive: true, force: true });
const r = await build({
  entryPoints: { main: 'src/cli/main.ts', 'config-worker': 'src/dhcp-server/config-worker.ts' },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'none',
  metafile: true,
  define: { RACKSTRAP_VERSION: JSON.stringify(version) },
  // The npm packages written as CommonJS call require(), which an ES module has not by itself.
  banner: { js: "import { createRequire as __rackstrapRequire } from 'node:module'; const require = __rackstrapRequire(import.meta.url);" },
  // dbus-next requires x11 only to find a session bus through an X display (see build-deb.sh).
  external: ['x11'],
});
writeFileSync(path.join(out, 'meta.json'), JSON.stringify(r.metafile));
writeFileSync(path.join(out, 'package.json'), '{ "type": "module" }\n');
