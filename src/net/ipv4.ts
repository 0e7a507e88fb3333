// IPv4 arithmetic for the desired state: network and broadcast of an address/prefix. Pure.

export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(prefixlen: number): number {
  return prefixlen === 0 ? 0 : (0xffffffff << (32 - prefixlen)) >>> 0;
}

/** "10.1.1.2/24" -> { address: "10.1.1.2", prefixlen: 24 }, or undefined when malformed. */
export function parseHostPrefix(text: string): { address: string; prefixlen: number } | undefined {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const prefixlen = Number(m[2]);
  if (parseIpv4(m[1]!) === undefined || prefixlen > 32) return undefined;
  return { address: m[1]!, prefixlen };
}

export function networkOf(address: string, prefixlen: number): string {
  return formatIpv4((parseIpv4(address)! & maskOf(prefixlen)) >>> 0);
}

/**
 * Directed broadcast of a subnet; none for /31 and /32, which have no broadcast (RFC 3021 for /31).
 */
export function broadcastOf(address: string, prefixlen: number): string | undefined {
  if (prefixlen >= 31) return undefined;
  return formatIpv4((parseIpv4(address)! | ~maskOf(prefixlen)) >>> 0);
}

export function contains(network: string, prefixlen: number, address: string): boolean {
  const a = parseIpv4(address);
  const n = parseIpv4(network);
  if (a === undefined || n === undefined) return false;
  const mask = maskOf(prefixlen);
  return ((a & mask) >>> 0) === ((n & mask) >>> 0);
}
