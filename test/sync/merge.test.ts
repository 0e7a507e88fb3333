// Meeting again, pure: who becomes the active (the same answer on both sides), the merge of the
// standby's table into the active's, and the standby's copy of the result. The property the
// heal relies on: after merge then replace, both tables hold the same leases, and no lease of
// either side is dropped unless a lease of the same address or client with a later expiry won.

import t from 'tap';
import fc from 'fast-check';
import { LeaseTable } from '../../src/dhcp-server/lease-table.js';
import type { LeaseEntry, Role } from '../../src/sync/format.js';
import { futureActive, mergeOps, replaceChunkOps, replaceEndOps, replaceOps } from '../../src/sync/merge.js';

const NOW = 1_800_000_000_000;
const bind = (address: number, client: string, expires: number): LeaseEntry => ({ kind: 'lease', op: 'bind', address, client, until: expires, at: NOW, label: '', hw: '' });
const tableOf = (entries: ReadonlyArray<[number, string, number]>): LeaseTable => {
  const table = new LeaseTable();
  for (const [address, client, expires] of entries) table.apply({ op: 'bind', address, client, expires, label: '', hw: '' });
  return table;
};
const entriesOf = (table: LeaseTable): LeaseEntry[] => [...table.bound(NOW)].map((l) => bind(l.address, l.client, l.expires));
const view = (table: LeaseTable): string[] => [...table.bound(NOW)].map((l) => `${l.address}=${l.client}@${l.expires}`).sort();
const applyAll = (table: LeaseTable, ops: ReturnType<typeof mergeOps>): void => {
  for (const op of ops) table.apply(op);
};

t.test('the future active: the one that answered, then the preferred one, then the smaller name; both sides agree', async (t) => {
  const roles: Role[] = ['starting', 'standby', 'active', 'active-alone'];
  for (const ra of roles) for (const rb of roles) for (const pa of [true, false]) for (const pb of [true, false]) {
    const a = { role: ra, preferred: pa, name: 'node-a' };
    const b = { role: rb, preferred: pb, name: 'node-b' };
    const fromA = futureActive(a, b);
    const fromB = futureActive(b, a);
    t.not(fromA, fromB, `${ra}/${pa} vs ${rb}/${pb}: exactly one is the active`);
  }
  t.equal(futureActive({ role: 'active-alone', preferred: false, name: 'b' }, { role: 'starting', preferred: true, name: 'a' }), 'me', 'a returning preferred server does not displace the one that answered');
  t.equal(futureActive({ role: 'active-alone', preferred: false, name: 'b' }, { role: 'active-alone', preferred: true, name: 'a' }), 'partner', 'both answered (cut apart): the preferred one');
  t.equal(futureActive({ role: 'starting', preferred: false, name: 'b' }, { role: 'starting', preferred: false, name: 'a' }), 'partner', 'neither preferred: the smaller name');
});

t.test('merge: leases that conflict with nothing are all kept; per address and per client the later expiry wins', async (t) => {
  const active = tableOf([[1, 'c1', NOW + 100], [2, 'c2', NOW + 100], [3, 'c3', NOW + 300]]);
  const standby = [bind(4, 'c4', NOW + 50), bind(2, 'c9', NOW + 200), bind(5, 'c3', NOW + 200), bind(1, 'c1', NOW + 400)];
  applyAll(active, mergeOps(active, standby, NOW));
  t.same(view(active), [
    `1=c1@${NOW + 400}`, // same lease, the later expiry
    `2=c9@${NOW + 200}`, // address 2: the standby's lease expires later
    `3=c3@${NOW + 300}`, // client c3: its lease on 3 expires later than the standby's on 5
    `4=c4@${NOW + 50}`, // only the standby had it
  ].sort());
});

t.test('merge: a lease displaced earlier in the same merge no longer blocks its client', async (t) => {
  // The active has c1 on 1; the standby gave 1 to c2 (later) and has c1 on 2, expiring before
  // c1's lease on 1. Judged against the table before the merge, c1's lease on 2 would lose to a
  // lease that the first entry has already displaced, and c1 would end with nothing.
  const active = tableOf([[1, 'c1', NOW + 200]]);
  applyAll(active, mergeOps(active, [bind(1, 'c2', NOW + 300), bind(2, 'c1', NOW + 100)], NOW));
  t.same(view(active), [`1=c2@${NOW + 300}`, `2=c1@${NOW + 100}`]);
});

