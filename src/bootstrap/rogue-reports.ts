// The DHCP answers a filer holding the cluster key refused: a topology not signed with the key,
// not bound to this filer's request or exchange, or an address OFFER/ACK the signed topology does
// not vouch for. Each distinct sender and thing is one report (with a count and first/last seen),
// so a server that keeps answering fills neither the log nor the status file. The oldest report
// goes when more than MAX_REPORTS are held.
import type { RogueReport } from './status.js';

export const MAX_REPORTS = 32;

export interface RogueSighting {
  what: 'topology' | 'address';
  /** Option 54 of the answer, when it had one. */
  serverId: string | undefined;
  /** Source address of the datagram. */
  from: string;
  interface: string;
  identifier?: string;
  address?: string;
  code?: string;
  reason: string;
}

export class RogueReports {
  readonly #reports = new Map<string, RogueReport>();

  /** Records a sighting; true when it is new (worth a log line). */
  add(s: RogueSighting, at: Date): boolean {
    const key = [s.what, s.serverId ?? '', s.from, s.interface, s.identifier ?? '', s.address ?? '', s.code ?? ''].join(' ');
    const seen = this.#reports.get(key);
    const iso = at.toISOString();
    if (seen !== undefined) {
      seen.count++;
      seen.lastSeen = iso;
      seen.reason = s.reason;
      return false;
    }
    if (this.#reports.size >= MAX_REPORTS) this.#reports.delete(this.#reports.keys().next().value!);
    this.#reports.set(key, {
      what: s.what,
      ...(s.serverId === undefined ? {} : { serverId: s.serverId }),
      from: s.from,
      interface: s.interface,
      ...(s.identifier === undefined ? {} : { identifier: s.identifier }),
      ...(s.address === undefined ? {} : { address: s.address }),
      ...(s.code === undefined ? {} : { code: s.code }),
      reason: s.reason,
      firstSeen: iso,
      lastSeen: iso,
      count: 1,
    });
    return true;
  }

  list(): RogueReport[] {
    return [...this.#reports.values()].map((r) => ({ ...r }));
  }
}
