// Runs several rackstrap commands in one process (the CLI's own main(), with its output captured),
// so a test that needs a dozen short commands in a namespace pays for one Node start, not twelve.
//   node cli-batch.js '[{"argv":["token","create"]},{"argv":["join","x"],"waitMs":1200}]'
// Prints one JSON array: {code, stdout, stderr} per command.
import { main } from '../../../src/cli/main.js';

const steps = JSON.parse(process.argv[2] ?? '[]') as Array<{ argv: string[]; waitMs?: number }>;
const results: Array<{ code: number; stdout: string; stderr: string }> = [];
for (const s of steps) {
  if (s.waitMs) await new Promise((r) => setTimeout(r, s.waitMs));
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(s.argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  results.push({ code, stdout: out.join('\n'), stderr: err.join('\n') });
}
process.stdout.write(`${JSON.stringify(results)}\n`);
