// Entry of the bundled CLI (/usr/bin/rackstrap in the package, built by scripts/build-deb.sh).
// From a checkout, bin/rackstrap.js does the same with dist/bundle/. `rackstrap --version` alone
// needs nothing else, so it answers before the commands are loaded.
import { version } from './version.js';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) process.stdout.write(`${version()}\n`);
else
  void import('./main.js').then(({ main }) =>
    main(args).then((code) => {
      process.exitCode = code;
    }),
  );
