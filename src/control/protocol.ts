// The agent's control protocol: one JSON object per line over a unix socket, a request and its
// reply, each a zod schema shared by the agent, the CLI (`rackstrap show`, `status`) and any
// script. In the manner of a netlink family (IPVS's generic netlink interface): a small fixed set
// of commands, typed nested attributes, and a version in every message, so an older CLI talking
// to a newer agent gets a clear refusal instead of a misread.
//
//   → {"v":1,"id":1,"command":"links"}
//   ← {"v":1,"id":1,"ok":true,"command":"links","result":{...}}
//   ← {"v":1,"id":1,"ok":false,"error":{"code":"RS_DENIED","message":"..."}}
import { z } from 'zod';
import { DriftState } from '../bootstrap/drift-state.js';
import { StatusLease } from '../bootstrap/status.js';

export const CONTROL_VERSION = 1;
/** A request or reply line longer than this is refused (bounded memory). */
export const MAX_LINE_BYTES = 1024 * 1024;

export const COMMANDS = ['info', 'links', 'leases', 'cache', 'features', 'stats', 'drift', 'renew', 'release', 'reapply', 'zero-stats'] as const;
export const CommandName = z.enum(COMMANDS);
export type CommandName = z.infer<typeof CommandName>;

export const Request = z.strictObject({
  v: z.literal(CONTROL_VERSION),
  id: z.int().min(0),
  command: CommandName,
});
export type Request = z.infer<typeof Request>;

const Instant = z.iso.datetime({ offset: true });
const Counter = z.object({ packets: z.number().int().min(0), bytes: z.number().int().min(0) });
export type Counter = z.infer<typeof Counter>;

export const InfoReply = z.object({
  protocol: z.literal(CONTROL_VERSION),
  agentVersion: z.string(),
  pid: z.int(),
  startedAt: Instant,
  mode: z.string(),
  filer: z.string().nullable(),
  generation: z.int().nullable(),
  source: z.enum(['dhcp', 'cache']).nullable(),
  clusterId: z.string(),
  reconcile: z.enum(['repair', 'report', 'off']),
  lastApply: z.object({ at: Instant, steps: z.int(), what: z.string() }).nullable(),
  lastError: z.object({ at: Instant, code: z.string(), message: z.string() }).nullable(),
  /** The kernel watch's counters (6WIND's "show netlink"). */
  watch: z.object({ datagrams: z.int(), events: z.int(), batches: z.int(), overflows: z.int(), resyncs: z.int(), skipped: z.int() }).nullable(),
  drift: z.object({ checks: z.int(), repairs: z.int(), differences: z.int(), conflicts: z.int(), health: z.int() }),
});

export const SwitchProblem = z.object({
  /** What kind of mistake: lacp-no-partner, lacp-split, not-distributing, speed-mismatch, vlan-silent. */
  kind: z.string(),
  ifname: z.string(),
  message: z.string(),
  /** What the switch admin most likely has to change. */
  fix: z.string(),
});
export type SwitchProblem = z.infer<typeof SwitchProblem>;

export const LinkRow = z.object({
  ifname: z.string(),
  kind: z.string(),
  /** rackstrap's role (ifalias mark), or "nic". */
  role: z.string(),
  owned: z.boolean(),
  up: z.boolean(),
  carrier: z.boolean().nullable(),
  master: z.string().nullable(),
  mtu: z.int(),
  rx: Counter.nullable(),
  tx: Counter.nullable(),
  /** Bond member's LACP state (distributing, collecting, ...). */
  lacp: z.array(z.string()).nullable(),
});
export type LinkRow = z.infer<typeof LinkRow>;

export const LinksReply = z.object({
  links: z.array(LinkRow),
  health: DriftState.shape.health,
  switchProblems: z.array(SwitchProblem),
});
export type LinksReply = z.infer<typeof LinksReply>;

export const LeasesReply = z.object({ leases: z.array(StatusLease) });
export const CacheReply = z.object({ dir: z.string(), generation: z.int().nullable(), writtenAt: Instant.nullable() });
export const FeaturesReply = z.object({ features: z.array(z.object({ name: z.string(), on: z.boolean(), flag: z.string() })) });

const InOut = z.object({ in: Counter, out: Counter });
/**
 * Per protocol, from the same counting rules. Added after the first release of the protocol:
 * optional, so a reply without it (an older agent) still parses, and an older client reading a
 * newer reply ignores it.
 */
export const ProtocolStats = z.object({ tcp: InOut, udp: InOut, icmp: InOut });
export type ProtocolStats = z.infer<typeof ProtocolStats>;

export const ServerStats = z.object({
  server: z.string(),
  in: Counter,
  out: Counter,
  protocols: ProtocolStats.optional(),
  addresses: z.array(z.object({ address: z.string(), in: Counter, out: Counter, protocols: ProtocolStats.optional() })),
});
export type ServerStats = z.infer<typeof ServerStats>;

export const StatsReply = z.object({
  /** Counters count from this reset; they survive agent restarts. */
  epoch: z.int(),
  since: Instant,
  /** Where the per-server counters come from. */
  source: z.string(),
  servers: z.array(ServerStats),
  devices: z.array(z.object({ ifname: z.string(), rx: Counter, tx: Counter, rxErrors: z.number(), txErrors: z.number(), rxDropped: z.number(), txDropped: z.number() })),
  /** Why per-server counters are missing, when they are. */
  note: z.string().nullable(),
});
export type StatsReply = z.infer<typeof StatsReply>;

export const REPLIES = {
  info: InfoReply,
  links: LinksReply,
  leases: LeasesReply,
  cache: CacheReply,
  features: FeaturesReply,
  stats: StatsReply,
  drift: DriftState,
  renew: z.object({ renewing: z.boolean() }),
  release: z.object({ released: z.boolean() }),
  reapply: z.object({ steps: z.int() }),
  'zero-stats': z.object({ epoch: z.int(), since: Instant }),
} as const satisfies Record<CommandName, z.ZodType>;

export type ReplyOf<C extends CommandName> = z.infer<(typeof REPLIES)[C]>;

export const ErrorReply = z.object({
  v: z.literal(CONTROL_VERSION),
  id: z.int().nullable(),
  ok: z.literal(false),
  error: z.object({ code: z.string(), message: z.string() }),
});

export const OkReply = z.object({
  v: z.literal(CONTROL_VERSION),
  id: z.int(),
  ok: z.literal(true),
  command: CommandName,
  result: z.unknown(),
});

export const Reply = z.union([OkReply, ErrorReply]);
