// A loaded cluster description turned into the lookup tables the server answers from: client
// identifier text → reservation, topology key → the filer's option 43 bytes, and the IPv4 subnets
// with their options and dynamic ranges. Built once at start and on each SIGHUP; pure (the key
// is read by the caller), so a bad new description fails here and the old tables keep serving.

import { RackstrapError } from '../errors.js';
import type { LoadedCluster } from '../options/load.js';
import { buildIdentifierHints, type IdentifierHints } from '../options/identifier-hint.js';
import { addressFactsByFiler, reservationsOf, subnetsOf, topologyFor, type ResolvedSubnet } from '../options/resolve.js';
import { encodeTopology, exchangeTemplate, keyFingerprint, subOptionsToBytes, type ExchangeTemplate } from '../options/wire/index.js';
import { maskOf, toNumber, toText, type AddressRange } from './address.js';

export interface SubnetConfig {
  /** As written in the description: `10.1.1.0/24`. */
  readonly prefix: string;
  readonly network: number;
  readonly prefixLength: number;
  readonly mask: number;
  readonly broadcast: number;
  /** Options every reply on this subnet may carry (RFC 2132 §3.3, §3.5, §3.8, §3.17, §5.3, §8.3). */
  readonly netmaskText: string;
  readonly broadcastText: string;
  readonly routers: readonly string[];
  readonly dns: readonly string[];
  readonly ntp: readonly string[];
  readonly domain: string | undefined;
  /** Lease time of fixed and pool addresses, seconds. */
  readonly leaseTime: number;
  /** Dynamic addresses for clients outside the cluster (off unless the description has one). */
  readonly pool: AddressRange | undefined;
  /** Addresses offered to topology requests. */
  readonly bootstrap: AddressRange | undefined;
}

export type ReservationKind = 'filer' | 'vserver' | 'mysql';

/** A fixed address: one alias of a filer, virtual server instance or MySQL role (§5.2.6.3, §5.11). */
export interface AddressReservation {
  readonly kind: ReservationKind;
  readonly identifier: string;
  readonly address: number;
  readonly addressText: string;
  readonly subnet: SubnetConfig;
  /** Option 12: the filer, virtual server or MySQL role the address belongs to. */
  readonly hostname: string;
}

/** One filer's topology request (§5.2.6.2): answered with option 43 from a bootstrap range. */
export interface TopologyEntry {
  readonly identifier: string;
  readonly filer: string;
  /** Option 43's data: the wire format's sub-options, signed when the cluster has a key (bound to the request). */
  readonly option43: Buffer;
  /** With a key: what signs option 43 for each exchange's xid (signForExchange; what replies carry). */
  readonly exchange?: ExchangeTemplate;
}

export interface ServerConfig {
  /** The description file, for logs. */
  readonly file: string;
  readonly clusterName: string;
  readonly clusterId: string;
  /** Option 60 a topology request must carry. */
  readonly vendorClass: string;
  readonly generation: number;
  /** IPv4 subnets only: this is a DHCPv4 server. */
  readonly subnets: readonly SubnetConfig[];
  readonly reservations: ReadonlyMap<string, AddressReservation>;
  readonly topologies: ReadonlyMap<string, TopologyEntry>;
  /** Every fixed address → its identifier: never handed out from a pool or bootstrap range. */
  readonly reservedBy: ReadonlyMap<number, string>;
  /** First 8 hex digits of SHA-256 of the key (the only trace of the key anywhere in logs). */
  readonly keyFingerprint: string | undefined;
  /** What an undeclared identifier of the cluster most likely is (the unknown-identifier warning). */
  readonly hints: IdentifierHints;
}

export interface BuildOptions {
  /** The cluster key: topology objects are signed with it (sub-option 2). */
  key?: Buffer;
}

function range(r: { start: string; end: string } | undefined): AddressRange | undefined {
  return r === undefined ? undefined : { start: toNumber(r.start), end: toNumber(r.end) };
}

