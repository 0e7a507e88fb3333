// How two servers of a pair end up with one lease table when they meet again (after a cut, or
// when one returns), pure. The rule, as docs/sync-format.md states it:
//  1. Both name the future active from the two hellos alone (the roles each side announced,
//     then the preferred flag, then the names), so both reach the same answer without a round.
//  2. The future standby stops answering, then sends its whole table.
//  3. The future active merges that table into its own (mergeOps): all live leases of both, the
//     later expiry first, each kept unless one kept before has its address or its client.
//  4. The future active sends its table, merged, as the pair's table; the standby replaces its
//     own with it (replaceOps), then acknowledges it. Changes after that go as updates.
// The standby's table is thus a copy of the active's, not a second merge that could come out
// differently: an exchange of two snapshots merged on both sides, while both still answer,
// does not converge when a client's lease changes on one side while the tables are in flight.

import type { DurableOp, LeaseTable } from '../dhcp-server/lease-table.js';
import type { LeaseEntry, Role } from './format.js';

export interface PeerView {
  role: Role;
  preferred: boolean;
  name: string;
}

const answers = (r: Role): boolean => r === 'active' || r === 'active-alone';

/** Which of the two becomes the active: the one that answered when they met, else the preferred one, else the smaller name. Symmetric. */
export function futureActive(me: PeerView, partner: PeerView): 'me' | 'partner' {
  if (answers(me.role) !== answers(partner.role)) return answers(me.role) ? 'me' : 'partner';
  if (me.preferred !== partner.preferred) return me.preferred ? 'me' : 'partner';
  return me.name < partner.name ? 'me' : 'partner';
}

interface Candidate {
  address: number;
  client: string;
  expires: number;
  label: string;
  hw: string;
  mine: boolean;
}

/** Later expiry first; ties by the larger address, then the larger client key (a total order). */
function byPriority(a: Candidate, b: Candidate): number {
  if (a.expires !== b.expires) return b.expires - a.expires;
  if (a.address !== b.address) return b.address - a.address;
  return a.client < b.client ? 1 : a.client > b.client ? -1 : 0;
}

/**
 * The operations that merge `entries` (the standby's table) into `table` (the active's). Both
 * tables' live leases are taken in one order — later expiry first — and each is kept unless a
 * lease kept before it has its address or its client. So every lease that conflicts with
 * nothing is kept, and a lease is dropped only for one of the same address or client that
 * expires no earlier; the result does not depend on the order of either table. Quarantines:
 * the later end is kept.
 */
export function mergeOps(table: LeaseTable, entries: readonly LeaseEntry[], now: number): DurableOp[] {
  const candidates: Candidate[] = [];
  for (const l of table.bound(now)) candidates.push({ address: l.address, client: l.client, expires: l.expires, label: l.label, hw: l.hw, mine: true });
  const ops: DurableOp[] = [];
  const quarantine = new Map<number, number>();
  for (const e of entries) {
    if (e.op === 'decline') {
      const until = Math.max(quarantine.get(e.address) ?? 0, table.quarantinedUntil(e.address, now) ?? 0);
      if (until < e.until) {
        quarantine.set(e.address, e.until);
        ops.push({ op: 'decline', address: e.address, client: '', until: e.until });
      }
    } else if (e.op === 'bind' && e.until > now) {
      candidates.push({ address: e.address, client: e.client, expires: e.until, label: e.label, hw: e.hw, mine: false });
    }
  }
  candidates.sort(byPriority);
  const addresses = new Set<number>();
  const clients = new Set<string>();
  const kept: Candidate[] = [];
  const dropped: Candidate[] = [];
  for (const c of candidates) {
    if (addresses.has(c.address) || clients.has(c.client)) {
      if (c.mine) dropped.push(c);
      continue;
    }
    addresses.add(c.address);
    clients.add(c.client);
    kept.push(c);
  }
  const binds: DurableOp[] = [];
  for (const c of dropped) ops.push({ op: 'release', address: c.address, client: c.client });
  for (const c of kept) {
    if (c.mine) continue;
    binds.push({ op: 'bind', address: c.address, client: c.client, expires: c.expires, label: c.label, hw: c.hw });
  }
  // Releases first: a bind must not be undone by the release of what it replaced.
  return [...ops.filter((o) => o.op === 'release'), ...binds, ...ops.filter((o) => o.op === 'decline')];
}

/**
 * The operations that make `table`'s bound leases exactly `entries` (the active's table): every
 * lease the active does not have is released, every one it has is bound as it has it.
 * Quarantines are only ever lengthened (an address kept out of use a little longer is harmless).
 */
export function replaceOps(table: LeaseTable, entries: readonly LeaseEntry[], now: number): DurableOp[] {
  const want = new Map<number, string>();
  const binds = replaceChunkOps(table, entries, now, want);
  // The releases first, as one table copy in one piece always had them.
  return [...replaceEndOps(table, want, now), ...binds];
}

/**
 * One chunk of the active's table, as it arrives: the binds (and longer quarantines) that make
 * `table` hold what the chunk holds; `want` collects address → client of every lease seen, for
 * replaceEndOps after the last chunk. Applied chunk by chunk, then replaceEndOps, the result is
 * replaceOps of the whole table.
 */
export function replaceChunkOps(table: LeaseTable, entries: readonly LeaseEntry[], now: number, want: Map<number, string>): DurableOp[] {
  const ops: DurableOp[] = [];
  for (const e of entries) {
    if (e.op === 'bind') {
      if (e.until <= now) continue;
      want.set(e.address, e.client);
      const here = table.at(e.address);
      if (here && here.state === 'bound' && here.client === e.client && here.expires === e.until) continue;
      ops.push({ op: 'bind', address: e.address, client: e.client, expires: e.until, label: e.label, hw: e.hw });
    } else if (e.op === 'decline' && (table.quarantinedUntil(e.address, now) ?? 0) < e.until) {
      ops.push({ op: 'decline', address: e.address, client: '', until: e.until });
    }
  }
  return ops;
}

/** After the last chunk: the releases of every lease the active's table (`want`) does not have. */
export function replaceEndOps(table: LeaseTable, want: ReadonlyMap<number, string>, now: number): DurableOp[] {
  const ops: DurableOp[] = [];
  for (const l of table.bound(now)) if (want.get(l.address) !== l.client) ops.push({ op: 'release', address: l.address, client: l.client });
  return ops;
}
