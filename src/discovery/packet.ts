// mDNS messages on top of dns-packet (the RFC 1035 codec): the mDNS-specific bits it leaves to
// its users — the cache-flush bit (RFC 6762 §10.2), the unicast-response bit (§5.4, which
// dns-packet 5 fails to strip on decode), raw rdata for probe tie-breaking (§8.2) — and a decoder
// that never throws: a hostile packet is dropped, never a crash.
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';

/** RFC 6762 §5.1 / §11. */
export const MDNS_PORT = 5353;
export const MDNS_GROUP = '224.0.0.251';
/** RFC 6762 §17: a multicast DNS message may be up to 9000 bytes; anything bigger is refused unread. */
export const MAX_MESSAGE_BYTES = 9000;

export interface MdnsQuestion {
  name: string;
  type: string;
  /** The QU bit (RFC 6762 §5.4). */
  unicast: boolean;
}

/** A record as we keep it: name, type, ttl, data (dns-packet's shapes: PTR/A a string, SRV an object,
 *  TXT Buffer[]), cache-flush bit. */
export interface MdnsRecord {
  name: string;
  type: string;
  ttl: number;
  class?: string;
  flush?: boolean;
  data: unknown;
}

/** The questions we send (dns-packet's own type lacks ANY). */
export interface MdnsQuery {
  name: string;
  type: 'PTR' | 'SRV' | 'TXT' | 'A' | 'ANY';
  /** Ask for a unicast reply (the QU bit, RFC 6762 §5.4). */
  unicast?: boolean;
}

// dns-packet exports its per-part codecs too; its type package does not declare them.
const codec = dnsPacket as unknown as {
  answer: { encode(a: unknown): Buffer };
  name: { encodingLength(n: string): number };
};

export interface MdnsMessage {
  id: number;
  isResponse: boolean;
  questions: MdnsQuestion[];
  answers: MdnsRecord[];
  authorities: MdnsRecord[];
  additionals: MdnsRecord[];
}

/** Decodes one datagram; undefined for anything malformed, oversized or not class IN. */
export function decodeMessage(buf: Buffer): MdnsMessage | undefined {
  if (buf.length < 12 || buf.length > MAX_MESSAGE_BYTES) return undefined;
  let p: DecodedPacket;
  try {
    p = dnsPacket.decode(buf);
  } catch {
    return undefined;
  }
  // RFC 6762 §18.3: a non-zero opcode or rcode is ignored.
  if ((p.flags ?? 0) & 0x7800 || (p.flags ?? 0) & 0x000f) return undefined;
  const questions: MdnsQuestion[] = [];
  for (const q of p.questions ?? []) {
    const cls = String(q.class);
    // dns-packet reports IN with the top bit set as UNKNOWN_32769.
    const unicast = cls === 'UNKNOWN_32769';
    if (!unicast && cls !== 'IN' && cls !== 'ANY') continue;
    questions.push({ name: q.name, type: String(q.type), unicast });
  }
  const keep = (rs: readonly Answer[] | undefined) =>
    (rs ?? []).filter((r) => (r as { class?: string }).class === 'IN' && typeof (r as { ttl?: unknown }).ttl === 'number') as unknown as MdnsRecord[];
  return {
    id: p.id ?? 0,
    isResponse: p.type === 'response',
    questions,
    answers: keep(p.answers),
    authorities: keep(p.authorities),
    additionals: keep(p.additionals),
  };
}

/** RFC 6762 §18: flags of a response are QR + AA; of a query, zero. */
export function encodeMessage(m: { id?: number; isResponse: boolean; questions?: MdnsQuery[]; answers?: MdnsRecord[]; authorities?: MdnsRecord[]; additionals?: MdnsRecord[] }): Buffer {
  const packet: Packet = {
    type: m.isResponse ? 'response' : 'query',
    id: m.id ?? 0,
    flags: m.isResponse ? dnsPacket.AUTHORITATIVE_ANSWER : 0,
    questions: (m.questions ?? []).map((q) => ({ name: q.name, type: q.type, class: 'IN' }) as Question),
    answers: withClass(m.answers),
    authorities: withClass(m.authorities),
    additionals: withClass(m.additionals),
  };
  const buf = dnsPacket.encode(packet);
  // dns-packet cannot encode the QU bit: set it in place. Questions follow the 12-byte header,
  // each an uncompressed name, a type and a class (RFC 1035 §4.1.2).
  let off = 12;
  for (const q of m.questions ?? []) {
    off += codec.name.encodingLength(q.name) + 2;
    if (q.unicast) buf[off] = buf[off]! | 0x80;
    off += 2;
  }
  return buf;
}

const withClass = (rs: MdnsRecord[] | undefined) => (rs ?? []).map((r) => ({ ...r, class: 'IN' }) as unknown as Answer);

/** The record's rdata as raw bytes (uncompressed: dns-packet never compresses names). */
export function rdataOf(r: MdnsRecord): Buffer {
  const rr = codec.answer.encode({ ...r, class: 'IN', ttl: 0, flush: false });
  const nameLen = codec.name.encodingLength(r.name);
  return rr.subarray(nameLen + 10);
}

/** Identity of a record's content: name (any case), type and rdata. */
export function recordKey(r: MdnsRecord): string {
  return `${r.name.toLowerCase()}|${r.type}|${rdataOf(r).toString('hex')}`;
}

/** RFC 6762 §8.2: compares two sets of records proposed for one name (class, type, rdata as raw bytes,
 *  in that order, sets sorted). >0: `ours` wins; <0: theirs; 0: identical (our own probe looped back). */
export function compareProbeSets(ours: readonly MdnsRecord[], theirs: readonly MdnsRecord[]): number {
  const norm = (rs: readonly MdnsRecord[]) =>
    rs.map((r) => {
      const type = codec.answer.encode({ ...r, class: 'IN', ttl: 0, flush: false }).readUInt16BE(codec.name.encodingLength(r.name));
      return { type, rdata: rdataOf(r) };
    }).sort((a, b) => a.type - b.type || Buffer.compare(a.rdata, b.rdata));
  const a = norm(ours);
  const b = norm(theirs);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = a[i]!.type - b[i]!.type || Buffer.compare(a[i]!.rdata, b[i]!.rdata);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** TXT data as received (dns-packet gives Buffer[] on decode). */
export function txtStrings(r: MdnsRecord): Buffer[] {
  const d = (r as { data: unknown }).data;
  const list = Array.isArray(d) ? d : [d];
  return list.map((x) => (Buffer.isBuffer(x) ? x : Buffer.from(String(x), 'utf8')));
}
