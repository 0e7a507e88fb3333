// The server's lease state in memory: who holds which address (offered or bound) until when, and
// which addresses are quarantined after a DECLINE. Pure: no clock (callers pass `now`, ms since
// the epoch), no files. respond.ts reads it; the server applies respond's operations to it and
// appends the durable ones to the lease log, whose replay rebuilds it with the same `apply`.

import type { AddressRange } from './address.js';

export type LeaseState = 'offered' | 'bound';

export interface Lease {
  readonly address: number;
  /** The client key (see respond.ts clientKey): one lease per client. */
  readonly client: string;
  readonly state: LeaseState;
  /** ms since the epoch; at or after it the address is free again. */
  readonly expires: number;
  /** For logs: the cluster identifier, or the client id / hardware address of a pool client. */
  readonly label: string;
  /** chaddr, colon hex. */
  readonly hw: string;
  /** giaddr of the relay the client was served through; absent for a client on a served link. */
  readonly relay?: string;
}

/**
 * Changes respond() asks for. `offer` and `drop-offer` live in memory only (RFC 2131 §4.3.1: an
 * offer is a promise the server may keep without writing it down); `bind`, `release` and
 * `decline` are written to the lease log, and a reply that depends on them leaves only once the
 * log is on disk.
 */
export type LeaseOp =
  | { op: 'offer'; address: number; client: string; until: number; label: string; hw: string; relay?: string }
  | { op: 'drop-offer'; client: string }
  | { op: 'bind'; address: number; client: string; expires: number; label: string; hw: string; relay?: string }
  | { op: 'release'; address: number; client: string }
  | { op: 'decline'; address: number; client: string; until: number };

export type DurableOp = Extract<LeaseOp, { op: 'bind' | 'release' | 'decline' }>;

export function isDurable(op: LeaseOp): op is DurableOp {
  return op.op === 'bind' || op.op === 'release' || op.op === 'decline';
}

/** The relay only when there is one: leases of clients on a served link carry no field for it. */
function withRelay(lease: Lease, relay: string | undefined): Lease {
  return relay === undefined ? lease : { ...lease, relay };
}

export class LeaseTable {
  readonly #byAddress = new Map<number, Lease>();
  readonly #byClient = new Map<string, Lease>();
  readonly #quarantine = new Map<number, number>();
  /** Where the last free-address search of each range stopped: the next one starts there. */
  readonly #cursor = new Map<string, number>();

  /** The lease or offer on `address`, live or not (check `expires`). */
  at(address: number): Lease | undefined {
    return this.#byAddress.get(address);
  }

  /** The client's lease or offer, live or not. */
  ofClient(client: string): Lease | undefined {
    return this.#byClient.get(client);
  }

  /** Until when (ms) `address` is quarantined after a DECLINE, or undefined when it is not. */
  quarantinedUntil(address: number, now: number): number | undefined {
    const until = this.#quarantine.get(address);
    return until !== undefined && until > now ? until : undefined;
  }

  /** A live lease or offer of another client on `address`, if any. */
  heldByOther(address: number, client: string, now: number): Lease | undefined {
    const l = this.#byAddress.get(address);
    return l !== undefined && l.client !== client && l.expires > now ? l : undefined;
  }

  /** `client` may be given `address`: nobody else holds it and it is not quarantined. */
  isAvailable(address: number, client: string, now: number): boolean {
    return this.heldByOther(address, client, now) === undefined && this.quarantinedUntil(address, now) === undefined;
  }

  /**
   * A free address of `range` (no live lease or offer, not quarantined, not in `reserved`),
   * searching on from where the last search in this range stopped, so a mostly free pool costs
   * one probe per allocation. undefined when the range is full.
   */
  findFree(range: AddressRange, now: number, reserved: ReadonlyMap<number, unknown>, accept?: (address: number) => boolean): number | undefined {
    const key = `${range.start}-${range.end}`;
    const size = range.end - range.start + 1;
    let a = this.#cursor.get(key) ?? range.start;
    for (let i = 0; i < size; i++, a = a >= range.end ? range.start : a + 1) {
      if (reserved.has(a)) continue;
      const l = this.#byAddress.get(a);
      if (l !== undefined && l.expires > now) continue;
      if (this.quarantinedUntil(a, now) !== undefined) continue;
      if (accept !== undefined && !accept(a)) continue;
      this.#cursor.set(key, a >= range.end ? range.start : a + 1);
      return a;
    }
    return undefined;
  }

