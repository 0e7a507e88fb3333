// Address arithmetic the rules and resolve.ts need: IPv4 and IPv6 (seed 003 §3.1.1, IPv6 ready)
// as bigints, so "same address", "inside a prefix" and "ranges overlap" are plain comparisons
// whatever spelling the admin used (2001:DB8::1 and 2001:db8:0::1 are one address).
// Pure: node:net's BlockList would do containment but not overlap or canonical keys.

export type Family = 4 | 6;

export interface Ip {
  family: Family;
  value: bigint;
}

export interface Cidr {
  family: Family;
  /** The prefix as written (10.1.1.0/24). */
  text: string;
  /** Address part with host bits cleared. */
  network: bigint;
  length: number;
  /** True when the written address had host bits set (10.1.1.5/24). */
  hostBitsSet: boolean;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

function parseIpv4(text: string): bigint | undefined {
  // Four decimal parts of 0-255 without leading zeros, read by hand: splitting and matching each
  // part against a pattern took a fifth of the rules' time on a large description.
  const n = text.length;
  let v = 0;
  let i = 0;
  for (let part = 0; ; part++) {
    const start = i;
    let x = 0;
    for (let c = text.charCodeAt(i); i < n && c >= 48 && c <= 57; c = text.charCodeAt(++i)) x = x * 10 + (c - 48);
    const digits = i - start;
    if (digits === 0 || digits > 3 || (digits > 1 && text.charCodeAt(start) === 48) || x > 255) return undefined;
    v = v * 256 + x;
    if (part === 3) return i === n ? BigInt(v) : undefined;
    if (text.charCodeAt(i) !== 46) return undefined; // '.'
    i++;
  }
}

function parseIpv6(text: string): bigint | undefined {
  if (text.includes('%')) return undefined; // zone ids name a link, not an address
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        // RFC 4291 §2.2 form 3: trailing dotted IPv4 (::ffff:10.1.1.1) is two groups.
        const v4 = parseIpv4(p);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

export function parseIp(text: string): Ip | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = parseIpv6(text);
  if (v6 !== undefined) return { family: 6, value: v6 };
  return undefined;
}

/** One key per address whatever its spelling: for duplicate detection. */
export function ipKey(ip: Ip): string {
  return `${ip.family}/${ip.value.toString(16)}`;
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!ip || !/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return undefined;
  const length = Number(lenText);
  const bits = BITS[ip.family];
  if (length > bits) return undefined;
  const host = hostMask(ip.family, length);
  return { family: ip.family, text, network: ip.value & ~host & allOnes(ip.family), length, hostBitsSet: (ip.value & host) !== 0n };
}

function allOnes(family: Family): bigint {
  return (1n << BigInt(BITS[family])) - 1n;
}

function hostMask(family: Family, length: number): bigint {
  return (1n << BigInt(BITS[family] - length)) - 1n;
}

export function lastAddress(c: Cidr): bigint {
  return c.network | hostMask(c.family, c.length);
}

export function contains(c: Cidr, ip: Ip): boolean {
  return c.family === ip.family && ip.value >= c.network && ip.value <= lastAddress(c);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.network <= lastAddress(b) && b.network <= lastAddress(a);
}

/**
 * Why an address cannot be given to a host in this prefix, if it cannot: the IPv4 network and
 * broadcast addresses (RFC 919/922; /31 and /32 have none, RFC 3021) and the IPv6 subnet-router
 * anycast address (RFC 4291, section 2.6.1).
 */
export function reservedInPrefix(c: Cidr, ip: Ip): string | undefined {
  if (!contains(c, ip)) return undefined;
  if (c.family === 4) {
    if (c.length >= 31) return undefined;
    if (ip.value === c.network) return `is the network address of ${c.text}`;
    if (ip.value === lastAddress(c)) return `is the broadcast address of ${c.text}`;
    return undefined;
  }
  if (c.length < 127 && ip.value === c.network) return `is the subnet-router anycast address of ${c.text} (RFC 4291, section 2.6.1)`;
  return undefined;
}

export function formatIp(family: Family, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  }
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((value >> s) & 0xffffn).toString(16));
  // RFC 5952 §4.2: compress the longest run (length ≥ 2) of zero groups, leftmost on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** 255.255.255.0 for /24: what dhcpd and friends want for IPv4 subnets. */
export function netmaskOf(c: Cidr): string | undefined {
  if (c.family !== 4) return undefined;
  return formatIp(4, allOnes(4) & ~hostMask(4, c.length));
}

/**
 * The first of a list of prefixes (in list order) that contains an address, found by masking the
 * address to each prefix length present (at most 33 for IPv4, 129 for IPv6) instead of testing
 * every prefix: validation stays linear in addresses however many subnets are declared.
 */
export class PrefixIndex<T> {
  readonly #byLength = new Map<string, Map<bigint, { index: number; value: T }>>();
  readonly #lengths: Array<{ family: Family; length: number; key: string }> = [];

  constructor(entries: Iterable<readonly [Cidr | undefined, T]>) {
    let index = 0;
    for (const [c, value] of entries) {
      const i = index++;
      if (!c) continue;
      const key = `${c.family}/${c.length}`;
      let m = this.#byLength.get(key);
      if (!m) {
        m = new Map();
        this.#byLength.set(key, m);
        this.#lengths.push({ family: c.family, length: c.length, key });
      }
      if (!m.has(c.network)) m.set(c.network, { index: i, value });
    }
  }

  /** The value of the first prefix (in list order) containing ip. */
  find(ip: Ip): T | undefined {
    let best: { index: number; value: T } | undefined;
    for (const l of this.#lengths) {
      if (l.family !== ip.family) continue;
      ruleWork.lookups++;
      const hit = this.#byLength.get(l.key)!.get(ip.value & ~hostMask(l.family, l.length) & allOnes(l.family));
      if (hit && (!best || hit.index < best.index)) best = hit;
    }
    return best?.value;
  }
}

/**
 * Work done by the rules' address lookups and comparisons, all descriptions together: a test of
 * linear validation asserts on it (it grows with the input, not with its square).
 */
export const ruleWork = { lookups: 0, comparisons: 0 };
