// Long run of the packet-codec fuzzer (the same engine as test/dhcp-packet/fuzz.test.ts).
//   npx tsc -p . && node dist/bench/fuzz-codec.js [packets=1000000] [seed=0x5eed2131]
// Prints packets/s, the outcome histogram and the escapes (must be 0; exit status 1 otherwise).

import { runFuzz } from '../test/dhcp-packet/helpers/fuzz.js';

const packets = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 0x5eed2131);
if (!Number.isInteger(packets) || packets <= 0 || !Number.isInteger(seed)) {
  console.error('usage: node dist/bench/fuzz-codec.js [packets] [seed]');
  process.exit(2);
}

const res = runFuzz(seed, packets, 20);
const rate = packets / (res.ms / 1000);
console.log(`fuzz-codec: ${packets} packets, seed 0x${seed.toString(16)}, ${(res.ms / 1000).toFixed(1)} s, ${Math.round(rate)} packets/s (node ${process.version})`);
const width = Math.max(...[...res.histogram.keys()].map((k) => k.length));
for (const [k, n] of [...res.histogram].sort((a, b) => b[1] - a[1])) {
  console.log(`  ${k.padEnd(width)}  ${String(n).padStart(9)}  ${((100 * n) / packets).toFixed(2).padStart(6)}%`);
}
console.log(`escapes: ${res.escapeCount}`);
for (const e of res.escapes) console.log(`  iteration ${e.iteration} (${e.stage}): ${e.error.split('\n')[0]}\n    ${e.hex}`);
process.exitCode = res.escapeCount === 0 ? 0 : 1;