  /** The live offer in `range` that expires first (an offer may be withdrawn when a range is full). */
  oldestOffer(range: AddressRange, now: number): Lease | undefined {
    let oldest: Lease | undefined;
    for (const l of this.#byAddress.values()) {
      if (l.state !== 'offered' || l.expires <= now || l.address < range.start || l.address > range.end) continue;
      if (oldest === undefined || l.expires < oldest.expires) oldest = l;
    }
    return oldest;
  }

  apply(op: LeaseOp): void {
    switch (op.op) {
      case 'offer': {
        const current = this.#byClient.get(op.client);
        // A client offered the address it already holds keeps its binding: an offer never
        // downgrades it (the lease log says bound), at most holds it a little longer.
        if (current !== undefined && current.address === op.address && current.state === 'bound') {
          if (current.expires < op.until) this.#put({ ...current, expires: op.until });
          return;
        }
        this.#put(withRelay({ address: op.address, client: op.client, state: 'offered', expires: op.until, label: op.label, hw: op.hw }, op.relay));
        return;
      }
      case 'bind':
        this.#put(withRelay({ address: op.address, client: op.client, state: 'bound', expires: op.expires, label: op.label, hw: op.hw }, op.relay));
        return;
      case 'drop-offer': {
        const l = this.#byClient.get(op.client);
        if (l !== undefined && l.state === 'offered') this.#remove(l);
        return;
      }
      case 'release': {
        const l = this.#byAddress.get(op.address);
        if (l !== undefined && l.client === op.client) this.#remove(l);
        return;
      }
      case 'decline': {
        const l = this.#byAddress.get(op.address);
        if (l !== undefined && l.client === op.client) this.#remove(l);
        this.#quarantine.set(op.address, op.until);
        return;
      }
      default: {
        const never: never = op;
        throw new TypeError(`unknown lease operation ${JSON.stringify(never)}`);
      }
    }
  }

  /** One lease per client and per address: whatever the client or the address had before goes. */
  #put(lease: Lease): void {
    const mine = this.#byClient.get(lease.client);
    if (mine !== undefined) this.#remove(mine);
    const theirs = this.#byAddress.get(lease.address);
    if (theirs !== undefined) this.#remove(theirs);
    this.#byAddress.set(lease.address, lease);
    this.#byClient.set(lease.client, lease);
  }

  #remove(l: Lease): void {
    if (this.#byAddress.get(l.address) === l) this.#byAddress.delete(l.address);
    if (this.#byClient.get(l.client) === l) this.#byClient.delete(l.client);
  }

  /** Drops expired leases, offers and quarantines; returns how many went. */
  sweep(now: number): number {
    let n = 0;
    for (const l of [...this.#byAddress.values()]) {
      if (l.expires <= now) {
        this.#remove(l);
        n++;
      }
    }
    for (const [a, until] of [...this.#quarantine]) {
      if (until <= now) {
        this.#quarantine.delete(a);
        n++;
      }
    }
    return n;
  }

  /** Live bound leases (what a compacted lease log keeps). */
  *bound(now: number): IterableIterator<Lease> {
    for (const l of this.#byAddress.values()) if (l.state === 'bound' && l.expires > now) yield l;
  }

  /** Live quarantines: address → until (ms). */
  *quarantines(now: number): IterableIterator<[number, number]> {
    for (const [a, until] of this.#quarantine) if (until > now) yield [a, until];
  }

  get size(): { leases: number; offers: number; quarantined: number } {
    let offers = 0;
    for (const l of this.#byAddress.values()) if (l.state === 'offered') offers++;
    return { leases: this.#byAddress.size - offers, offers, quarantined: this.#quarantine.size };
  }
}
