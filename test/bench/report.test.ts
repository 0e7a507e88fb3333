// From per-run results to the side-by-side table, the bench's command line, and the kernel UDP
// counters. Runs are built from the captured perfdhcp outputs, parsed by the real parser.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { UsageError } from '../../src/errors.js';
import { DEFAULTS, parseBenchArgs } from '../../bench/lib/args.js';
import { parsePerfdhcpOutput, type PerfdhcpReport } from '../../bench/lib/perfdhcp-output.js';
import { bestPeer, renderTable, summarizeServer, withRatios, type ServerInfo } from '../../bench/lib/report.js';
import type { RunFailure, RunResult } from '../../bench/lib/run-server.js';
import { summarizeLatencies } from '../../bench/lib/stats.js';
import { diffUdpCounters, parseUdpCounters } from '../../bench/lib/udp-counters.js';

const report = (name: string): PerfdhcpReport =>
  parsePerfdhcpOutput(readFileSync(join(process.cwd(), 'test/bench/fixtures', name), 'utf8'));
const clean = report('perfdhcp-kea-clean.txt');
const saturated = report('perfdhcp-dnsmasq-saturated.txt');

function run(server: string, phase: RunResult['phase'], rep: number, offeredRate: number, r: PerfdhcpReport, periodS: number): RunResult {
  if (r.RA === null) throw new Error('fixture without RA');
  return {
    server, phase, rep, offeredRate, periodS,
    readyMs: 20 + rep, rssIdleKb: 20480, rssAfterKb: 40960 + rep * 1024, peakRssKb: 41000,
    cpuS: 0.5, acksPerS: r.RA.received / periodS, perfdhcpRate: r.rate,
    DO: r.DO, RA: r.RA, drops: r.DO.drops + r.RA.drops,
    latency: { DO: summarizeLatencies(r.latenciesMs.DO), RA: summarizeLatencies(r.latenciesMs.RA) },
    periodic: r.periodic, timestampCoverage: 1, perfdhcpExit: 3, perfdhcpWallS: periodS + 1,
    udp: { client: null, server: null },
  };
}

const info = (id: string, peer = true, skipped: string | null = null): ServerInfo => ({
  id, label: id, peer, durable: { short: peer ? 'no' : 'required', why: '' }, version: null, skipped,
});

t.test('a server summary: the offered rate with the best median counts, medians across reps', async (t) => {
  // Same fixture at two offered rates with different periods → different ACK rates (99/1 vs 99/2).
  const runs: Array<RunResult | RunFailure> = [
    run('kea', 'ladder', 1, 250, clean, 2),
    run('kea', 'max', 1, 1000, clean, 2),
    run('kea', 'max', 2, 1000, clean, 2),
    run('kea', 'max', 1, 2000, clean, 1),
    run('kea', 'max', 2, 2000, clean, 1),
    run('kea', 'max', 3, 2000, saturated, 1),
    run('kea', 'fixed', 1, 800, clean, 2),
    { server: 'kea', phase: 'fixed', rep: 2, offeredRate: 800, error: 'kea exited during the load' },
  ];
  const s = summarizeServer(info('kea'), runs);
  t.equal(s.max?.offeredRate, 2000, 'the rate whose median ACK rate is highest');
  t.same(s.max?.acksPerS, { median: 99, min: 99, max: 498, n: 3 });
  t.equal(s.max?.dropsDO, 0, 'median of 0, 0, 2393');
  t.equal(s.max?.cpuUsPerAck, (0.5 / 99) * 1e6);
  t.equal(s.max?.cpuPercent, 50);
  t.equal(s.fixed?.acksPerS?.median, 49.5);
  t.equal(s.failures.length, 1);
  t.equal(s.rssAfterMaxKb, 40960 + 2 * 1024, 'median RSS after, over the max runs only');
  t.ok(s.max && s.max.p99Ms.RA !== null && s.max.p99Ms.RA > 0);
});

t.test('the best peer ignores rackstrap; the ratio is to the best peer', async (t) => {
  const kea = summarizeServer(info('kea'), [run('kea', 'max', 1, 1000, clean, 2)]); // 49.5/s
  const dnsmasq = summarizeServer(info('dnsmasq'), [run('dnsmasq', 'max', 1, 1000, clean, 1)]); // 99/s
  const rackstrap = summarizeServer(info('rackstrap', false), [run('rackstrap', 'max', 1, 1000, saturated, 1)]); // 498/s
  t.same(bestPeer([kea, dnsmasq, rackstrap]), { id: 'dnsmasq', rate: 99 });
  const all = withRatios([kea, dnsmasq, rackstrap]);
  t.equal(all[0]?.ratioToBestPeer, 0.5);
  t.equal(all[1]?.ratioToBestPeer, 1);
  t.equal(all[2]?.ratioToBestPeer, 498 / 99);
  t.equal(bestPeer([rackstrap]), null, 'no peer, no bar');
});

