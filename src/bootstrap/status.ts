// What `rackstrap status` shows (seed 004's `show` console, as a file): the agent writes it next to
// the cache, atomically (temp + fsync + rename, like the cache), after every change of state, so a
// reader never sees half of it and it survives the agent. Never holds the key, only its fingerprint.
import { z } from 'zod';
import { ensureDir } from '../cache/check-permissions.js';
import { writeFileAtomic } from '../cache/write-file-atomic.js';
import { statusPath } from './status-read.js';
import { Topology } from '../options/schema.js';
import { DriftState } from './drift-state.js';

export const STATUS_FILE = 'status.json';
export const STATUS_VERSION = 1;

const Instant = z.iso.datetime({ offset: true });

export const AgentMode = z.enum([
  /** Asking for the topology for the first time. */
  'starting',
  /** Built from DHCP; leases renewed, topology asked again periodically. */
  'dhcp',
  /** Built from the cache (no DHCP answer); still asking in the background. */
  'cache',
  /** Nothing to build from yet (no answer, no cache); still asking. */
  'waiting',
  /** The agent stopped (SIGTERM, or --once finished); what it built stays. */
  'stopped',
  /** `agent --down` removed what rackstrap built. */
  'down',
]);
export type AgentMode = z.infer<typeof AgentMode>;

export const StatusLease = z.object({
  identifier: z.string(),
  kind: z.enum(['filer', 'vserver', 'mysql']),
  alias: z.string(),
  /** a.b.c.d/len, when held. */
  address: z.string().optional(),
  expiresAt: Instant.nullable().optional(),
  serverId: z.string().optional(),
  /** The DHCP client's state (bound, renewing, selecting, ...) or "cached". */
  state: z.string(),
});
export type StatusLease = z.infer<typeof StatusLease>;

/** An answer a keyed filer refused (rogue-reports.ts): who sent it, what it offered, why refused. */
export const RogueReport = z.object({
  what: z.enum(['topology', 'address']),
  /** Option 54 of the answer. */
  serverId: z.string().optional(),
  /** Source address of the datagram (a relay's, when relayed). */
  from: z.string(),
  /** Ethernet source of the frame, when the agent could see it. */
  mac: z.string().optional(),
  interface: z.string(),
  identifier: z.string().optional(),
  /** The address offered. */
  address: z.string().optional(),
  code: z.string().optional(),
  reason: z.string(),
  firstSeen: Instant,
  lastSeen: Instant,
  count: z.int(),
});
export type RogueReport = z.infer<typeof RogueReport>;

export const AgentStatus = z.object({
  version: z.literal(STATUS_VERSION),
  pid: z.int(),
  /** Runs until stopped (false: --once, --down). */
  daemon: z.boolean(),
  mode: AgentMode,
  startedAt: Instant,
  updatedAt: Instant,
  clusterId: z.string(),
  baseMac: z.string(),
  /** Where the configuration in place came from. */
  source: z.enum(['dhcp', 'cache']).nullable(),
  topology: Topology.nullable(),
  /** Kernel name of each NIC the topology names. */
  nics: z.record(z.string(), z.string()),
  /** Addresses rackstrap put on the aliases: dev, a.b.c.d/len, whose. */
  addresses: z.array(z.object({ dev: z.string(), address: z.string(), owner: z.string() })),
  leases: z.array(StatusLease),
  cache: z.object({ dir: z.string(), generation: z.int().nullable(), writtenAt: Instant.nullable() }),
  /** The cluster key's id (keyId: the signature's `key=`), or null without a key. */
  keyId: z.string().nullable(),
  /** Features switched off (seed 004 flags). */
  featuresOff: z.array(z.string()),
  lastApply: z.object({ at: Instant, steps: z.int(), what: z.string() }).nullable(),
  lastError: z.object({ at: Instant, code: z.string(), message: z.string() }).nullable(),
  /** Answers refused because they are not signed for this filer (only a filer holding the key tells). */
  rogueServers: z.array(RogueReport).optional(),
  /** The daemon's last comparison of the kernel with what it built (absent before it first looked). */
  drift: DriftState.optional(),
});
export type AgentStatus = z.infer<typeof AgentStatus>;

/** Largest status file read: the stack, addresses and leases of one filer are a few KB. */
export const MAX_STATUS_BYTES = 4 * 2 ** 20;

export async function writeStatus(cacheDir: string, status: AgentStatus): Promise<void> {
  await ensureDir(cacheDir, () => undefined);
  await writeFileAtomic(statusPath(cacheDir), `${JSON.stringify(status, null, 1)}\n`);
}

// Reading it (zod-free, for the CLI's start-up): status-read.ts.
export { isProcessAlive, readStatus, statusPath, StatusError } from './status-read.js';
