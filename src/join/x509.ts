// The cluster CA and the join server's certificate, made with Node's own crypto: Node can sign
// and parse X.509 but not build it, so this module writes the few DER structures a certificate
// needs (RFC 5280 §4.1) by hand. Ed25519 keys (RFC 8410): no parameters, no hash choice.
// The pin a joining filer checks is the SHA-256 of the CA's SubjectPublicKeyInfo, the form
// kubeadm's --discovery-token-ca-cert-hash uses, shown as `sha256:<hex>`.
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';

const OID_ED25519 = '1.3.101.112';
const OID_CN = '2.5.4.3';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
};
const seq = (...p: Buffer[]) => tlv(0x30, ...p);
const set = (...p: Buffer[]) => tlv(0x31, ...p);
const explicit = (n: number, inner: Buffer) => tlv(0xa0 + n, inner);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), b);
function int(b: Buffer): Buffer {
  let x = b;
  while (x.length > 1 && x[0] === 0 && x[1]! < 0x80) x = x.subarray(1);
  return tlv(0x02, x[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), x]) : x);
}
function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const n of rest) {
    const chunk: number[] = [];
    for (let x = n; ; x = Math.floor(x / 128)) {
      chunk.unshift((x & 0x7f) | (chunk.length > 0 ? 0x80 : 0));
      if (x < 128) break;
    }
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}
/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime after. */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}
const name = (cn: string) => seq(set(seq(oid(OID_CN), tlv(0x0c, Buffer.from(cn, 'utf8')))));
const algorithm = () => seq(oid(OID_ED25519));
const extension = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

export interface CertificateRequest {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  signingKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
}

/** A DER certificate, as PEM. */
export function makeCertificate(r: CertificateRequest): string {
  const spki = r.publicKey.export({ type: 'spki', format: 'der' });
  // keyUsage bits (RFC 5280 §4.2.1.3): digitalSignature (0), keyCertSign (5), cRLSign (6).
  const keyUsage = r.isCa ? bits(Buffer.from([0x86]), 1) : bits(Buffer.from([0x80]), 7);
  const tbs = seq(
    explicit(0, int(Buffer.from([2]))),
    int(randomBytes(16)),
    algorithm(),
    name(r.issuer),
    seq(time(r.notBefore), time(r.notAfter)),
    name(r.subject),
    spki,
    explicit(3, seq(extension(OID_BASIC_CONSTRAINTS, true, seq(...(r.isCa ? [bool(true)] : []))), extension(OID_KEY_USAGE, true, keyUsage))),
  );
  const cert = seq(tbs, algorithm(), bits(sign(null, tbs, r.signingKey)));
  return `-----BEGIN CERTIFICATE-----\n${cert.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
}

export function newKeyPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

/** `sha256:<hex>` of the certificate's SubjectPublicKeyInfo: the CA pin. */
export function spkiFingerprint(cert: X509Certificate): string {
  return `sha256:${createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`;
}
