// One join attempt with this process's clock shifted (argv: endpoint, code file, base MAC,
// offset ms): the real client against the real server, only its clock moved. Prints the error's
// kind and message as JSON.
import { readFileSync } from 'node:fs';
import { parseCode } from '../../../src/join/code.js';
import { JoinError, requestJoin } from '../../../src/join/client.js';

const [endpoint, codeFile, baseMac, offset] = process.argv.slice(2) as [string, string, string, string];
const [address, port] = endpoint.split(':') as [string, string];
const code = parseCode(readFileSync(codeFile, 'utf8'), codeFile);
try {
  await requestJoin({ endpoint: { address, port: Number(port) }, code, caPin: code.caPin!, baseMac, now: () => Date.now() + Number(offset) });
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  console.log(JSON.stringify({ kind: e instanceof JoinError ? e.kind : 'other', message: (e as Error).message }));
}
