// The cluster description: the admin's one file (YAML), validated with zod. Every other part of
// rackstrap (generator, embedded server, agent, cache) works from the types inferred here.
//
// This file holds the *shape* (types, ranges, enums). Cross-field rules (names per kind, one use
// per interface, no duplicate IP, vs_mgmt reserved, ≤252 tables per filer, ...) live in
// ./rules/ because they need the whole cluster to judge.
import { z } from 'zod';
import { MYSQL_ROLE } from './names.js';

// ---- scalars -------------------------------------------------------------------------------

/** MAC in colon form, any case: 00:07:34:04:12:0E. Stored upper-case, as the seed prints it. */
export const Mac = z
  .string()
  .regex(/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/, 'must be a MAC address like 00:07:34:04:12:0E')
  .transform((s) => s.toUpperCase());

/** IPv4 or IPv6 (seed 003 §3.1.1: IPv6 ready). Later parts may serve IPv4 only. */
export const Address = z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' });
export type Address = z.infer<typeof Address>;

export const Prefix = z.union([z.cidrv4(), z.cidrv6()], { error: 'must be a prefix like 10.1.1.0/24 or 2001:db8::/64' });

/** Interface name as written; kind rules are checked in rules/, lower-cased by normalize. */
export const IfName = z.string().min(1);

/** Linux MTU bounds: 68 is the IPv4 minimum (RFC 791), 65535 the netlink maximum. */
export const Mtu = z.int().min(68).max(65535);

/** Bond modes of the Linux bonding driver (Documentation/networking/bonding.rst). */
export const BondMode = z.enum(['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb']);
export type BondMode = z.infer<typeof BondMode>;
export const LacpRate = z.enum(['slow', 'fast']);
export const HashPolicy = z.enum(['layer2', 'layer2+3', 'layer3+4', 'encap2+3', 'encap3+4', 'vlan+srcmac']);

/**
 * Routing table id of a virtual server; also its realm (seed 000: "table VSID realm VSID").
 * 253/254/255 are Linux's default/main/local tables and 0 is unspec; realms are 16-bit.
 */
export const TableId = z
  .int()
  .min(1)
  .max(65535)
  .refine((n) => n < 253 || n > 255, 'tables 253, 254 and 255 are Linux default/main/local');

// ---- the interface stack --------------------------------------------------------------------

export const Bond = z.strictObject({
  mode: BondMode,
  members: z.array(IfName).min(1),
  /** MII link monitoring interval, ms. */
  miimon: z.int().min(0).max(60000).optional(),
  /** 802.3ad only. */
  lacpRate: LacpRate.optional(),
  /** balance-xor, 802.3ad, balance-tlb only. */
  hashPolicy: HashPolicy.optional(),
  /** active-backup, balance-tlb, balance-alb only. */
  primary: IfName.optional(),
});
export type Bond = z.infer<typeof Bond>;

/** fail#: an active-backup group (a bond in active-backup mode on Linux), e.g. over bond0.10 and bond1.10. */
export const Failover = z.strictObject({
  members: z.array(IfName).min(2),
  primary: IfName.optional(),
  miimon: z.int().min(0).max(60000).optional(),
});
export type Failover = z.infer<typeof Failover>;

/**
 * One filer's interface stack below and including the aliases. Sections by kind keep the YAML
 * readable; the names themselves must match the section (bond# under bonds, ...).
 */
export const Stack = z.strictObject({
  bonds: z.record(IfName, Bond).default({}),
  failovers: z.record(IfName, Failover).default({}),
  /** VLAN interfaces by name; the name carries parent and tag: bond0.10 is VLAN 10 on bond0. */
  vlans: z.array(IfName).default([]),
  /** alias -> the interface it sits on: { mgmt0: eth0, data0: bond0.10 }. */
  aliases: z.record(IfName, IfName).default({}),
  /** MTU per interface, any kind. */
  mtu: z.record(IfName, Mtu).default({}),
});
export type Stack = z.infer<typeof Stack>;

/**
 * A per-filer change to a template stack: an entry replaces the template's entry of the same
 * name, `null` removes it, vlans given here are added (prefix one with "-" to remove it).
 */
export const StackPatch = z.strictObject({
  bonds: z.record(IfName, Bond.nullable()).optional(),
  failovers: z.record(IfName, Failover.nullable()).optional(),
  vlans: z.array(IfName).optional(),
  aliases: z.record(IfName, IfName.nullable()).optional(),
  mtu: z.record(IfName, Mtu.nullable()).optional(),
});
export type StackPatch = z.infer<typeof StackPatch>;

