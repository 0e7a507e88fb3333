// Entry of the bundled CLI (/usr/bin/rackstrap in the package, built by scripts/build-deb.sh).
// From a checkout, bin/rackstrap.js does the same with dist/.
import { main } from './main.js';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
