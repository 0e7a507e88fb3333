// The shared pieces of bench/ that turn perfdhcp's output into figures. Fixtures are real outputs
// captured on this machine kind (Kea 2.2 perfdhcp, veth between two namespaces):
//   perfdhcp-kea-clean.txt         -r 50 -p 2 against Kea: every exchange answered, timestamps printed
//   perfdhcp-dnsmasq-saturated.txt -r 1500 -p 2 against dnsmasq: drops, expired requests, NAKs
//   perfdhcp-no-server.txt         -r 20 -p 1 with no server: n/a / inf delays, "Unavailable!"
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { PerfdhcpParseError } from '../../bench/lib/errors.js';
import { parsePerfdhcpOutput, PerfdhcpOutputParser } from '../../bench/lib/perfdhcp-output.js';
import { condenseRawOutput, parsePerfdhcpFile } from '../../bench/lib/perfdhcp.js';
import { median, percentileSorted, summarizeLatencies } from '../../bench/lib/stats.js';

const fixture = (name: string): string => join(process.cwd(), 'test/bench/fixtures', name);
const read = (name: string): string => readFileSync(fixture(name), 'utf8');

t.test('a clean run: counters, and latencies that agree with perfdhcp’s own summary', async (t) => {
  const text = read('perfdhcp-kea-clean.txt');
  const r = parsePerfdhcpOutput(text);
  t.equal(r.rate, 32.9991);
  t.equal(r.expectedRate, 50);
  t.equal(r.malformed, 0);
  t.match(r.DO, { sent: 99, received: 99, drops: 0, orphans: 0, collected: 0, minMs: 0.308, avgMs: 1.24, maxMs: 12.631, stdDevMs: 1.367 });
  t.ok(r.RA);
  t.match(r.RA, { sent: 99, received: 99, drops: 0, minMs: 0.162, avgMs: 1.822, maxMs: 104.808 });
  t.same(r.periodic, [
    { sent: [49, 49], received: [49, 49], drops: [0, 0], rejected: [0, 0] },
    { sent: [99, 99], received: [99, 99], drops: [0, 0], rejected: [0, 0] },
  ]);
  t.ok(r.timestampsPrinted);
  // One latency per answered exchange, each landing in its own section.
  t.equal(r.latenciesMs.DO.length, r.DO.received);
  t.equal(r.latenciesMs.RA.length, r.RA?.received);

  // The first REQUEST-ACK line, recomputed by hand from the text: received − sent.
  const lines = text.split('\n');
  const raHeader = lines.indexOf('***Timestamps for packets: REQUEST-ACK***');
  const firstRa = lines.slice(raHeader + 1).find((l) => l.startsWith('sent / received:'));
  const m = /(\d+)\.(\d+) \/ (\d+)\.(\d+)$/.exec(firstRa ?? '');
  t.ok(m, 'fixture has an RA timestamp line');
  const us = (secs: string, frac: string): number => Number(secs) * 1e6 + Number(frac); // < 1 min: HHMMSS = seconds
  t.equal(r.latenciesMs.RA[0], (us(m?.[3] ?? '', m?.[4] ?? '') - us(m?.[1] ?? '', m?.[2] ?? '')) / 1000);

  // perfdhcp prints min/avg/max to the µs it measured; our sums over its printed timestamps must agree.
  for (const kind of ['DO', 'RA'] as const) {
    const s = summarizeLatencies(r.latenciesMs[kind]);
    const own = kind === 'DO' ? r.DO : r.RA;
    t.ok(s && own);
    if (!s || !own) continue;
    t.ok(Math.abs(s.avgMs - (own.avgMs ?? NaN)) < 0.002, `${kind} avg ${s.avgMs} ≈ perfdhcp ${own.avgMs}`);
    t.ok(Math.abs(s.maxMs - (own.maxMs ?? NaN)) < 0.002, `${kind} max ${s.maxMs} ≈ perfdhcp ${own.maxMs}`);
    t.ok(Math.abs(Math.min(...r.latenciesMs[kind]) - (own.minMs ?? NaN)) < 0.002, `${kind} min ≈ perfdhcp ${own.minMs}`);
    t.ok(s.p99Ms <= s.maxMs && s.p99Ms >= s.p50Ms, `${kind} p50 ≤ p99 ≤ max`);
  }
});

t.test('a saturated run: drops and expired requests; timestamps only for the answered exchanges', async (t) => {
  const r = parsePerfdhcpOutput(read('perfdhcp-dnsmasq-saturated.txt'));
  t.match(r.DO, { sent: 2994, received: 601, drops: 2393, collected: 6 });
  t.match(r.RA, { sent: 601, received: 498, drops: 103 });
  t.equal(r.DO.sent, r.DO.received + r.DO.drops, 'DO drops are the unanswered DISCOVERs');
  t.equal(r.periodic.length, 2);
  t.same(r.periodic[1]?.drops, [2467, 153]);
  t.ok(r.timestampsPrinted);
  t.equal(r.latenciesMs.DO.length, r.DO.received);
  t.equal(r.latenciesMs.RA.length, r.RA?.received);
  const ra = summarizeLatencies(r.latenciesMs.RA);
  t.ok(ra && Math.abs(ra.avgMs - (r.RA?.avgMs ?? NaN)) < 0.002, 'RA avg agrees with perfdhcp');
  t.ok(ra && ra.p99Ms > 10 * (r.RA?.minMs ?? Infinity), 'queueing shows in the tail');
});

t.test('no server: n/a and inf delays become null, "Unavailable!" is accepted', async (t) => {
  const r = parsePerfdhcpOutput(read('perfdhcp-no-server.txt'));
  t.equal(r.rate, 0);
  t.match(r.DO, { sent: 19, received: 0, drops: 19, minMs: null, avgMs: null, maxMs: null, stdDevMs: null });
  t.match(r.RA, { sent: 0, received: 0, drops: 0, avgMs: null });
  t.same(r.latenciesMs, { DO: [], RA: [] });
});

