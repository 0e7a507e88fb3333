// Leases -> what net/desired.ts builds the filer from (seed 000's enable operation): filer and MySQL
// addresses on mgmt#/san# (main table; the lowest mgmt# router gives the default route), and each
// home virtual server with its addresses, table/realm and default route: the topology's gateway
// (format 1.1), or for a topology without one the first on-link router of its leases. Pure.
//
// The cache's lease shape (cache-entry.ts) is the one form leases take here, whether they just came
// from DHCP or were read back from disk: the DHCP path and the cache path build the same thing.
import type { Lease } from '../cache/cache-entry.js';
import type { DhcpLease } from '../dhcp-client/index.js';
import type { DesiredInput } from '../net/desired.js';
import type { Topology } from '../options/schema.js';
import { firstOnLinkRouter } from '../options/wire/index.js';
import { addressRequests, type AddressRequest } from './address-requests.js';

/** Leases by identifier, as the cache stores them. */
export type LeaseMap = Record<string, Lease>;

const iso = (ms: number) => new Date(ms).toISOString();

/** The first router that is on the lease's own subnet (RFC 2132 §3.5 lists them in preference order). */
const onLinkRouter = firstOnLinkRouter;

/** One DHCP lease, for the request it answers, in the cache's shape. */
export function leaseRecord(req: AddressRequest, lease: DhcpLease): Lease {
  const base = {
    alias: req.alias,
    address: lease.address,
    prefixLength: lease.prefixLength,
    broadcast: lease.broadcast,
    routers: [...lease.routers],
    serverId: lease.serverId,
    leaseStart: iso(lease.obtainedAt),
    leaseExpiry: lease.expiresAt === null ? null : iso(lease.expiresAt),
    ...(lease.dns.length > 0 ? { dns: [...lease.dns] } : {}),
    ...(lease.ntp.length > 0 ? { ntp: [...lease.ntp] } : {}),
    ...(lease.domain === undefined ? {} : { domain: lease.domain }),
  };
  switch (req.kind) {
    case 'filer':
      return { kind: 'filer', ...base };
    case 'mysql':
      return { kind: 'mysql', ...base, role: req.role };
    case 'vserver': {
      const gateway = onLinkRouter(lease.address, lease.prefixLength, lease.routers);
      return { kind: 'vserver', ...base, vserver: req.vserver, instance: req.instance, table: req.table, ...(gateway === undefined ? {} : { gateway }) };
    }
  }
}

const isV4 = (l: Lease) => !l.address.includes(':');

/**
 * The desired-state input for `topology` with the addresses `leases` give. Leases for identifiers
 * the topology does not ask for (a previous generation's) are left out; a request without a lease
 * simply has no address yet.
 */
export function desiredInputFor(opts: {
  topology: Topology;
  clusterId: string;
  nics: Readonly<Record<string, string>>;
  leases: Readonly<LeaseMap>;
}): DesiredInput {
  const { topology, leases } = opts;
  const filerAddresses: NonNullable<DesiredInput['filerAddresses']> = [];
  const byServer = new Map<string, { table: number; gateway?: string; addresses: Array<{ alias: string; address: string; broadcast?: string }> }>();
  for (const vs of topology.vservers) byServer.set(vs.name, { table: vs.table, ...(vs.gateway === undefined ? {} : { gateway: vs.gateway }), addresses: [] });

  const requests = addressRequests(topology, opts.clusterId);
  // Filer addresses first, then MySQL: of two routers on one mgmt# the filer's own lease wins.
  const order = { filer: 0, mysql: 1, vserver: 2 } as const;
  for (const req of [...requests].sort((a, b) => order[a.kind] - order[b.kind])) {
    const lease = leases[req.identifier];
    if (lease === undefined || !isV4(lease)) continue;
    const address = `${lease.address}/${lease.prefixLength}`;
    const broadcast = lease.broadcast !== undefined && !lease.broadcast.includes(':') ? lease.broadcast : undefined;
    if (req.kind === 'vserver') {
      const vs = byServer.get(req.vserver)!;
      vs.addresses.push({ alias: req.alias, address, ...(broadcast === undefined ? {} : { broadcast }) });
      const gw = lease.kind === 'vserver' ? lease.gateway ?? onLinkRouter(lease.address, lease.prefixLength, lease.routers) : undefined;
      if (vs.gateway === undefined && gw !== undefined && !gw.includes(':')) vs.gateway = gw;
      continue;
    }
    const router = onLinkRouter(lease.address, lease.prefixLength, lease.routers);
    filerAddresses.push({ alias: req.alias, address, ...(broadcast === undefined ? {} : { broadcast }), ...(router === undefined ? {} : { router }) });
  }
  // A gateway goes in once the server holds an address on its subnet (until then it has no route to it).
  const reachable = (gw: string, addrs: ReadonlyArray<{ address: string }>): boolean =>
    addrs.some((x) => {
      const [ip, len] = x.address.split('/');
      return firstOnLinkRouter(ip!, Number(len), [gw]) !== undefined;
    });
  const vservers = [...byServer].map(([name, v]) => ({
    name,
    table: v.table,
    ...(v.gateway === undefined || !reachable(v.gateway, v.addresses) ? {} : { gateway: v.gateway }),
    addresses: v.addresses,
  }));
  return { topology, clusterId: opts.clusterId, nics: { ...opts.nics }, filerAddresses, vservers };
}

/** The leases of `all` that `topology` asks for (what is worth caching and showing). */
export function leasesFor(topology: Topology, clusterId: string, all: Readonly<LeaseMap>): LeaseMap {
  const out: LeaseMap = {};
  for (const r of addressRequests(topology, clusterId)) {
    const l = all[r.identifier];
    if (l !== undefined) out[r.identifier] = l;
  }
  return out;
}
