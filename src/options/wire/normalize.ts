// The canonical form of a Topology: what decodeTopology returns, and what encodeTopology writes.
// decode(encode(x)) deep-equals normalizeTopology(x). Canonical means: interface names lower-case
// (seed 003 §5.2.2), unordered collections (VLAN list, virtual servers, MySQL roles, record keys)
// in natural order; lists whose order may mean something (bond members, addresses) kept as given.
import type { Stack, Topology } from '../schema.js';
import { normalizeName } from '../names.js';
import { WireEncodeError } from './errors.js';

/** Compares with digit runs as numbers: eth2 < eth10, bond0.9 < bond0.10. */
export function naturalCompare(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    if (i % 2 === 1) {
      // Odd parts are digit runs; equal values with different spellings (0 vs 00) fall through.
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
    }
    return x < y ? -1 : 1;
  }
  if (pa.length !== pb.length) return pa.length - pb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** MySQL roles in the seed's order (§5.11): the management node, data nodes, application nodes. */
export function compareMysqlRoles(a: string, b: string): number {
  const rank = (r: string): number => (r.startsWith('MySQLMgmt') ? 0 : r.startsWith('MySQLData') ? 1 : 2);
  return rank(a) - rank(b) || naturalCompare(a, b);
}

function lowerKeys<T>(section: string, rec: Record<string, T>, map: (v: T) => T): Record<string, T> {
  const entries = Object.entries(rec).map(([k, v]) => [normalizeName(k), map(v)] as const);
  const seen = new Set<string>();
  for (const [k] of entries) {
    if (seen.has(k)) throw new WireEncodeError('RS_WIRE_UNREPRESENTABLE', `${section}: "${k}" is given twice (names are case-insensitive)`);
    seen.add(k);
  }
  entries.sort(([a], [b]) => naturalCompare(a, b));
  return Object.fromEntries(entries);
}

const lower = (names: readonly string[]): string[] => names.map(normalizeName);

function normalizeStack(s: Stack): Stack {
  return {
    bonds: lowerKeys('bonds', s.bonds, (b) => ({
      ...b,
      members: lower(b.members),
      ...(b.primary === undefined ? {} : { primary: normalizeName(b.primary) }),
    })),
    failovers: lowerKeys('failovers', s.failovers, (f) => ({
      ...f,
      members: lower(f.members),
      ...(f.primary === undefined ? {} : { primary: normalizeName(f.primary) }),
    })),
    vlans: lower(s.vlans).sort(naturalCompare),
    aliases: lowerKeys('aliases', s.aliases, normalizeName),
    mtu: lowerKeys('mtu', s.mtu, (m) => m),
  };
}

/** The canonical form (pure; the input is not changed). Throws if lower-casing makes two names one. */
export function normalizeTopology(t: Topology): Topology {
  return {
    filer: t.filer,
    generation: t.generation,
    stack: normalizeStack(t.stack),
    vservers: t.vservers
      .map((v) => ({ ...v, addresses: v.addresses.map((a) => ({ alias: normalizeName(a.alias), instance: a.instance })) }))
      .sort((a, b) => naturalCompare(a.name, b.name)),
    mysql: t.mysql.map((m) => ({ ...m, aliases: lower(m.aliases) })).sort((a, b) => compareMysqlRoles(a.role, b.role)),
    ...(t.ipv6 === undefined ? {} : { ipv6: t.ipv6 }),
  };
}