t.test('merge: expired leases are not taken, declines lengthen the quarantine only', async (t) => {
  const active = tableOf([]);
  active.apply({ op: 'decline', address: 7, client: '', until: NOW + 500 });
  const decline = (address: number, until: number): LeaseEntry => ({ kind: 'lease', op: 'decline', address, client: '', until, at: NOW, label: '', hw: '' });
  const ops = mergeOps(active, [bind(1, 'c1', NOW - 1), decline(7, NOW + 100), decline(8, NOW + 100)], NOW);
  t.same(ops, [{ op: 'decline', address: 8, client: '', until: NOW + 100 }]);
});

t.test('replace: the standby ends with exactly the active table', async (t) => {
  const standby = tableOf([[1, 'c1', NOW + 100], [2, 'c2', NOW + 100], [3, 'c3', NOW + 100]]);
  const active = [bind(1, 'c1', NOW + 100), bind(2, 'c7', NOW + 100), bind(9, 'c3', NOW + 100)];
  applyAll(standby, replaceOps(standby, active, NOW));
  t.same(view(standby), [`1=c1@${NOW + 100}`, `2=c7@${NOW + 100}`, `9=c3@${NOW + 100}`]);
  t.same(replaceOps(standby, active, NOW), [], 'nothing to do the second time');
});

t.test('property: after merge then replace both tables are equal, and every dropped lease lost to a later one', async () => {
  const arbTable = fc.array(fc.tuple(fc.nat({ max: 30 }), fc.nat({ max: 30 }), fc.integer({ min: -5, max: 20 })), { maxLength: 40 });
  fc.assert(fc.property(arbTable, arbTable, (a, b) => {
    const active = tableOf(a.map(([x, c, e]) => [x, `c${c}`, NOW + e * 10]));
    const standby = tableOf(b.map(([x, c, e]) => [x, `c${c}`, NOW + e * 10]));
    const before = [...entriesOf(active), ...entriesOf(standby)];
    applyAll(active, mergeOps(active, entriesOf(standby), NOW));
    applyAll(standby, replaceOps(standby, entriesOf(active), NOW));
    if (view(active).join() !== view(standby).join()) return false;
    const kept = [...active.bound(NOW)];
    for (const e of before) {
      if (kept.some((l) => l.address === e.address && l.client === e.client && l.expires >= e.until)) continue;
      // Dropped: a kept lease of the same address or client expires no earlier.
      if (!kept.some((l) => (l.address === e.address || l.client === e.client) && l.expires >= e.until)) return false;
    }
    return true;
  }), { numRuns: 1000 });
});

t.test('property: the table copied chunk by chunk (each chunk applied as it comes, the releases after the last) ends as the copy in one piece', async () => {
  const arbTable = fc.array(fc.tuple(fc.nat({ max: 30 }), fc.nat({ max: 30 }), fc.integer({ min: -5, max: 20 })), { maxLength: 40 });
  fc.assert(fc.property(arbTable, arbTable, fc.integer({ min: 1, max: 7 }), (a, b, chunk) => {
    const active = tableOf(a.map(([x, c, e]) => [x, `c${c}`, NOW + e * 10]));
    const whole = tableOf(b.map(([x, c, e]) => [x, `c${c}`, NOW + e * 10]));
    const chunked = tableOf(b.map(([x, c, e]) => [x, `c${c}`, NOW + e * 10]));
    const entries = entriesOf(active);
    applyAll(whole, replaceOps(whole, entries, NOW));
    const want = new Map<number, string>();
    for (let i = 0; i < entries.length; i += chunk) applyAll(chunked, replaceChunkOps(chunked, entries.slice(i, i + chunk), NOW, want));
    applyAll(chunked, replaceEndOps(chunked, want, NOW));
    return view(chunked).join() === view(active).join() && view(whole).join() === view(active).join();
  }), { numRuns: 1000 });
});
