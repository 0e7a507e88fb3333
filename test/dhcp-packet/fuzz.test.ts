// The codec's contract under 60,000 mutated packets (seeded, so a failure replays exactly).
// bench/fuzz-codec.ts runs the same fuzzer for a million.
import t from 'tap';
import { decodeMessage } from '../../src/dhcp-packet/index.js';
import { DecodeError } from '../../src/errors.js';
import { runFuzz, seedCorpus } from './helpers/fuzz.js';

const SEED = 0x5eed2131;
const PACKETS = 60_000;

t.test(`${PACKETS} mutated packets: only DecodeError, and what decodes round-trips`, async (t) => {
  const res = runFuzz(SEED, PACKETS);
  const hist = Object.fromEntries([...res.histogram].sort());
  t.comment(`${PACKETS} packets in ${res.ms.toFixed(0)} ms: ${JSON.stringify(hist)}`);
  t.equal(res.escapeCount, 0, 'no escapes');
  for (const e of res.escapes) t.fail(`escape at iteration ${e.iteration} (${e.stage}): ${e.error}\n${e.hex}`);
  // The fuzzer must reach both sides of the contract, or the zero above means little.
  t.ok((res.histogram.get('decoded') ?? 0) > PACKETS / 10, 'a good share of mutants still decode');
  for (const reason of ['truncated-header', 'bad-cookie', 'option-past-end', 'truncated-option', 'bad-overload', 'bad-option', 'bad-hlen', 'bad-op', 'missing-message-type', 'bad-message-type']) {
    t.ok((res.histogram.get(`decode:${reason}`) ?? 0) > 0, `reaches ${reason}`);
  }
  t.ok((res.histogram.get('encode576:too-big') ?? 0) > 0, 'reaches too-big at 576');
  // ~2–5 s here; the bound only catches a pathological slowdown (a loop, quadratic work), not noise.
  t.ok(res.ms < 60_000, `finished in ${res.ms.toFixed(0)} ms`);
});

t.test('the same seed gives the same run', async (t) => {
  const a = runFuzz(7, 2000);
  const b = runFuzz(7, 2000);
  t.same([...a.histogram].sort(), [...b.histogram].sort());
});

t.test('every truncation of every seed packet is a DecodeError or a message', async (t) => {
  let n = 0;
  for (const p of seedCorpus()) {
    for (let len = 0; len <= p.length; len++) {
      try {
        decodeMessage(p.subarray(0, len));
      } catch (err) {
        if (!(err instanceof DecodeError)) t.fail(`length ${len}: ${String(err)}`);
      }
      n++;
    }
  }
  t.pass(`${n} truncations`);
});
