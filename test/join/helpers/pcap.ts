// Reads a tcpdump capture (classic pcap, Ethernet, IPv4/TCP) and returns what one side of a TCP
// connection sent, as TLS records (RFC 8446 §5.1: type, version, length, payload). Enough to show
// from the wire what a client did or did not send inside its TLS session.
import { readFileSync } from 'node:fs';

export interface TlsRecord {
  type: number;
  length: number;
}

/** TCP payload bytes sent by the side whose port is not `serverPort`, in sequence order. */
export function clientStream(file: string, serverPort: number): Buffer {
  const buf = readFileSync(file);
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const segments = new Map<number, Buffer>();
  for (let off = 24; off + 16 <= buf.length; ) {
    const incl = u32(off + 8);
    const pkt = buf.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    if (pkt.length < 14 + 20 || pkt.readUInt16BE(12) !== 0x0800) continue;
    const ip = pkt.subarray(14);
    const ihl = (ip[0]! & 0x0f) * 4;
    if (ip[9] !== 6) continue;
    const totalLen = ip.readUInt16BE(2);
    const tcp = ip.subarray(ihl, totalLen);
    const src = tcp.readUInt16BE(0);
    const dst = tcp.readUInt16BE(2);
    if (dst !== serverPort || src === serverPort) continue;
    const seq = tcp.readUInt32BE(4);
    const doff = (tcp[12]! >> 4) * 4;
    const payload = tcp.subarray(doff);
    if (payload.length > 0) segments.set(seq, Buffer.from(payload));
  }
  return Buffer.concat([...segments.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p));
}

export function tlsRecords(stream: Buffer): TlsRecord[] {
  const out: TlsRecord[] = [];
  for (let off = 0; off + 5 <= stream.length; ) {
    const length = stream.readUInt16BE(off + 3);
    out.push({ type: stream[off]!, length });
    off += 5 + length;
  }
  return out;
}
