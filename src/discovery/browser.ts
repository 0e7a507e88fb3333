// A DNS-SD browser for `_rackstrap._tcp` (RFC 6763 §4) with the cache RFC 6762 asks every
// querier to keep: records expire on their own at TTL (§5.2), are re-queried at 80, 85, 90 and 95%
// of it (§5.2) so a live member is refreshed and a vanished one is dropped, a goodbye (TTL 0)
// removes a record shortly after (§10.1), and a cache-flush record replaces older data (§10.2).
// Continuous queries back off 1 s, 2 s, 4 s ... up to an hour (§5.2) and carry known answers (§7.1).
//
// It reports members (one advertised instance each): up when its PTR, SRV, TXT and an address are
// known, down when any of those goes, update when one of them changes.
import { randomInt } from 'node:crypto';
import type { InterfaceRemoteInfo } from '../net/interface-socket.js';
import { instanceOf, sameName, SERVICE_NAME } from './names.js';
import { decodeMessage, encodeMessage, recordKey, txtStrings, type MdnsQuery, type MdnsRecord } from './packet.js';
import type { MdnsTransport } from './transport.js';
import { decodeTxt, type ClusterTxt } from './txt.js';

/** RFC 6762 §10.1: a goodbye's record is deleted one second later; we use less so a departure shows within 1 s. */
const GOODBYE_GRACE_MS = 500;
/** RFC 6762 §10.2: cache-flush spares records received in the last second. */
const FLUSH_SPARE_MS = 1000;
const FLUSH_GRACE_MS = 1000;
/** RFC 6762 §5.2. */
const REQUERY_AT = [0.8, 0.85, 0.9, 0.95];
const QUERY_BACKOFF_MAX_MS = 3_600_000;
/** How often expiry and re-query deadlines are checked. */
const TICK_MS = 100;
/** A hostile flood must not grow the cache without bound. */
const MAX_CACHE_ENTRIES = 4096;
/** A member whose SRV/TXT/address is missing is asked for it at most this often. */
const RESOLVE_INTERVAL_MS = 1000;

interface Entry {
  record: MdnsRecord;
  ifname: string;
  receivedAt: number;
  expiresAt: number;
  /** Re-query fractions not yet sent. */
  pending: number[];
}

export interface Member {
  /** Instance label, e.g. `filer1 @ prod`. */
  instance: string;
  ifname: string;
  host: string;
  port: number;
  addresses: string[];
  txt: ClusterTxt;
}

export type BrowserEvent =
  | { event: 'up'; member: Member }
  | { event: 'update'; member: Member }
  | { event: 'down'; member: Member; reason: 'goodbye' | 'expired' };

export interface BrowserOptions {
  transports: MdnsTransport[];
  onEvent: (e: BrowserEvent) => void;
  /** Default true: keep querying with back-off (a one-shot list only needs the first queries). */
  continuous?: boolean;
}

const memberKey = (ifname: string, instance: string) => `${ifname}\0${instance.toLowerCase()}`;
const cacheKey = (ifname: string, r: MdnsRecord) => `${ifname}\0${recordKey(r)}`;

export class Browser {
  readonly #transports: MdnsTransport[];
  readonly #emit: (e: BrowserEvent) => void;
  readonly #continuous: boolean;
  readonly #cache = new Map<string, Entry>();
  readonly #members = new Map<string, { member: Member; snapshot: string; goodbye: boolean }>();
  readonly #resolveAsked = new Map<string, number>();
  #tick: NodeJS.Timeout | undefined;
  #queryTimer: NodeJS.Timeout | undefined;
  #queryInterval = 1000;
  #stopped = false;
  #first = true;

  constructor(o: BrowserOptions) {
    this.#transports = o.transports;
    this.#emit = o.onEvent;
    this.#continuous = o.continuous ?? true;
  }