t.test('timestamps are HHMMSS.ffffff durations, not seconds', async (t) => {
  const base = read('perfdhcp-kea-clean.txt').split('\n');
  const at = base.indexOf('***Timestamps for packets: DISCOVER-OFFER***');
  const text = [
    ...base.slice(0, at + 1),
    'sent / received: 000159.999900 / 000200.000150', // across a minute: 0.25 ms
    'sent / received: 015959.000000 / 020000.500000', // across an hour: 1.5 s
    'sent / received: 1000000.000001 / 1000000.000002', // 100 h: hours take more digits
    'sent / received: 000000.993702 / 000001', // a zero fraction is left out (seen in a real run)
  ].join('\n');
  const r = parsePerfdhcpOutput(text);
  t.equal(r.latenciesMs.DO.length, 4);
  t.ok(Math.abs((r.latenciesMs.DO[0] ?? 0) - 0.25) < 1e-9, 'minute boundary');
  t.ok(Math.abs((r.latenciesMs.DO[1] ?? 0) - 1500) < 1e-9, 'hour boundary');
  t.ok(Math.abs((r.latenciesMs.DO[2] ?? 0) - 0.001) < 1e-9, 'three-digit hours');
  t.ok(Math.abs((r.latenciesMs.DO[3] ?? 0) - 6.298) < 1e-9, 'whole second without a fraction');
});

t.test('what is not perfdhcp output is refused with a line number', async (t) => {
  const clean = read('perfdhcp-kea-clean.txt');
  const lines = clean.split('\n');

  t.throws(() => parsePerfdhcpOutput(''), /no "Rate:" line/);
  t.throws(
    () => parsePerfdhcpOutput('ERROR: parsing command line options: value of test period: -p<value> must be a positive integer\n'),
    /perfdhcp failed: ERROR: parsing command line options/,
  );
  // Cut off in the middle of the first statistics section (perfdhcp killed while printing).
  const cut = lines.slice(0, lines.indexOf('drops ratio: 0 %')).join('\n');
  t.throws(() => parsePerfdhcpOutput(cut.replace(/^drops: 0$/m, '')), /DO statistics lack "drops"/);

  const badStamp = lines.map((l, i) => (i === 60 && l.startsWith('sent / received') ? 'sent / received: soon / later' : l));
  t.ok(lines[60]?.startsWith('sent / received'), 'line 61 of the fixture is a timestamp');
  const err = t.throws(() => parsePerfdhcpOutput(badStamp.join('\n')));
  t.type(err, PerfdhcpParseError);
  t.equal((err as PerfdhcpParseError).line, 61);
  t.match((err as Error).message, /line 61: unexpected line among the timestamps: "sent \/ received: soon \/ later"/);

  t.throws(() => parsePerfdhcpOutput(clean.replace('sent packets: 99', 'sent packets: many')), /sent packets: "many" is not a count/);
  t.throws(() => parsePerfdhcpOutput(clean.replace('avg delay: 1.240 ms', 'avg delay: fast')), /avg delay: "fast" is neither/);
  t.throws(
    () => parsePerfdhcpOutput(clean.replace('sent / received: 000000.000049 / 000000.001995', 'sent / received: 000000.001995 / 000000.000049')),
    /received before sent/,
  );
});

t.test('streaming a file gives the same report as parsing the text', async (t) => {
  for (const name of ['perfdhcp-kea-clean.txt', 'perfdhcp-dnsmasq-saturated.txt', 'perfdhcp-no-server.txt']) {
    t.same(await parsePerfdhcpFile(fixture(name)), parsePerfdhcpOutput(read(name)), name);
  }
  // CRLF and trailing spaces (a copy through a terminal) do not change anything.
  const parser = new PerfdhcpOutputParser();
  for (const line of read('perfdhcp-kea-clean.txt').split('\n')) parser.push(`${line}  \r`);
  t.same(parser.finish(), parsePerfdhcpOutput(read('perfdhcp-kea-clean.txt')));
});

t.test('raw output for a failure report folds long runs of timestamps only', async (t) => {
  const text = read('perfdhcp-kea-clean.txt');
  const folded = condenseRawOutput(text, 3);
  const stampLines = (s: string): number => s.split('\n').filter((l) => l.startsWith('sent / received:')).length;
  t.equal(stampLines(folded), 12, 'two sections × (3 first + 3 last)');
  t.match(folded, /\[… 93 more timestamp lines …\]/);
  for (const line of text.split('\n').filter((l) => l !== '' && !l.startsWith('sent / received:'))) {
    t.ok(folded.includes(line), `kept: ${line}`);
  }
  t.equal(condenseRawOutput('a\nsent / received: 000000.1 / 000000.2\nb', 3), 'a\nsent / received: 000000.1 / 000000.2\nb');
});

t.test('median and nearest-rank percentiles', async (t) => {
  t.equal(median([]), null);
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([4, 1, 3, 2]), 2.5);
  const sorted = Float64Array.from({ length: 200 }, (_, i) => i + 1); // 1..200
  t.equal(percentileSorted(sorted, 99), 198, 'the 198th of 200 values');
  t.equal(percentileSorted(sorted, 100), 200);
  t.equal(percentileSorted(sorted, 0.1), 1);
  t.equal(percentileSorted(new Float64Array(0), 99), null);
  t.throws(() => percentileSorted(sorted, 0), RangeError);
  const s = summarizeLatencies([5, 1, 4, 2, 3]);
  t.same(s, { count: 5, avgMs: 3, p50Ms: 3, p99Ms: 5, maxMs: 5 });
});