// ---- cluster, scope, filers, virtual servers, MySQL -----------------------------------------

export const ClusterInfo = z.strictObject({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,62}$/, 'must start with a letter; letters, digits, - and _ only'),
  /** Cluster ID in MAC form (seed 003 §5.2.4): the seed of every DHCP identifier. */
  id: Mac,
  /** Option 60 the filers send; selects rackstrap's option 43 space on the DHCP server. */
  vendorClass: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'printable ASCII without spaces, 1-64 chars').default('rackstrap'),
  /** Configuration generation: bump it on every change so filers know DHCP is newer than their cache. */
  generation: z.int().min(1).max(2 ** 31 - 1),
  /** Path (relative to this file) of the per-cluster HMAC key that signs topology. Never inline. */
  keyFile: z.string().min(1).optional(),
});

const ScopeOptions = {
  domain: z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'must be a DNS domain name').optional(),
  dns: z.array(Address).optional(),
  ntp: z.array(Address).optional(),
  /** Seconds. */
  leaseTime: z.int().min(60).max(2 ** 31 - 1).optional(),
};

export const Subnet = z.strictObject({
  prefix: Prefix,
  routers: z.array(Address).default([]),
  ...ScopeOptions,
  /** Optional dynamic pool for clients outside the cluster (embedded server only; off by default). */
  pool: z.strictObject({ start: Address, end: Address }).optional(),
  /**
   * Addresses offered to topology requests (client id `<cluster-id>:<base MAC>`), only to the
   * cluster's vendor class. Real servers answer only a client they can offer an address to, so
   * the topology rides in an OFFER from this range; the agent reads option 43 from the OFFER and
   * never REQUESTs it, so nothing is committed. Needed on the subnet(s) the NICs first reach.
   */
  bootstrap: z.strictObject({ start: Address, end: Address }).optional(),
});
export type Subnet = z.infer<typeof Subnet>;

/** DHCP scope: defaults for every subnet, each subnet may override them. */
export const Scope = z.strictObject({
  ...ScopeOptions,
  leaseTime: ScopeOptions.leaseTime.default(86400),
  subnets: z.array(Subnet).min(1),
});
export type Scope = z.infer<typeof Scope>;

export const Filer = z.strictObject({
  /**
   * The filer's base MAC: with the cluster ID it keys the topology request. By default the MAC of
   * its lowest-numbered NIC (eth0), which is the MAC on the filer's label and the one its agent
   * reads from the hardware. Set it only when the filer carries another base MAC (a replaced
   * board keeping the old one), and then give its agent the same value (agent.yaml baseMac).
   */
  baseMac: Mac.optional(),
  /** Physical NICs: eth# -> MAC. Filers in one cluster may have different counts. */
  nics: z.record(IfName, Mac),
  /** Name of a stack under `templates` this filer starts from. */
  template: z.string().optional(),
  /** Without a template: the whole stack. With one: changes to it. */
  stack: StackPatch.optional(),
  /** Filer-private addresses (do not fail over): one per mgmt#/san# alias. */
  addresses: z.record(IfName, Address).default({}),
});
export type Filer = z.infer<typeof Filer>;

export const Vserver = z.strictObject({
  /** Routing table and realm id of this server (seed 000 VSID). Servers may share one on purpose. */
  table: TableId,
  /** Default route of the server's table. */
  gateway: Address.optional(),
  /** Filers this server may run on (failover group); default: every filer. */
  filers: z.array(z.string()).optional(),
  /** The filer that brings it up at bootstrap; otherwise the HA layer places it. */
  home: z.string().optional(),
  /** data# alias -> instance number -> address: { data0: { 0: 10.2.2.1, 1: 10.3.3.1 } }. */
  addresses: z.record(IfName, z.record(z.string().regex(/^(0|[1-9][0-9]{0,3})$/, 'instance must be a number 0-9999'), Address)),
});
export type Vserver = z.infer<typeof Vserver>;

export { MYSQL_ROLE };
export const MysqlNode = z.strictObject({
  /** mgmt# alias -> address (§5.11: MySQL runs on the mgmt# interfaces). */
  addresses: z.record(IfName, Address),
  /** The filer that hosts this role at bootstrap; otherwise the HA layer places it. */
  home: z.string().optional(),
});
export type MysqlNode = z.infer<typeof MysqlNode>;

