// A frozen copy of the cache reader's schema as released before the topology's optional IPv6
// count (src/options/schema.ts and src/cache/cache-entry.ts of that version; only the import of
// the schema was repointed). Tests read what this version writes with it, the way an agent of that
// version would. Never edit.
// What the agent keeps on local disk so it can come up with no DHCP server (seed 003 §5.2.6.1:
// a whole-cluster reboot when the DHCP server runs inside the cluster). Everything needed to
// rebuild the stack (the Topology) and put every address back (the leases) without asking anyone.
// This schema is the single source of truth for the cache content; the file envelope around it
// (format version, checksum) is in ./cache-file.ts.
import { z } from 'zod';
import { Address, IfName, Mac, MYSQL_ROLE, TableId, Topology } from './schema.js';

/** Version of the file format; bump on any incompatible change to CacheEntry or the envelope. */
export const CACHE_FORMAT = 1;

const Instant = z.iso.datetime({ offset: true });

/** Fields every lease has, whatever kind of identifier it was obtained with. */
const LeaseFields = {
  /** The alias interface (mgmt#, data#, san#) the address goes on. */
  alias: IfName,
  address: Address,
  /** From option 1 (RFC 2132 §3.3), as a prefix length. */
  prefixLength: z.int().min(0).max(128),
  /** Option 28 (RFC 2132 §5.3) when the server sent it; otherwise derived from address/prefix. */
  broadcast: Address.optional(),
  /** Option 3 (RFC 2132 §3.5), in the server's order. */
  routers: z.array(Address).default([]),
  /** Option 54 (RFC 2132 §9.7): the server that granted it, needed to renew (RFC 2131 §4.3.2). */
  serverId: Address,
  leaseStart: Instant,
  /** null = infinite lease (0xffffffff, RFC 2131 §3.3). */
  leaseExpiry: Instant.nullable(),
  /** Options 6, 42, 15: needed before the cluster forms, like the interfaces (§5.2.6.1). */
  dns: z.array(Address).optional(),
  ntp: z.array(Address).optional(),
  domain: z.string().optional(),
};

/** `<cluster-id>:<alias>:<filer>` — mgmt# and san# addresses private to this filer. */
export const FilerLease = z.strictObject({ kind: z.literal('filer'), ...LeaseFields });

/** `<cluster-id>:<alias>:<vserver>:<n>` — a virtual server's address, with its routing table (seed 000). */
export const VserverLease = z.strictObject({
  kind: z.literal('vserver'),
  ...LeaseFields,
  vserver: z.string().min(1),
  instance: z.int().min(0).max(9999),
  /** Routing table and realm of the server (seed 000 "table VSID realm VSID"). */
  table: TableId,
  /** Default route of the server's table. */
  gateway: Address.optional(),
});

/** `<cluster-id>:<alias>:<MySQL role>` — a MySQL role's address on a mgmt# alias (§5.11). */
export const MysqlLease = z.strictObject({ kind: z.literal('mysql'), ...LeaseFields, role: z.string().regex(MYSQL_ROLE) });

export const Lease = z
  .discriminatedUnion('kind', [FilerLease, VserverLease, MysqlLease])
  .refine((l) => l.address.includes(':') || l.prefixLength <= 32, {
    message: 'an IPv4 prefix length is at most 32',
    path: ['prefixLength'],
  })
  .refine((l) => l.leaseExpiry === null || Date.parse(l.leaseExpiry) >= Date.parse(l.leaseStart), {
    message: 'lease expires before it starts',
    path: ['leaseExpiry'],
  });
export type Lease = z.infer<typeof Lease>;

/** A fingerprint names the cluster key without revealing it: `sha256:` + 64 lower-case hex digits. */
export const KeyFingerprint = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256: followed by 64 lower-case hex digits');

const UpdateFields = {
  /** Configuration generation (ClusterInfo.generation): a higher one from DHCP replaces this cache. */
  generation: z.int().min(1).max(2 ** 31 - 1),
  topology: Topology,
  /** Leases by the client identifier text they were obtained with. */
  leases: z.record(z.string().min(1), Lease),
  /** Fingerprint of the cluster key topology was verified with; null when the filer holds no key. Never the key. */
  keyFingerprint: KeyFingerprint.nullable(),
};

/** The generation is stated twice (entry and topology); a mismatch is a bug upstream, not a cache to trust. */
const isSameGeneration = (u: { generation: number; topology: { generation: number } }) => u.topology.generation === u.generation;
const SAME_GENERATION = {
  message: 'the topology is of a different configuration generation than the entry',
  path: ['topology', 'generation'],
};

/** What the caller hands to Cache.write: the cache adds the cluster ID and the time itself. */
export const CacheUpdate = z.strictObject(UpdateFields).refine(isSameGeneration, SAME_GENERATION);
export type CacheUpdate = z.input<typeof CacheUpdate>;

/** One stored copy's content, as read back. */
export const CacheEntry = z
  .strictObject({ clusterId: Mac, ...UpdateFields, writtenAt: Instant })
  .refine(isSameGeneration, SAME_GENERATION);
export type CacheEntry = z.infer<typeof CacheEntry>;
