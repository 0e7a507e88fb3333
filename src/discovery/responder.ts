// An mDNS responder for one service instance on one interface (RFC 6762, RFC 6763): probing
// (§8.1), simultaneous-probe tie-breaking (§8.2), announcing (§8.3), answering with known-answer
// suppression (§7.1) and per-record rate limits (§6.2), legacy unicast replies (§6.7), conflict
// handling with a deterministic rename (§9), goodbye on stop (§10.1) and re-announcing when the
// interface's addresses or the TXT data change (§8.4).
//
// It only ever publishes the addresses it is given (the interface's own), and only talks through
// its transport (a socket bound to that interface): the two reasons it exists instead of a library.
import { randomInt } from 'node:crypto';
import type { InterfaceRemoteInfo } from '../net/interface-socket.js';
import { hostFqdn, instanceFqdn, nextHostLabel, nextInstanceName, sameName, SERVICE_NAME, SERVICES_META } from './names.js';
import { compareProbeSets, decodeMessage, encodeMessage, MDNS_PORT, recordKey, type MdnsMessage, type MdnsQuery, type MdnsRecord } from './packet.js';
import type { MdnsTransport } from './transport.js';

/** RFC 6762 §8.1: probes 250 ms apart, three of them, after a random 0-250 ms wait. */
const PROBE_INTERVAL_MS = 250;
const PROBE_COUNT = 3;
/** RFC 6762 §8.2: the loser of a simultaneous probe waits one second, then probes again. */
const PROBE_DEFER_MS = 1000;
/** RFC 6762 §8.1: after 15 conflicts within 10 s, wait 5 s before each new probe. */
const CONFLICT_BURST = 15;
const CONFLICT_WINDOW_MS = 10_000;
const CONFLICT_BACKOFF_MS = 5000;
/** RFC 6762 §8.3: at least two announcements, one second apart. */
const ANNOUNCE_COUNT = 2;
const ANNOUNCE_INTERVAL_MS = 1000;
/** RFC 6762 §6: shared-record answers wait 20-120 ms (so answers from many hosts spread out). */
const SHARED_DELAY_MIN_MS = 20;
const SHARED_DELAY_MAX_MS = 120;
/** RFC 6762 §6.2: a record is multicast at most once per second (250 ms when defending a probe). */
const RATE_LIMIT_MS = 1000;
const PROBE_DEFENCE_LIMIT_MS = 250;
/** RFC 6762 §6.7: legacy unicast answers carry a TTL of at most 10 s. */
const LEGACY_TTL = 10;

/** RFC 6762 §10: 120 s for records naming a host, 75 min for the others. */
export const DEFAULT_TTL = { host: 120, other: 4500 };

export type ResponderEvent =
  | { event: 'probing'; ifname: string; instance: string; host: string }
  | { event: 'announced'; ifname: string; instance: string; host: string; addresses: string[] }
  | { event: 'renamed'; ifname: string; kind: 'instance' | 'host'; from: string; to: string; reason: 'conflict' | 'lost-probe-tie-break' }
  | { event: 'conflict'; ifname: string; name: string; from: string; state: 'probing' | 'announced' }
  | { event: 'goodbye'; ifname: string; instance: string };

export interface ResponderOptions {
  transport: MdnsTransport;
  /** Instance label, e.g. `filer1 @ prod`. */
  instance: string;
  /** Host label (without `.local`). */
  host: string;
  /** SRV port: the join endpoint's, or 0 when this member serves no joins. */
  port: number;
  txt: Buffer[];
  /** IPv4 addresses of the interface: the only ones ever published. */
  addresses: string[];
  /** Record TTLs in seconds (default RFC 6762 §10). */
  ttl?: { host: number; other: number };
  onEvent?: (e: ResponderEvent) => void;
  /** True for a record (by recordKey) this host publishes through another responder (a second mgmt#
   *  on the same segment): not a conflict (avahi#117's multi-homed self-conflict). */
  isOwn?: (key: string) => boolean;
}

type State = 'idle' | 'probing' | 'announced' | 'stopped';

const rand = (min: number, max: number) => (max > min ? randomInt(min, max + 1) : min);

export class Responder {
  readonly #t: MdnsTransport;
  readonly #ttl: { host: number; other: number };
  readonly #emit: (e: ResponderEvent) => void;
  readonly #isOwn: (key: string) => boolean;
  #instance: string;
  #host: string;
  #port: number;
  #txt: Buffer[];
  #addresses: string[];
  #state: State = 'idle';
  /** Bumped on every (re)start of probing: stale timers of an older run do nothing. */
  #run = 0;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #lastMulticast = new Map<string, number>();
  #conflicts: number[] = [];