  start(): void {
    for (const t of this.#transports) t.onMessage((msg, from) => this.#receive(t.ifname, msg, from));
    this.#tick = setInterval(() => this.#onTick(), TICK_MS);
    this.#queryAll();
  }

  /** Members known now. */
  members(): Member[] {
    return [...this.#members.values()].map((m) => m.member);
  }

  /** Ask again now (the next back-off step restarts at 1 s). */
  refresh(): void {
    this.#queryInterval = 1000;
    this.#queryAll();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#tick);
    clearTimeout(this.#queryTimer);
  }

  // ---- queries --------------------------------------------------------------------------------

  #queryAll(): void {
    if (this.#stopped) return;
    for (const t of this.#transports) {
      // §7.1: PTRs we hold with more than half their TTL left go along as known answers.
      const now = Date.now();
      const known = [...this.#cache.values()]
        .filter((e) => e.ifname === t.ifname && e.record.type === 'PTR' && sameName(e.record.name, SERVICE_NAME))
        .filter((e) => (e.expiresAt - now) / 1000 > e.record.ttl / 2)
        .map((e) => ({ ...e.record, ttl: Math.floor((e.expiresAt - now) / 1000), flush: false }));
      // §5.4: the first query after start asks for unicast replies: a responder that multicast its
      // answer less than a second ago (an announcement) may not multicast it again yet, but may unicast it.
      this.#send(t, [{ name: SERVICE_NAME, type: 'PTR', unicast: this.#first }], known);
    }
    this.#first = false;
    if (!this.#continuous) return;
    clearTimeout(this.#queryTimer);
    this.#queryTimer = setTimeout(() => this.#queryAll(), this.#queryInterval);
    this.#queryInterval = Math.min(this.#queryInterval * 2, QUERY_BACKOFF_MAX_MS);
  }

  #send(t: MdnsTransport, questions: MdnsQuery[], known: MdnsRecord[] = []): void {
    if (questions.length === 0) return;
    t.send(encodeMessage({ isResponse: false, questions, answers: known })).catch(() => undefined);
  }

  // ---- receiving -------------------------------------------------------------------------------

  #receive(ifname: string, buf: Buffer, _from: InterfaceRemoteInfo): void {
    if (this.#stopped) return;
    const m = decodeMessage(buf);
    if (m === undefined || !m.isResponse) return;
    const now = Date.now();
    const records = [...m.answers, ...m.additionals].filter((r) => this.#relevant(r));
    // §10.2: cache-flush records replace what we had for that name and type, except what came within the last second.
    for (const r of records) {
      if (!r.flush || r.ttl === 0) continue;
      for (const e of this.#cache.values()) {
        if (e.ifname === ifname && e.record.type === r.type && sameName(e.record.name, r.name) && now - e.receivedAt > FLUSH_SPARE_MS && recordKey(e.record) !== recordKey(r)) {
          e.expiresAt = Math.min(e.expiresAt, now + FLUSH_GRACE_MS);
          e.pending = [];
        }
      }
    }
    for (const r of records) {
      const key = cacheKey(ifname, r);
      const had = this.#cache.get(key);
      if (r.ttl === 0) {
        if (had !== undefined) {
          had.expiresAt = Math.min(had.expiresAt, now + GOODBYE_GRACE_MS);
          had.pending = [];
          if (r.type === 'PTR') this.#markGoodbye(ifname, String((r as { data: unknown }).data));
        }
        continue;
      }
      if (had === undefined && this.#cache.size >= MAX_CACHE_ENTRIES) continue;
      this.#cache.set(key, { record: r, ifname, receivedAt: now, expiresAt: now + r.ttl * 1000, pending: [...REQUERY_AT] });
    }
    this.#recompute(now);
  }

  /** What we keep: our service's PTRs, SRV/TXT of its instances, and A records of `.local` hosts. */
  #relevant(r: MdnsRecord): boolean {
    if (r.type === 'PTR') return sameName(r.name, SERVICE_NAME);
    if (r.type === 'SRV' || r.type === 'TXT') return instanceOf(r.name) !== undefined;
    if (r.type === 'A') return r.name.toLowerCase().endsWith('.local');
    return false;
  }

  #markGoodbye(ifname: string, fqdn: string): void {
    const instance = instanceOf(fqdn);
    if (instance === undefined) return;
    const m = this.#members.get(memberKey(ifname, instance));
    if (m !== undefined) m.goodbye = true;
  }

  #onTick(): void {
    const now = Date.now();
    let changed = false;
    const requery = new Map<string, MdnsQuery[]>();
    for (const [key, e] of this.#cache) {
      if (now >= e.expiresAt) {
        this.#cache.delete(key);
        changed = true;
        continue;
      }
      const lifetime = e.record.ttl * 1000;
      const due = e.pending.filter((f) => now >= e.expiresAt - lifetime + f * lifetime);
      if (due.length === 0) continue;
      e.pending = e.pending.filter((f) => !due.includes(f));
      const qs = requery.get(e.ifname) ?? [];
      const type = e.record.type === 'TXT' ? 'TXT' : e.record.type === 'SRV' ? 'SRV' : e.record.type === 'A' ? 'A' : 'PTR';
      if (!qs.some((q) => q.type === type && sameName(q.name, e.record.name))) qs.push({ name: e.record.name, type } as MdnsQuery);
      requery.set(e.ifname, qs);
    }
    for (const t of this.#transports) this.#send(t, requery.get(t.ifname) ?? []);
    if (changed) this.#recompute(now);
  }

  #alive(ifname: string, pred: (r: MdnsRecord) => boolean): MdnsRecord[] {
    return [...this.#cache.values()].filter((e) => e.ifname === ifname && pred(e.record)).map((e) => e.record);
  }

  #recompute(now: number): void {
    const seen = new Set<string>();
    for (const t of this.#transports) {
      const ifname = t.ifname;
      const missing: MdnsQuery[] = [];
      for (const ptr of this.#alive(ifname, (r) => r.type === 'PTR')) {
        const fqdn = String((ptr as { data: unknown }).data);
        const instance = instanceOf(fqdn);
        if (instance === undefined) continue;
        const srv = this.#alive(ifname, (r) => r.type === 'SRV' && sameName(r.name, fqdn))[0];
        const txtRec = this.#alive(ifname, (r) => r.type === 'TXT' && sameName(r.name, fqdn))[0];
        const target = srv === undefined ? undefined : (srv as { data: { target: string; port: number } }).data;
        const addresses = target === undefined ? [] : this.#alive(ifname, (r) => r.type === 'A' && sameName(r.name, target.target)).map((r) => String((r as { data: unknown }).data)).sort();
        const txt = txtRec === undefined ? undefined : decodeTxt(txtStrings(txtRec));
        if (srv === undefined || txtRec === undefined) missing.push({ name: fqdn, type: srv === undefined ? 'SRV' : 'TXT' } as MdnsQuery);
        else if (addresses.length === 0) missing.push({ name: target!.target, type: 'A' } as MdnsQuery);
        if (target === undefined || txt === undefined || addresses.length === 0) continue;
        const key = memberKey(ifname, instance);
        seen.add(key);
        const member: Member = { instance, ifname, host: target.target, port: target.port, addresses, txt };
        const snapshot = JSON.stringify(member);
        const old = this.#members.get(key);
        if (old === undefined) {
          this.#members.set(key, { member, snapshot, goodbye: false });
          this.#emit({ event: 'up', member });
        } else if (old.snapshot !== snapshot) {
          this.#members.set(key, { member, snapshot, goodbye: false });
          this.#emit({ event: 'update', member });
        }
      }
      // Ask for what a member still lacks, at most once a second per name.
      const ask = missing.filter((q) => {
        const k = `${ifname}\0${q.name.toLowerCase()}\0${q.type}`;
        if (now - (this.#resolveAsked.get(k) ?? -Infinity) < RESOLVE_INTERVAL_MS) return false;
        this.#resolveAsked.set(k, now);
        return true;
      });
      this.#send(t, ask);
    }
    for (const [key, m] of this.#members) {
      if (seen.has(key)) continue;
      this.#members.delete(key);
      this.#emit({ event: 'down', member: m.member, reason: m.goodbye ? 'goodbye' : 'expired' });
    }
  }
}
