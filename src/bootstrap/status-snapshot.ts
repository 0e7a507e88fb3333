// The agent's state as the status file holds it (pure): each lease as the DHCP client holds it,
// or as configured when no client runs (from the cache, or after --once), and each address with
// whose it is, by the identifier that got it (MySQL roles share the filer's aliases).
import type { DhcpLease } from '../dhcp-client/index.js';
import type { DesiredState } from '../net/desired.js';
import type { Topology } from '../options/schema.js';
import { addressRequests, type AddressRequest } from './address-requests.js';
import type { LeaseMap } from './leases-to-desired.js';
import { featuresOff, type AgentSettings } from './settings.js';
import type { AgentMode, AgentStatus, StatusLease } from './status.js';

export interface SnapshotInput {
  settings: AgentSettings;
  daemon: boolean;
  mode: AgentMode;
  startedAt: string;
  current: { topology: Topology; source: 'dhcp' | 'cache'; leases: LeaseMap; desired: DesiredState } | undefined;
  /** The running clients, when there are. */
  clients: Array<{ request: AddressRequest; lease: DhcpLease | undefined; state: string | undefined }> | undefined;
  cache: { generation: number; writtenAt: string } | null;
  lastApply: AgentStatus['lastApply'];
  lastError: AgentStatus['lastError'];
  rogueServers?: AgentStatus['rogueServers'];
  drift?: AgentStatus['drift'];
  now?: Date;
}

export function statusSnapshot(x: SnapshotInput): AgentStatus {
  const s = x.settings;
  const c = x.current;
  const requests = c === undefined ? [] : addressRequests(c.topology, s.clusterId);
  const leases: StatusLease[] =
    x.clients !== undefined
      ? x.clients.map(({ request, lease, state }) => ({
          identifier: request.identifier,
          kind: request.kind,
          alias: request.alias,
          state: state ?? 'not started',
          ...(lease === undefined
            ? {}
            : { address: `${lease.address}/${lease.prefixLength}`, expiresAt: lease.expiresAt === null ? null : new Date(lease.expiresAt).toISOString(), serverId: lease.serverId }),
        }))
      : requests.map((r) => {
          const l = c!.leases[r.identifier];
          return {
            identifier: r.identifier,
            kind: r.kind,
            alias: r.alias,
            state: l === undefined ? 'none' : 'cached',
            ...(l === undefined ? {} : { address: `${l.address}/${l.prefixLength}`, expiresAt: l.leaseExpiry, serverId: l.serverId }),
          };
        });
  const owners = new Map<string, string>();
  for (const r of requests) {
    const l = c!.leases[r.identifier];
    if (l !== undefined) owners.set(`${r.alias} ${l.address}`, r.kind === 'filer' ? `filer ${c!.topology.filer}` : r.kind === 'vserver' ? `${r.vserver}:${r.instance}` : r.role);
  }
  return {
    version: 1,
    pid: process.pid,
    daemon: x.daemon,
    mode: x.mode,
    startedAt: x.startedAt,
    updatedAt: (x.now ?? new Date()).toISOString(),
    clusterId: s.clusterId,
    baseMac: s.baseMac,
    source: c?.source ?? null,
    topology: c?.topology ?? null,
    nics: s.nics,
    addresses: (c?.desired.addresses ?? []).map((a) => ({ dev: a.dev, address: `${a.local}/${a.prefixlen}`, owner: owners.get(`${a.dev} ${a.local}`) ?? a.owner })),
    leases,
    cache: { dir: s.cacheDir, generation: x.cache?.generation ?? null, writtenAt: x.cache?.writtenAt ?? null },
    keyId: s.keyId,
    featuresOff: featuresOff(s.features),
    lastApply: x.lastApply,
    lastError: x.lastError,
    rogueServers: x.rogueServers ?? [],
    ...(x.drift === undefined ? {} : { drift: x.drift }),
  };
}
