// `rackstrap agent --down`: give the cached leases back (RELEASE, RFC 2131 §4.4.6) while their
// addresses are still on the aliases (RELEASE is unicast from the address), then remove exactly what
// rackstrap built (planTeardown: its marks only, in the reverse order of seed 000's enable
// operation), and say so in the status file. Run it with the agent stopped.
import type { CacheEntry } from '../cache/cache-entry.js';
import { openCache } from '../cache/open-cache.js';
import { openDhcpClient, type Clock, type DhcpClient, type TransportPool } from '../dhcp-client/index.js';
import { RackstrapError } from '../errors.js';
import { apply } from '../net/apply.js';
import { observe } from '../net/observe.js';
import { planTeardown } from '../net/plan.js';
import type { Runner } from '../net/runner.js';
import type { AgentLog } from './agent-log.js';
import { addressRequests } from './address-requests.js';
import { listHostLinks } from './nic-discovery.js';
import { featuresOff, type AgentSettings } from './settings.js';
import { isProcessAlive, readStatus, writeStatus, type AgentStatus } from './status.js';

/** How long RELEASE may wait for the server to confirm a lease first (no server: give up). */
export const RELEASE_WAIT_MAX_MS = 2_000;

export interface DownDeps {
  runner: Runner;
  log: AgentLog;
  pool?: TransportPool;
  netns?: string;
  clock?: Clock;
  /** Is this pid a running agent (default: signal 0)? */
  isRunning?: (pid: number) => boolean;
}

export interface DownResult {
  /** Steps of the teardown. */
  removed: number;
  released: string[];
  notReleased: string[];
}

export class AgentRunningError extends RackstrapError {
  constructor(pid: number) {
    super('RS_AGENT_RUNNING', `the agent is running (pid ${pid}) and would rebuild what --down removes: stop it first (systemctl stop rackstrap-agent)`);
  }
}

export async function bringDown(s: AgentSettings, deps: DownDeps): Promise<DownResult> {
  const log = deps.log;
  let before: AgentStatus | undefined;
  try {
    before = await readStatus(s.cacheDir);
  } catch {
    before = undefined;
  }
  if (before?.daemon && before.mode !== 'stopped' && before.pid !== process.pid && (deps.isRunning ?? isProcessAlive)(before.pid)) throw new AgentRunningError(before.pid);

  const released: string[] = [];
  const notReleased: string[] = [];
  const cache = openCache(s.cacheDir, { clusterId: s.clusterId });
  let entry: CacheEntry | undefined;
  try {
    const r = await cache.read();
    entry = r.kind === 'ok' ? r.entry : undefined;
  } catch (err) {
    log.warn('cache', `no leases to release: ${(err as Error).message}`);
  }
  if (entry !== undefined) {
    const cached = entry;
    const present = new Set((await listHostLinks(deps.runner)).map((l) => l.ifname));
    const wait = Math.min(s.addressTimeoutMs, RELEASE_WAIT_MAX_MS);
    await Promise.all(
      addressRequests(cached.topology, s.clusterId).map(async (req) => {
        const lease = cached.leases[req.identifier];
        if (lease === undefined || lease.address.includes(':')) return;
        if (!present.has(req.alias)) {
          notReleased.push(`${req.identifier} (${req.alias} is gone)`);
          return;
        }
        // The client API releases what it holds: confirm the lease (INIT-REBOOT), then RELEASE it.
        let client: DhcpClient;
        try {
          client = await openDhcpClient({
          interface: req.alias,
          identifier: req.identifier,
          vendorClass: s.vendorClass,
          timing: { retransmitBaseMs: s.retransmitBaseMs },
          log: log.dhcp,
          ...(deps.pool === undefined ? {} : { pool: deps.pool }),
          ...(deps.netns === undefined ? {} : { netns: deps.netns }),
          ...(deps.clock === undefined ? {} : { clock: deps.clock }),
          });
        } catch (err) {
          notReleased.push(`${req.identifier} (${(err as Error).message})`);
          return;
        }
        const bound = new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), wait);
          client.once('bound', () => {
            clearTimeout(timer);
            resolve(true);
          });
        });
        client.start({ cachedAddress: lease.address });
        const ok = await bound;
        await client.stop({ release: ok });
        (ok ? released : notReleased).push(ok ? `${req.identifier} ${lease.address}` : `${req.identifier} (no answer from ${lease.serverId} within ${wait} ms)`);
      }),
    );
    if (released.length > 0) log.info('release', `released ${released.length} lease(s)`, { released });
    if (notReleased.length > 0) log.warn('release', `${notReleased.length} lease(s) not released; they expire on the server`, { notReleased });
  }

  const p = planTeardown(await observe(deps.runner));
  const report = await apply(p.steps, { runner: deps.runner, log: (line) => log.debug('step', line) });
  log.info('down', `removed what rackstrap built: ${report.ran.length} step(s)`, { steps: report.ran.length });

  const now = new Date().toISOString();
  await writeStatus(s.cacheDir, {
    version: 1,
    pid: process.pid,
    daemon: false,
    mode: 'down',
    startedAt: now,
    updatedAt: now,
    clusterId: s.clusterId,
    baseMac: s.baseMac,
    source: null,
    topology: null,
    nics: s.nics,
    addresses: [],
    leases: [],
    cache: before?.cache ?? { dir: s.cacheDir, generation: entry?.generation ?? null, writtenAt: entry?.writtenAt ?? null },
    keyId: s.keyId,
    featuresOff: featuresOff(s.features),
    lastApply: { at: now, steps: report.ran.length, what: 'teardown (agent --down)' },
    lastError: before?.lastError ?? null,
  });
  return { removed: report.ran.length, released, notReleased };
}
