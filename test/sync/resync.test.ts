// A returning server copies its partner's table of 10,000 leases before it serves: the copy
// goes in chunks (several messages, each written to disk as it comes), the two tables end equal,
// and they hold what the merge rule says — every lease of the active, the returning server's own
// leases that conflict with none of them, none of its leases that lose to a later one.

import { writeFileSync } from 'node:fs';
import t from 'tap';
import { toText } from '../../src/dhcp-server/address.js';
import { formatLine, LEASE_LOG_FORMAT } from '../../src/dhcp-server/lease-line.js';
import { pairLab, serveArgs, startNode, tableOf, waitRole } from './helpers/pair-lab.js';

const LEASES = 10_000;
const macOf = (side: number, i: number): string => `02:${side.toString(16).padStart(2, '0')}:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:01`;

function leaseLog(file: string, leases: Array<{ address: number; mac: string; expires: number }>, now: number): void {
  const lines = leases.map((l) => formatLine({ op: 'bind', address: toText(l.address), client: `hw:1:${l.mac}`, label: l.mac, hw: l.mac, expires: l.expires, at: now }));
  writeFileSync(file, `${formatLine({ op: 'header', format: LEASE_LOG_FORMAT, at: now })}\n${lines.join('\n')}\n`);
}

t.test('rejoin: 10,000 leases copied in chunks, both tables equal and as the merge rule says', async (t) => {
  const l = await pairLab(t, 'qpr', { start: '10.3.64.1', end: '10.3.127.254' });
  const now = Date.now();
  const base = 0x0a034001; // 10.3.64.1
  const activeLeases = Array.from({ length: LEASES }, (_, i) => ({ address: base + i, mac: macOf(0x11, i), expires: now + 86_400_000 }));
  // B's own: 50 leases nobody else has (kept), 10 on addresses A gave to others later (dropped).
  const own = Array.from({ length: 50 }, (_, i) => ({ address: 0x0a036e01 + i, mac: macOf(0x22, i), expires: now + 7_200_000 }));
  const losing = Array.from({ length: 10 }, (_, i) => ({ address: base + i, mac: macOf(0x33, i), expires: now + 3_600_000 }));
  leaseLog(serveArgs(l, 'a').leaseFile, activeLeases, now);
  leaseLog(serveArgs(l, 'b').leaseFile, [...own, ...losing], now);

  const a = await startNode(l, 'a');
  await waitRole(a, 'active-alone', 60_000);
  const b = await startNode(l, 'b');
  await waitRole(b, 'standby', 60_000);
  await waitRole(a, 'active', 10_000);
  const copied = b.lines.find((x) => x.event === 'pair-resynced');
  t.equal(copied?.leases, LEASES + own.length, `B copied the merged table: ${copied?.leases} leases in ${copied?.ms} ms (${JSON.stringify(copied?.phases)})`);
  t.ok(Number(copied?.ms) < 5000, `the copy took ${copied?.ms} ms (a loose bound for a busy machine; bench/pair-takeover.ts measures it)`);
  // The copy used to be cut off by the partner's timeouts (its heartbeats stopped while it wrote
  // the table): no connection may close for silence or a missing acknowledgment.
  const timedOut = [...a.lines, ...b.lines].filter((x) => x.event === 'pair-disconnected' && /nothing received|no acknowledgment/.test(String(x.reason)));
  t.same(timedOut.map((x) => x.reason), [], 'no connection closed for silence or a missing acknowledgment');
  a.signal('SIGTERM');
  b.signal('SIGTERM');
  t.same(await a.exited, { code: 0, signal: null });
  t.same(await b.exited, { code: 0, signal: null });

  const expected = new Map<string, string>();
  for (const x of [...activeLeases, ...own]) expected.set(toText(x.address), `hw:1:${x.mac}`);
  const tableA = await tableOf(serveArgs(l, 'a').leaseFile);
  const tableB = await tableOf(serveArgs(l, 'b').leaseFile);
  const diff = (got: Map<string, string>): string[] => [...new Set([...got.keys(), ...expected.keys()])].filter((k) => got.get(k) !== expected.get(k)).slice(0, 5);
  t.same(diff(tableA), [], `A's table on disk: A's 10,000 and B's 50 (${tableA.size} leases)`);
  t.same(diff(tableB), [], `B's table on disk: the same (${tableB.size} leases)`);
});