t.test('the table: one column per server, skipped and failed ones marked, Markdown shape', async (t) => {
  const summaries = withRatios([
    summarizeServer(info('kea'), [run('kea', 'max', 1, 1000, clean, 2), run('kea', 'fixed', 1, 40, clean, 2)]),
    summarizeServer(info('dhcpd'), [{ server: 'dhcpd', phase: 'max', rep: 1, offeredRate: 1000, error: 'dhcpd exited (exit 1)' }]),
    summarizeServer(info('rackstrap', false, 'rackstrap has no "serve" command yet'), []),
  ]);
  const table = renderTable(summaries, { fraction: 0.8, fixedRate: 40 });
  const lines = table.split('\n');
  t.match(lines[0], /^\| +\| kea +\| dhcpd +\| rackstrap +\|$/);
  t.match(lines[1], /^\|-+\|-+\|-+\|-+\|$/);
  t.equal(new Set(lines.map((l) => l.length)).size, 1, 'every line padded to the same width');
  const row = (label: string): string[] => (lines.find((l) => l.startsWith(`| ${label}`)) ?? '').split('|').slice(2, -1).map((c) => c.trim());
  t.same(row('max DORA/s'), ['50', 'failed', 'skipped']);
  t.same(row('drops at 80% of best peer (40/s)'), ['0 / 0', 'failed', 'skipped']);
  t.same(row('leases on disk before ACK'), ['no', 'failed', 'skipped']);
  t.same(row('max rate / best peer'), ['1.00×', 'failed', 'skipped']);
  t.same(row('RSS idle → after max run'), ['20 → 41', 'failed', 'skipped']);
  t.notMatch(table, /command/, 'reasons go below the table, not in it');
});

t.test('command line', async (t) => {
  const known = ['kea', 'dhcpd', 'rackstrap'];
  const d = parseBenchArgs([], known);
  t.match(d, { periodS: DEFAULTS.periodS, rates: 'auto', fraction: 0.8, fixedRate: null, servers: null, reps: 3, clients: 50000, keepFiles: false });
  const o = parseBenchArgs(['--period', '3', '--rate', '500,2000', '--servers', 'dhcpd,kea', '--reps', '1', '--fixed-rate', '100', '--keep'], known);
  t.match(o, { periodS: 3, rates: [500, 2000], servers: ['dhcpd', 'kea'], reps: 1, fixedRate: 100, keepFiles: true });
  t.equal(parseBenchArgs(['--rate', 'auto'], known).rates, 'auto');
  t.throws(() => parseBenchArgs(['--period', '2.5'], known), UsageError, 'perfdhcp takes whole seconds only');
  t.throws(() => parseBenchArgs(['--servers', 'kea,bind'], known), /unknown bind; known: kea, dhcpd, rackstrap/);
  t.throws(() => parseBenchArgs(['--fraction', '1.5'], known), /--fraction must be in \(0, 1\]/);
  t.throws(() => parseBenchArgs(['--reps', '0'], known), /--reps must be a whole number ≥ 1/);
  t.throws(() => parseBenchArgs(['--bogus'], known), UsageError);
});

t.test('kernel UDP counters from /proc/net/snmp', async (t) => {
  const snmp = (rcvbuf: number): string =>
    [
      'Ip: Forwarding DefaultTTL',
      'Ip: 2 64',
      'Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors',
      `Udp: 1000 2 ${rcvbuf} 990 ${rcvbuf} 0 0 0 0`,
      'UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors',
      'UdpLite: 0 0 0 0 0 0 0 0 0',
    ].join('\n');
  t.same(parseUdpCounters(snmp(7)), { InDatagrams: 1000, NoPorts: 2, InErrors: 7, OutDatagrams: 990, RcvbufErrors: 7, SndbufErrors: 0 });
  t.equal(diffUdpCounters(parseUdpCounters(snmp(7)), parseUdpCounters(snmp(320)))?.RcvbufErrors, 313);
  t.equal(parseUdpCounters('Ip: 1\nIp: 2\n'), null);
  t.equal(diffUdpCounters(null, parseUdpCounters(snmp(1))), null);
});