function subnetConfig(s: ResolvedSubnet): SubnetConfig {
  const network = toNumber(s.network);
  const mask = maskOf(s.prefixLength);
  const broadcast = (network | ~mask) >>> 0;
  return {
    prefix: s.prefix,
    network,
    prefixLength: s.prefixLength,
    mask,
    broadcast,
    netmaskText: toText(mask),
    broadcastText: toText(broadcast),
    // Only IPv4 servers can go in IPv4 options; the description allows IPv6 ones for later.
    routers: s.routers.filter((a) => !a.includes(':')),
    dns: s.dns.filter((a) => !a.includes(':')),
    ntp: s.ntp.filter((a) => !a.includes(':')),
    domain: s.domain,
    leaseTime: s.leaseTime,
    pool: range(s.pool),
    bootstrap: range(s.bootstrap),
  };
}

/** Builds the tables. Throws RackstrapError RS_SERVE_CONFIG when a filer's topology cannot be encoded. */
export function buildServerConfig(loaded: LoadedCluster, opts: BuildOptions = {}): ServerConfig {
  const d = loaded.description;
  const subnets: SubnetConfig[] = [];
  const byPrefix = new Map<string, SubnetConfig>();
  for (const s of subnetsOf(loaded)) {
    if (s.family !== 4) continue;
    const c = subnetConfig(s);
    subnets.push(c);
    byPrefix.set(s.prefix, c);
  }

  const reservations = new Map<string, AddressReservation>();
  const topologies = new Map<string, TopologyEntry>();
  const reservedBy = new Map<number, string>();
  const all = reservationsOf(loaded);
  const facts = opts.key ? addressFactsByFiler(loaded, all) : undefined;
  for (const r of all) {
    if (r.kind === 'topology') {
      let entry: TopologyEntry;
      try {
        const request = { clusterId: d.cluster.id, baseMac: r.baseMac };
        const objs = encodeTopology(topologyFor(loaded, r.filer), opts.key ? { key: opts.key, addresses: facts?.get(r.filer) ?? [], binding: request } : {});
        entry = {
          identifier: r.identifier,
          filer: r.filer,
          option43: subOptionsToBytes(objs),
          ...(opts.key ? { exchange: exchangeTemplate(objs, opts.key, request) } : {}),
        };
      } catch (cause) {
        throw new RackstrapError('RS_SERVE_CONFIG', `${loaded.file}: the topology of filer ${r.filer} cannot be encoded for option 43: ${(cause as Error).message}`, { cause });
      }
      topologies.set(r.identifier, entry);
      continue;
    }
    if (r.family !== 4) continue;
    const subnet = byPrefix.get(r.subnet.prefix);
    if (subnet === undefined) continue; // unreachable: an IPv4 address lies in an IPv4 subnet
    const address = toNumber(r.address);
    const hostname = r.kind === 'filer' ? r.filer : r.kind === 'vserver' ? r.vserver : r.role;
    reservations.set(r.identifier, { kind: r.kind, identifier: r.identifier, address, addressText: r.address, subnet, hostname });
    reservedBy.set(address, r.identifier);
  }
  // Routers are fixed addresses too: a pool must not hand one out (the rules forbid the overlap;
  // this keeps the server safe even if a rule is relaxed later).
  for (const s of subnets) for (const router of s.routers) if (!reservedBy.has(toNumber(router))) reservedBy.set(toNumber(router), `router of ${s.prefix}`);

  return {
    file: loaded.file,
    clusterName: d.cluster.name,
    clusterId: d.cluster.id,
    vendorClass: d.cluster.vendorClass,
    generation: d.cluster.generation,
    subnets,
    reservations,
    topologies,
    reservedBy,
    keyFingerprint: opts.key ? keyFingerprint(opts.key) : undefined,
    hints: buildIdentifierHints(loaded),
  };
}

export { describeConfig, subnetOf } from './describe-config.js';