/** One server of the DHCP server pair (see README: server pairs). */
export const PairServer = z.strictObject({
  /** Its sync endpoint (TCP for lease changes, UDP for heartbeats): address[:port], port 6767 by default. */
  sync: z.string().regex(/^[0-9.]+(:[0-9]{1,5})?$/, 'must be an IPv4 address with an optional port, like 10.9.0.1:6767'),
  /** More addresses of it that its partner's heartbeats also go to (the client network): the evidence beyond one link. */
  paths: z.array(z.ipv4({ error: 'must be an IPv4 address' })).default([]),
  /** On a tie this one is the active; it owns the lower half of each dynamic range while the two are apart. Exactly one of the two. */
  preferred: z.boolean().default(false),
});
export type PairServer = z.infer<typeof PairServer>;

/** The embedded DHCP server as a hot-standby pair (rackstrap serve on two nodes). */
export const ServerPair = z.strictObject({
  /** The file that holds the shared secret of the sync channel (never the secret itself): an absolute path. */
  secretFile: z.string().regex(/^\/[^\0]*$/, 'must be the absolute path of the file that holds the secret (the secret itself never goes in the description)'),
  /** sync: a reply waits for the partner to have the lease on disk; async: faster, a takeover may lose the last changes. */
  mode: z.enum(['sync', 'async'], { error: 'must be sync or async' }).default('sync'),
  heartbeatMs: z.int().min(10).max(600_000).default(100),
  /** The partner is gone after this long unheard on every path; default ten heartbeats. */
  deadMs: z.int().min(10).max(600_000).optional(),
  /** The service address (address/length) the active holds; default: vs_mgmt's management address. */
  serviceAddress: z.string().regex(/^[0-9.]+\/[0-9]{1,2}$/, 'must be an IPv4 address with its prefix length, like 10.1.1.250/24').optional(),
  /** The two servers, by the names they use in the pair (--pair-name). */
  servers: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,62}$/, 'server names: a letter, then letters, digits, ., - or _'), PairServer),
});
export type ServerPair = z.infer<typeof ServerPair>;

export const ClusterDescription = z.strictObject({
  cluster: ClusterInfo,
  scope: Scope,
  /** Named stacks shared by filers (inheritance instead of repetition). */
  templates: z.record(z.string(), Stack).default({}),
  filers: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,62}$/, 'filer names: a letter, then letters, digits, - or _'), Filer),
  vservers: z
    .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,62}$/, 'virtual server names: a letter, then letters, digits, - or _'), Vserver)
    .default({}),
  mysql: z.record(z.string().regex(MYSQL_ROLE, 'MySQL roles are MySQLMgmtNode, MySQLDataNode<n>, MySQLAppNode<n>'), MysqlNode).default({}),
  /** The embedded DHCP server as a pair of two rackstrap serve processes. */
  pair: ServerPair.optional(),
});
export type ClusterDescription = z.infer<typeof ClusterDescription>;

// ---- what one filer is told over DHCP ---------------------------------------------------------

/** A virtual server brought up by its home filer at bootstrap. */
export const TopologyVserver = z.strictObject({
  name: z.string(),
  table: TableId,
  /** Default route of the server's table (the description's `gateway`; IPv4, what DHCPv4 serves). */
  gateway: z.ipv4().optional(),
  /** The identifiers to request: alias + instance. */
  addresses: z.array(z.strictObject({ alias: IfName, instance: z.int().min(0).max(9999) })).min(1),
});
export type TopologyVserver = z.infer<typeof TopologyVserver>;

export const TopologyMysql = z.strictObject({
  role: z.string().regex(MYSQL_ROLE),
  aliases: z.array(IfName).min(1),
});
export type TopologyMysql = z.infer<typeof TopologyMysql>;

/**
 * One filer's topology: everything the agent builds before addresses, plus the names it needs to
 * form its identifiers. This is what the wire format (docs/wire-format.md) carries in option 43.
 * Interface names are lower-case here (normalized); filer/server names keep their case because
 * they are part of the DHCP identifiers.
 */
export const Topology = z.strictObject({
  filer: z.string(),
  generation: z.int().min(1).max(2 ** 31 - 1),
  stack: Stack,
  vservers: z.array(TopologyVserver).default([]),
  mysql: z.array(TopologyMysql).default([]),
  /**
   * How many IPv6 addresses the description gives this filer (its own, its virtual servers' and
   * MySQL roles'): DHCPv4 serves none, so they are not asked for; the agent says so once.
   */
  ipv6: z.int().min(1).max(1_000_000).optional(),
});
export type Topology = z.infer<typeof Topology>;
