// The split-brain guard, pure. While a server of a pair does not hear its partner it cannot know
// what the partner gives out, so both follow one rule that needs no agreement:
//  - a new address comes only from this server's own half of each dynamic range (the preferred
//    server takes the lower half, the other the upper), and only if it was free when the partner
//    was lost;
//  - a lease both servers knew at that moment (bound, and confirmed by the partner) may be renewed
//    for its holder on either side;
//  - nothing else: an address that was bound, offered or quarantined at the cut stays unused
//    until the pair meets again, since the partner may have renewed it meanwhile.
// Two servers that each follow it can be cut apart for any time and never give one address to
// two clients. Fixed (reserved) addresses are not dynamic and are not guarded: each belongs to
// one identifier only.

import type { AddressRange } from '../dhcp-server/address.js';
import type { ServerConfig } from '../dhcp-server/config.js';
import type { LeaseTable } from '../dhcp-server/lease-table.js';

export type Half = 'lower' | 'upper';

/** What the table held when the partner was lost. */
export interface CutState {
  /** Addresses bound or quarantined at the cut. */
  readonly held: ReadonlySet<number>;
  /** Bound leases the partner had confirmed: address → client. */
  readonly confirmed: ReadonlyMap<number, string>;
  /** ms since the epoch. */
  readonly at: number;
}

/** The last address of a range's lower half. */
export function midOf(r: AddressRange): number {
  return r.start + Math.floor((r.end - r.start) / 2);
}

export function inHalf(r: AddressRange, address: number, half: Half): boolean {
  return half === 'lower' ? address <= midOf(r) : address > midOf(r);
}

/** Every dynamic range of the configuration (pools and bootstrap ranges). */
export function dynamicRanges(config: ServerConfig): AddressRange[] {
  const out: AddressRange[] = [];
  for (const s of config.subnets) {
    if (s.pool) out.push(s.pool);
    if (s.bootstrap) out.push(s.bootstrap);
  }
  return out;
}

/**
 * The cut: what was held, and which of it the partner had confirmed (all but `unconfirmed`).
 * `told`, when given, is the table as the partner was told it (every durable change, no
 * offers): a lease it holds counts even where `table` (memory) has let it go — an offer of
 * another address to the same client replaces a bound lease in memory without a durable change,
 * so the partner still holds it as bound and may renew it for its client.
 */
export function cutStateOf(table: LeaseTable, now: number, unconfirmed: ReadonlySet<number>, told?: LeaseTable): CutState {
  const held = new Set<number>();
  const confirmed = new Map<number, string>();
  for (const l of table.bound(now)) {
    held.add(l.address);
    if (!unconfirmed.has(l.address)) confirmed.set(l.address, l.client);
  }
  if (told) {
    for (const l of told.bound(now)) {
      held.add(l.address);
      if (!unconfirmed.has(l.address) && !confirmed.has(l.address)) confirmed.set(l.address, l.client);
    }
    for (const [a] of told.quarantines(now)) held.add(a);
  }
  for (const [a] of table.quarantines(now)) held.add(a);
  for (const a of unconfirmed) held.add(a);
  return { held, confirmed, at: now };
}

/** The guard respond() asks while the partner is not heard. */
export function partnerDownGuard(ranges: readonly AddressRange[], half: Half, cut: CutState): (address: number, client: string) => boolean {
  return (address, client) => {
    if (cut.confirmed.get(address) === client) return true;
    if (cut.held.has(address)) return false;
    const r = ranges.find((x) => address >= x.start && address <= x.end);
    return r !== undefined && inHalf(r, address, half);
  };
}
