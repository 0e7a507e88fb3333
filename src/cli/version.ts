// The version `rackstrap --version` prints. The bundled CLI (scripts/build-bundle) has it set at
// build time; run from the checkout (dist/), it comes from package.json.
import { readFileSync } from 'node:fs';

declare const RACKSTRAP_VERSION: string | undefined;

export function version(): string {
  if (typeof RACKSTRAP_VERSION === 'string') return RACKSTRAP_VERSION;
  // dist/src/cli/version.js -> the checkout's package.json
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