  constructor(o: ResponderOptions) {
    this.#t = o.transport;
    this.#instance = o.instance;
    this.#host = o.host;
    this.#port = o.port;
    this.#txt = o.txt;
    this.#addresses = [...new Set(o.addresses)].sort();
    this.#ttl = o.ttl ?? DEFAULT_TTL;
    this.#emit = o.onEvent ?? (() => undefined);
    this.#isOwn = o.isOwn ?? (() => false);
  }

  get instance(): string {
    return this.#instance;
  }
  get host(): string {
    return this.#host;
  }
  get state(): State {
    return this.#state;
  }
  /** recordKey of every record published now. */
  recordKeys(): string[] {
    return this.#allRecords().map(recordKey);
  }

  start(): void {
    if (this.#state !== 'idle') return;
    this.#t.onMessage((msg, from) => this.#receive(msg, from));
    this.#probe(0);
  }

  /** New interface addresses: goodbye for the ones gone, then announce the new set (RFC 6762 §8.4). */
  async updateAddresses(addresses: readonly string[]): Promise<void> {
    const next = [...new Set(addresses)].sort();
    if (next.join() === this.#addresses.join()) return;
    const gone = this.#addressRecords().filter((r) => !next.includes(String(r.data)));
    this.#addresses = next;
    if (this.#state !== 'announced') return;
    if (gone.length > 0) await this.#sendSafe(encodeMessage({ isResponse: true, answers: gone.map((r) => ({ ...r, ttl: 0 })) }));
    this.#announce(++this.#run);
  }

  /** New TXT data (a member count changed): announced at once. */
  updateTxt(txt: Buffer[]): void {
    if (Buffer.concat(txt).equals(Buffer.concat(this.#txt)) && txt.length === this.#txt.length) return;
    this.#txt = txt;
    if (this.#state === 'announced') this.#announce(++this.#run);
  }

  /** Stops; when the records were announced, sends their goodbye (TTL 0, RFC 6762 §10.1) first. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    const wasAnnounced = this.#state === 'announced';
    this.#state = 'stopped';
    this.#run++;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    if (wasAnnounced) {
      await this.#sendSafe(encodeMessage({ isResponse: true, answers: this.#allRecords().map((r) => ({ ...r, ttl: 0 })) }));
      this.#emit({ event: 'goodbye', ifname: this.#t.ifname, instance: this.#instance });
    }
  }

  // ---- records -------------------------------------------------------------------------------

  #ptr(): MdnsRecord {
    return { name: SERVICE_NAME, type: 'PTR', ttl: this.#ttl.other, data: instanceFqdn(this.#instance) } as MdnsRecord;
  }
  #meta(): MdnsRecord {
    return { name: SERVICES_META, type: 'PTR', ttl: this.#ttl.other, data: SERVICE_NAME } as MdnsRecord;
  }
  #srv(): MdnsRecord {
    return {
      name: instanceFqdn(this.#instance),
      type: 'SRV',
      ttl: this.#ttl.host,
      flush: true,
      data: { priority: 0, weight: 0, port: this.#port, target: hostFqdn(this.#host) },
    } as MdnsRecord;
  }
  #txtRecord(): MdnsRecord {
    return { name: instanceFqdn(this.#instance), type: 'TXT', ttl: this.#ttl.other, flush: true, data: this.#txt } as MdnsRecord;
  }
  #addressRecords(): MdnsRecord[] {
    return this.#addresses.map((a) => ({ name: hostFqdn(this.#host), type: 'A', ttl: this.#ttl.host, flush: true, data: a }) as MdnsRecord);
  }
  /** The records only we may hold (probed), by name. */
  #uniqueByName(): Map<string, MdnsRecord[]> {
    return new Map([
      [instanceFqdn(this.#instance).toLowerCase(), [this.#srv(), this.#txtRecord()]],
      [hostFqdn(this.#host).toLowerCase(), this.#addressRecords()],
    ]);
  }
  #allRecords(): MdnsRecord[] {
    return [this.#ptr(), this.#meta(), this.#srv(), this.#txtRecord(), ...this.#addressRecords()];
  }

  // ---- probing and announcing ----------------------------------------------------------------

  #after(ms: number, run: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (run === this.#run && this.#state !== 'stopped') fn();
    }, ms);
    this.#timers.add(t);
  }

  #probe(extraDelayMs: number): void {
    const run = ++this.#run;
    this.#state = 'probing';
    this.#emit({ event: 'probing', ifname: this.#t.ifname, instance: this.#instance, host: this.#host });
    const now = Date.now();
    this.#conflicts = this.#conflicts.filter((c) => now - c < CONFLICT_WINDOW_MS);
    const backoff = this.#conflicts.length >= CONFLICT_BURST ? CONFLICT_BACKOFF_MS : 0;
    const start = extraDelayMs + backoff + rand(0, PROBE_INTERVAL_MS);
    for (let i = 0; i < PROBE_COUNT; i++) this.#after(start + i * PROBE_INTERVAL_MS, run, () => void this.#sendProbe());
    this.#after(start + PROBE_COUNT * PROBE_INTERVAL_MS, run, () => this.#announce(run));
  }

  async #sendProbe(): Promise<void> {
    await this.#sendSafe(
      encodeMessage({
        isResponse: false,
        questions: [
          { name: instanceFqdn(this.#instance), type: 'ANY' },
          { name: hostFqdn(this.#host), type: 'ANY' },
        ],
        authorities: [this.#srv(), this.#txtRecord(), ...this.#addressRecords()],
      }),
    );
  }

  #announce(run: number): void {
    this.#run = run;
    this.#state = 'announced';
    for (let i = 0; i < ANNOUNCE_COUNT; i++) {
      this.#after(i * ANNOUNCE_INTERVAL_MS, run, () => {
        const records = this.#allRecords();
        void this.#sendSafe(encodeMessage({ isResponse: true, answers: records })).then(() => this.#noteMulticast(records));
      });
    }
    this.#emit({ event: 'announced', ifname: this.#t.ifname, instance: this.#instance, host: this.#host, addresses: [...this.#addresses] });
  }

  #noteMulticast(records: readonly MdnsRecord[]): void {
    const now = Date.now();
    for (const r of records) this.#lastMulticast.set(recordKey(r), now);
  }

  // ---- receiving ------------------------------------------------------------------------------

  #receive(buf: Buffer, from: InterfaceRemoteInfo): void {
    if (this.#state === 'idle' || this.#state === 'stopped') return;
    const m = decodeMessage(buf);
    if (m === undefined) return;
    if (m.isResponse) this.#checkResponse(m, from);
    else this.#checkQuery(m, from);
  }

  /** RFC 6762 §8.1/§9: a response holding a record for one of our unique names with other data is a conflict. */
  #checkResponse(m: MdnsMessage, from: InterfaceRemoteInfo): void {
    const ours = this.#uniqueByName();
    for (const r of [...m.answers, ...m.additionals]) {
      if (r.ttl === 0) continue; // a goodbye claims nothing
      const mine = ours.get(r.name.toLowerCase());
      if (mine === undefined) continue;
      const isHost = sameName(r.name, hostFqdn(this.#host));
      if (!(isHost ? ['A'] : ['SRV', 'TXT']).includes(r.type)) continue;
      const key = recordKey(r);
      // Identical data is not a conflict (§9); nor is a record this host publishes on another interface.
      if (mine.some((x) => recordKey(x) === key) || this.#isOwn(key)) continue;
      this.#conflict(isHost ? 'host' : 'instance', r.name, from);
      return;
    }
  }

  #checkQuery(m: MdnsMessage, from: InterfaceRemoteInfo): void {
    if (this.#state === 'probing') {
      // §8.2: another host probing for one of our names at the same time: the lexicographically later data wins.
      for (const [name, mine] of this.#uniqueByName()) {
        const theirs = m.authorities.filter((r) => r.name.toLowerCase() === name);
        if (theirs.length === 0) continue;
        const cmp = compareProbeSets(mine, theirs);
        if (cmp < 0) {
          this.#emit({ event: 'conflict', ifname: this.#t.ifname, name, from: from.address, state: 'probing' });
          this.#conflicts.push(Date.now());
          this.#probe(PROBE_DEFER_MS);
          return;
        }
      }
      return;
    }
    if (this.#state === 'announced') this.#answer(m, from);
  }

  #conflict(kind: 'instance' | 'host', name: string, from: InterfaceRemoteInfo): void {
    this.#emit({ event: 'conflict', ifname: this.#t.ifname, name, from: from.address, state: this.#state === 'announced' ? 'announced' : 'probing' });
    this.#conflicts.push(Date.now());
    if (this.#state === 'announced') {
      // §9: probe again for the same name first; whoever wins that probe keeps it.
      this.#probe(0);
      return;
    }
    const fromName = kind === 'instance' ? this.#instance : this.#host;
    if (kind === 'instance') this.#instance = nextInstanceName(this.#instance);
    else this.#host = nextHostLabel(this.#host);
    this.#emit({ event: 'renamed', ifname: this.#t.ifname, kind, from: fromName, to: kind === 'instance' ? this.#instance : this.#host, reason: 'conflict' });
    this.#probe(0);
  }

  /** RFC 6762 §6: answers to what was asked, minus what the querier said it knows (§7.1). */
  #answer(m: MdnsMessage, from: InterfaceRemoteInfo): void {
    const answers: MdnsRecord[] = [];
    const extra: MdnsRecord[] = [];
    const inst = instanceFqdn(this.#instance);
    const host = hostFqdn(this.#host);
    const is = (t: string, ...want: string[]) => t === 'ANY' || want.includes(t);
    let defending = false;
    for (const q of m.questions) {
      if (sameName(q.name, SERVICE_NAME) && is(q.type, 'PTR')) {
        answers.push(this.#ptr());
        extra.push(this.#srv(), this.#txtRecord(), ...this.#addressRecords());
      } else if (sameName(q.name, SERVICES_META) && is(q.type, 'PTR')) {
        answers.push(this.#meta());
      } else if (sameName(q.name, inst)) {
        if (is(q.type, 'SRV')) answers.push(this.#srv());
        if (is(q.type, 'TXT')) answers.push(this.#txtRecord());
        extra.push(...this.#addressRecords());
        defending ||= m.authorities.length > 0;
      } else if (sameName(q.name, host) && is(q.type, 'A')) {
        answers.push(...this.#addressRecords());
        defending ||= m.authorities.length > 0;
      }
    }
    const known = new Map(m.answers.map((r) => [recordKey(r), r.ttl]));
    const keep = (r: MdnsRecord) => {
      const k = known.get(recordKey(r));
      return k === undefined || k < r.ttl / 2;
    };
    const seen = new Set<string>();
    const uniq = (rs: MdnsRecord[]) => rs.filter((r) => !seen.has(recordKey(r)) && seen.add(recordKey(r)));
    const finalAnswers = uniq(answers.filter(keep));
    if (finalAnswers.length === 0) return;
    const finalExtra = uniq(extra);
    if (from.port !== MDNS_PORT) {
      // §6.7 legacy unicast: same id, the question repeated, short TTLs, no cache-flush bits.
      const legacy = (r: MdnsRecord) => ({ ...r, ttl: Math.min(r.ttl, LEGACY_TTL), flush: false });
      void this.#sendSafe(
        encodeMessage({
          id: m.id,
          isResponse: true,
          questions: m.questions.map((q) => ({ name: q.name, type: q.type as MdnsQuery['type'] })),
          answers: finalAnswers.map(legacy),
          additionals: finalExtra.map(legacy),
        }),
        { address: from.address, port: from.port },
      );
      return;
    }
    const now = Date.now();
    // §5.4: a QU question whose answers went out by multicast within a quarter of their TTL is
    // answered by unicast to the querier (not subject to the multicast rate limit).
    const recent = finalAnswers.every((r) => now - (this.#lastMulticast.get(recordKey(r)) ?? -Infinity) < (r.ttl * 1000) / 4);
    if (m.questions.some((q) => q.unicast) && recent) {
      void this.#sendSafe(encodeMessage({ isResponse: true, answers: finalAnswers, additionals: finalExtra }), { address: from.address, port: from.port });
      return;
    }
    const shared = finalAnswers.some((r) => r.type === 'PTR');
    const limit = defending ? PROBE_DEFENCE_LIMIT_MS : RATE_LIMIT_MS;
    const earliest = Math.max(0, ...finalAnswers.map((r) => (this.#lastMulticast.get(recordKey(r)) ?? -Infinity) + limit - now));
    const delay = Math.max(shared ? rand(SHARED_DELAY_MIN_MS, SHARED_DELAY_MAX_MS) : 0, earliest);
    const run = this.#run;
    this.#after(delay, run, () => {
      if (this.#state !== 'announced') return;
      void this.#sendSafe(encodeMessage({ isResponse: true, answers: finalAnswers, additionals: finalExtra })).then(() => this.#noteMulticast(finalAnswers));
    });
  }

  async #sendSafe(msg: Buffer, to?: { address: string; port: number }): Promise<void> {
    try {
      await this.#t.send(msg, to);
    } catch {
      // A link that went down: the next announcement (address change) or probe will retry.
    }
  }
}
