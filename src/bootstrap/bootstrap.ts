// The bootstrap agent (seed 003 §5.2.6, seed 000): what a freshly racked filer runs to come
// up with its interface stack and addresses with no one logged in.
//
//   1. read the cache                          5. apply it
//   2. ask for the topology on every NIC       6. ask each alias's addresses; plan and apply all
//   3. decode, verify, check the rules         7. write the cache
//   4. plan the stack (links only)             8. keep leases; re-ask the topology; apply changes live
//
// No answer in time: the stack and addresses come from the cache (§5.2.6.1, the whole-cluster
// reboot), and the agent keeps asking; DHCP takes over once it answers with a generation at least
// the cache's. A change that fails is taken back whole (the net layer undoes its own steps, the
// agent undoes the stack built for it), the last good state stays, and the agent tries again later.
// Every change of state runs one at a time (#exclusive).
import type { CacheEntry } from '../cache/cache-entry.js';
import { openCache, type Cache } from '../cache/open-cache.js';
import { systemClock, type Clock, type Timer, type TransportPool } from '../dhcp-client/index.js';
import { RackstrapError, StepFailedError } from '../errors.js';
import { apply } from '../net/apply.js';
import { linkDown, linkUp } from '../net/commands.js';
import { buildDesiredState, type DesiredState } from '../net/desired.js';
import type { ObservedState } from '../net/observe.js';
import type { Step } from '../net/plan.js';
import type { Runner } from '../net/runner.js';
import { topologyKey } from '../options/identifiers.js';
import type { Topology } from '../options/schema.js';
import { addressRequests, managementAliases } from './address-requests.js';
import type { AgentLog } from './agent-log.js';
import { converge, observeAhead, undoSteps } from './converge.js';
import { checkDrift, initialDriftState, type DriftState } from './drift-check.js';
import { LeaseSet } from './lease-set.js';
import { desiredInputFor, leasesFor, type LeaseMap } from './leases-to-desired.js';
import { listHostLinks, type HostLink } from './nic-discovery.js';
import { noTopologyAdvice, type AskedFor } from './no-topology.js';
import { featuresOff, type AgentSettings } from './settings.js';
import { writeStatus, type AgentMode, type AgentStatus } from './status.js';
import { statusSnapshot } from './status-snapshot.js';
import { fetchTopology, type TopologyAnswer } from './topology-source.js';
import { offerVerifier } from './offer-check.js';
import { RogueReports, type RogueSighting } from './rogue-reports.js';

export interface AgentDeps {
  runner: Runner;
  log: AgentLog;
  /** Sockets per interface, shared by the topology requests and the address clients. */
  pool?: TransportPool;
  /** Run against this network namespace (the runner must target it too). */
  netns?: string;
  clock?: Clock;
  /** Runs until stopped (status only). */
  daemon?: boolean;
  /**
   * Called once, the first time the filer is whole: every alias addressed (from DHCP, however
   * late the last lease came), or the stack up from the cache. What systemd's READY=1 means.
   */
  ready?: (status: string) => void;
}

export type UpResult =
  | { source: 'dhcp' | 'cache'; filer: string; generation: number; missing: string[] }
  | { source: 'none'; reason: string };

/** The agent was stopped while it was changing something; that change was taken back. */
export class AgentStoppedError extends RackstrapError {
  constructor() {
    super('RS_AGENT_STOPPED', 'the agent was stopped');
  }
}

/** Neither DHCP nor the cache gave a configuration (`--once` exits 1 with it). */
export class NoConfigurationError extends RackstrapError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RS_NO_CONFIG', message, options);
  }
}

interface Current {
  topology: Topology;
  source: 'dhcp' | 'cache';
  leases: LeaseMap;
  desired: DesiredState;
}

export class Agent {
  readonly #s: AgentSettings;
  readonly #d: AgentDeps;
  readonly #clock: Clock;
  readonly #cache: Cache;
  readonly #abort = new AbortController();
  readonly #startedAt: string;
  #mode: AgentMode = 'starting';
  #current: Current | undefined;
  #leaseSet: LeaseSet | undefined;
  #cacheInfo: { generation: number; writtenAt: string } | null = null;
  /** Why the last cache read found nothing usable when copies exist (each copy and its reason). */
  #cacheUnusable: string | undefined;
  /** The IPv6 count last reported (said once, again only when a new generation changes it). */
  #ipv6Said: number | undefined;
  #lastApply: AgentStatus['lastApply'] = null;
  #lastError: AgentStatus['lastError'] = null;
  #queue: Promise<unknown> = Promise.resolve();
  #statusQueue: Promise<unknown> = Promise.resolve();
  #timer: Timer | undefined;
  #reconcileTimer: Timer | undefined;
  #running = false;
  #stopped = false;
  #readyTold = false;
  readonly #reported = new Set<string>();
  readonly #rogues = new RogueReports();
  readonly #drift: DriftState;

  constructor(settings: AgentSettings, deps: AgentDeps) {
    this.#s = settings;
    this.#drift = initialDriftState(settings.reconcile ?? 'repair');
    this.#d = deps;
    this.#clock = deps.clock ?? systemClock;
    this.#cache = openCache(settings.cacheDir, { clusterId: settings.clusterId });
    this.#startedAt = new Date().toISOString();
  }

  get mode(): AgentMode {
    return this.#mode;
  }

  /** The configuration in place: generation, source and leases (tests, status). */
  get current(): Readonly<{ topology: Topology; source: 'dhcp' | 'cache'; leases: LeaseMap }> | undefined {
    return this.#current;
  }

  /** The last drift check's findings and the repair counters. */
  get drift(): Readonly<DriftState> {
    return this.#drift;
  }

  /** The settings in force (the control socket's `info` and `features`). */
  get settings(): Readonly<AgentSettings> {
    return this.#s;
  }

  /**
   * Compares the kernel with what the agent built and acts by the reconcile policy (drift-check.ts).
   * Runs in turn with every other change, so it never sees a change half made. Nothing to compare
   * before the first configuration is in place.
   */
  checkDrift(trigger: string): Promise<Readonly<DriftState>> {
    return this.#exclusive(async () => {
      const cur = this.#current;
      if (cur === undefined || this.#stopped) return this.#drift;
      const hadRepairs = this.#drift.repairs;
      const before = JSON.stringify([this.#drift.items, this.#drift.conflicts, this.#drift.health, this.#drift.lastError]);
      await checkDrift(cur.desired, this.#drift, { runner: this.#d.runner, features: this.#s.features, log: this.#d.log, trigger });
      if (this.#drift.repairs !== hadRepairs) this.#applied(this.#drift.lastRepair?.steps ?? 0, `repair of drift (${trigger})`);
      if (before !== JSON.stringify([this.#drift.items, this.#drift.conflicts, this.#drift.health, this.#drift.lastError]) || this.#drift.repairs !== hadRepairs) await this.#status();
      return this.#drift;
    });
  }

  /** Re-applies the configuration in place (`reapply` command): the same plan/apply as a repair. */
  reapply(): Promise<number> {
    return this.#exclusive(async () => {
      const cur = this.#current;
      if (cur === undefined) throw new RackstrapError('RS_NO_CONFIG', 'nothing to re-apply: no configuration is in place yet');
      const done = await converge(cur.desired, 'all', this.#net());
      this.#applied(done.ran.length, `re-apply of generation ${cur.topology.generation}`);
      await this.#status();
      return done.ran.length;
    });
  }

  /** Renews every lease now (`renew` command); false when no DHCP client runs (up from the cache). */
  renewNow(): boolean {
    const set = this.#leaseSet;
    if (set === undefined) return false;
    this.refreshNow();
    return set.renewAll();
  }

  /** Once: the description gives this filer IPv6 addresses, which it does not ask DHCPv4 for. */
  #sayIpv6(topology: Topology): void {
    if (topology.ipv6 === undefined || topology.ipv6 === this.#ipv6Said) return;
    this.#ipv6Said = topology.ipv6;
    const n = topology.ipv6;
    this.#d.log.info(
      'ipv6-not-asked',
      `IPv6: not served by DHCPv4 yet: the description gives ${topology.filer} ${n} IPv6 address${n === 1 ? '' : 'es'}; this agent does not ask for ${n === 1 ? 'it' : 'them'} and does not wait for ${n === 1 ? 'it' : 'them'}. ` +
        `Configure ${n === 1 ? 'it' : 'them'} another way (static configuration, SLAAC or a DHCPv6 server); rackstrap validate lists ${n === 1 ? 'it' : 'each'}`,
      { ipv6: n },
    );
  }

  /** What the topology request carries, for the no-answer advice. */
  #askedFor(): AskedFor {
    const s = this.#s;
    return { clusterId: s.clusterId, vendorClass: s.vendorClass, baseMac: s.baseMac, derivedBaseMac: s.derived.baseMac, nics: s.nics };
  }

  // ---- steps 1-7 -----------------------------------------------------------------------------

  /** Brings the filer up from DHCP, or from the cache when DHCP does not answer in time. */
  bringUp(): Promise<UpResult> {
    return this.#exclusive(async () => {
      const log = this.#d.log;
      log.info('start', `agent for cluster ${this.#s.clusterId}, base MAC ${this.#s.baseMac}${this.#s.derived.baseMac ? ' (from the first NIC)' : ''}`, {
        nics: this.#s.nics,
        cacheDir: this.#s.cacheDir,
        keyId: this.#s.keyId,
        featuresOff: featuresOff(this.#s.features),
      });
      void this.#status();
      const [cached, hostLinks] = await Promise.all([this.#readCache(), listHostLinks(this.#d.runner)]);
      const present = new Set(hostLinks.map((l) => l.ifname));
      await this.#nicsUp(hostLinks);
      // A stack left by an earlier run has enslaved the NICs: ask on its mgmt# aliases too.
      const interfaces = [...new Set([...Object.values(this.#s.nics), ...(cached ? managementAliases(cached.topology).filter((a) => present.has(a)) : [])])];
      // Read the kernel while DHCP is asked: the first plan (stack or cache) then needs no wait.
      const ahead = observeAhead(this.#d.runner);
      let answer: TopologyAnswer | undefined;
      try {
        answer = await this.#fetch(interfaces, cached?.topology);
      } catch (err) {
        // No NIC could even be opened (a wrong NIC map, say): the cache is still worth bringing up.
        this.#fail('topology-request', `cannot ask for the topology on ${interfaces.join(', ')}`, err);
      }
      if (this.#stopped) throw new AgentStoppedError();
      let fresh = true;

      if (answer !== undefined && (cached === undefined || cached.generation <= answer.topology.generation)) {
        try {
          fresh = false;
          this.#tookTopology(answer);
          await this.#transition(answer, cached !== undefined && cached.generation === answer.topology.generation ? cached.leases : {}, ahead);
          return this.#up('dhcp');
        } catch (err) {
          if (err instanceof AgentStoppedError) throw err;
          this.#fail('apply-failed', `generation ${answer.topology.generation} from DHCP could not be applied`, err);
          if (cached === undefined) return { source: 'none', reason: this.#lastError!.message };
        }
      } else if (answer !== undefined && cached !== undefined) {
        log.warn('topology-older', `DHCP server ${answer.serverId} offers generation ${answer.topology.generation}, older than the cached ${cached.generation}: using the cache`, {
          server: answer.serverId,
        });
      }
      if (cached !== undefined) {
        if (answer === undefined) {
          log.warn('no-answer', `no topology from DHCP within ${this.#s.topologyTimeoutMs} ms for ${topologyKey(this.#s.clusterId, this.#s.baseMac)}: bringing the filer up from the cache (generation ${cached.generation})`, {
            identifier: topologyKey(this.#s.clusterId, this.#s.baseMac),
          });
        }
        try {
          await this.#upFromCache(cached, fresh ? ahead : undefined);
          return this.#up('cache');
        } catch (err) {
          this.#fail('apply-failed', `the cached generation ${cached.generation} could not be applied`, err);
          this.#mode = 'waiting';
          await this.#status();
          return { source: 'none', reason: this.#lastError!.message };
        }
      }
      this.#mode = 'waiting';
      // Both copies bad is not "no cache": say why each was refused, in the message the operator sees.
      const reason = this.#cacheUnusable === undefined
        ? `no topology from DHCP within ${this.#s.topologyTimeoutMs} ms and no cache in ${this.#s.cacheDir}`
        : `no topology from DHCP within ${this.#s.topologyTimeoutMs} ms, and the cache cannot be used: ${this.#cacheUnusable}`;
      // The log line says what was asked and what to check; the status keeps the short reason.
      log.warn('no-answer', `${reason}: ${noTopologyAdvice(this.#askedFor(), interfaces)}`, { identifier: topologyKey(this.#s.clusterId, this.#s.baseMac) });
      await this.#status();
      return { source: 'none', reason };
    });
  }

  /**
   * A NIC nobody has configured is down, and DISCOVER cannot leave it: bring the NICs of the map up
   * before asking (the stack's plan would bring them up anyway; this is the same step, earlier).
   */
  async #nicsUp(links: readonly HostLink[]): Promise<void> {
    const down = Object.values(this.#s.nics).filter((k) => links.some((l) => l.ifname === k && !l.up));
    if (down.length === 0) return;
    const steps: Step[] = down.map((k) => ({ kind: 'link-up', target: k, feature: undefined, argv: linkUp(k), undo: [linkDown(k)], reason: 'a NIC must be up to ask for the topology' }));
    try {
      await apply(steps, { runner: this.#d.runner, log: (line) => this.#d.log.debug('step', line) });
      this.#d.log.info('nics-up', `brought up ${down.join(', ')} to ask for the topology`, { nics: down });
    } catch (err) {
      this.#fail('nics-up', `cannot bring up ${down.join(', ')}`, err);
    }
  }

  #up(source: 'dhcp' | 'cache'): UpResult {
    const c = this.#current!;
    const missing = source === 'dhcp' ? this.#leaseSet?.missing() ?? [] : [];
    this.#d.log.info('up', `${c.topology.filer} is up from ${source === 'dhcp' ? 'DHCP' : 'the cache'}, generation ${c.topology.generation}: ${c.desired.addresses.length} address(es)`, {
      source,
      filer: c.topology.filer,
      generation: c.topology.generation,
      addresses: c.desired.addresses.map((a) => `${a.dev} ${a.local}/${a.prefixlen}`),
      ...(missing.length > 0 ? { missing } : {}),
    });
    this.#tellReady();
    return { source, filer: c.topology.filer, generation: c.topology.generation, missing };
  }

  /** The identifiers still without a lease while up from DHCP (none from the cache, or before it is up). */
  missing(): string[] {
    return this.#current?.source === 'dhcp' ? (this.#leaseSet?.missing() ?? []) : [];
  }

  /** deps.ready, once: when the stack is up from the cache, or every alias has its address. */
  #tellReady(): void {
    const c = this.#current;
    if (this.#readyTold || this.#d.ready === undefined || c === undefined) return;
    if (c.source === 'dhcp' && (this.#leaseSet?.missing().length ?? 0) > 0) return;
    this.#readyTold = true;
    this.#d.ready(`${c.topology.filer}: up from ${c.source === 'dhcp' ? 'DHCP' : 'the cache'}, generation ${c.topology.generation}`);
  }

  /** Step 8: keeps leases, asks for the topology again, switches from the cache to DHCP. Returns at once. */
  keepUp(): void {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    this.#schedule(this.#mode === 'dhcp' ? this.#s.refreshIntervalMs : 0);
  }

  /** Asks for the topology now (SIGHUP). */
  refreshNow(): void {
    if (this.#running && !this.#stopped) this.#schedule(0);
  }

  /**
   * Stops asking and renewing. What was built stays. With `release`, leases are given back
   * (RFC 2131 §4.4.6) and their addresses removed from the aliases.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort();
    this.#timer?.cancel();
    this.#reconcileTimer?.cancel();
    await this.#queue.catch(() => undefined);
    const set = this.#leaseSet;
    this.#leaseSet = undefined;
    await set?.stop({ release: opts.release ?? false });
    if (opts.release && set !== undefined && this.#current !== undefined) {
      try {
        const desired = buildDesiredState(desiredInputFor({ topology: this.#current.topology, clusterId: this.#s.clusterId, nics: this.#s.nics, leases: {} }));
        await converge(desired, 'all', this.#net());
        this.#current = { ...this.#current, leases: {}, desired };
      } catch (err) {
        this.#fail('release', 'released leases, but their addresses could not be removed', err);
      }
    }
    this.#mode = 'stopped';
    this.#d.log.info('stop', `agent stopped${opts.release ? ', leases released' : ''}; the configuration stays in place`);
    await this.#status();
    await this.#statusQueue.catch(() => undefined);
  }

  // ---- the changes -----------------------------------------------------------------------------

  /** Steps 4-7 for a topology from DHCP. On failure the host is as before and the error is thrown. */
  async #transition(answer: Pick<TopologyAnswer, 'topology' | 'addressTags'>, reuse: LeaseMap, observed?: Promise<ObservedState>): Promise<void> {
    const log = this.#d.log;
    const topology = answer.topology;
    this.#sayIpv6(topology);
    const base = buildDesiredState({ topology, clusterId: this.#s.clusterId, nics: this.#s.nics });
    let links;
    try {
      links = await converge(base, 'links', this.#net(), observed);
    } catch (err) {
      // A rollback the net layer could not finish still gets the host back to the last good state.
      if (err instanceof StepFailedError && !err.rolledBack) await this.#takeBack([], topology.generation);
      throw err;
    }
    // Read the built stack while the addresses are asked for.
    const afterLinks = observeAhead(this.#d.runner);
    // Holding the key, only what the signed topology vouches for is taken (offer-check.ts).
    const key = this.#s.key;
    const tags = new Set(answer.addressTags);
    const set = new LeaseSet(addressRequests(topology, this.#s.clusterId), {
      vendorClass: this.#s.vendorClass,
      timing: { retransmitBaseMs: this.#s.retransmitBaseMs },
      log,
      ...(key === undefined ? {} : { verifier: (req) => offerVerifier(key, tags, req.identifier) }),
      ...this.#dhcpDeps(),
    });
    set.on('unverified', (identifier, info) =>
      this.#rogue({ what: 'address', serverId: info.serverId, from: info.from, interface: info.interface, identifier, address: info.address, reason: `${info.type}: ${info.reason}` }),
    );
    let leases: LeaseMap;
    let desired: DesiredState;
    let version: number;
    let applied: number;
    try {
      // Same generation as the cache: its addresses are most likely still ours (INIT-REBOOT).
      const cachedAddresses = Object.fromEntries(Object.entries(reuse).map(([id, l]) => [id, l.address]));
      await set.start(cachedAddresses);
      const missing = await set.settle(this.#s.addressTimeoutMs, this.#abort.signal);
      if (this.#stopped) throw new AgentStoppedError();
      if (missing.length > 0) log.warn('addresses-missing', `no lease within ${this.#s.addressTimeoutMs} ms for ${missing.join(', ')}; still asking`, { missing });
      version = set.version;
      leases = set.leases();
      desired = buildDesiredState(desiredInputFor({ topology, clusterId: this.#s.clusterId, nics: this.#s.nics, leases }));
      applied = (await converge(desired, 'all', this.#net(), afterLinks)).ran.length;
    } catch (err) {
      await set.stop();
      await this.#takeBack(links.ran, topology.generation);
      throw err;
    }
    // Commit: the new clients replace the old ones (same identifiers: never RELEASE here).
    const old = this.#leaseSet;
    this.#leaseSet = set;
    this.#current = { topology, source: 'dhcp', leases, desired };
    this.#mode = 'dhcp';
    this.#watch(set);
    await old?.stop();
    this.#applied(links.ran.length + applied, `generation ${topology.generation} from DHCP`);
    await this.#writeCache();
    await this.#status();
    if (set.version !== version) this.#scheduleReconcile();
  }

  /**
   * After a failed change: undo the stack steps it made (exact, from what was observed), then hold
   * the host to the last good state, which repairs what an incomplete rollback left behind (an
   * `ip -batch` that died without naming its line). Both are logged; neither throws.
   */
  async #takeBack(ran: Step[], generation: number): Promise<void> {
    const log = this.#d.log;
    const failures = await undoSteps(ran, this.#net());
    if (failures.length > 0) log.error('undo-failed', `the stack built for generation ${generation} could not be fully taken back`, { failures });
    else if (ran.length > 0) log.info('undo', `took back the ${ran.length} stack step(s) of generation ${generation}`);
    const good = this.#current;
    if (good === undefined) return;
    try {
      const repaired = await converge(good.desired, 'all', this.#net());
      if (repaired.ran.length > 0) log.warn('repair', `${repaired.ran.length} step(s) brought the host back to generation ${good.topology.generation}`, { steps: repaired.ran.length });
    } catch (err) {
      this.#fail('repair-failed', `the host could not be brought back to generation ${good.topology.generation}`, err);
    }
  }

  async #upFromCache(entry: CacheEntry, observed?: Promise<ObservedState>): Promise<void> {
    this.#sayIpv6(entry.topology);
    const leases = leasesFor(entry.topology, this.#s.clusterId, entry.leases);
    const desired = buildDesiredState(desiredInputFor({ topology: entry.topology, clusterId: this.#s.clusterId, nics: this.#s.nics, leases }));
    const done = await converge(desired, 'all', this.#net(), observed);
    this.#current = { topology: entry.topology, source: 'cache', leases, desired };
    this.#mode = 'cache';
    this.#applied(done.ran.length, `generation ${entry.generation} from the cache`);
    await this.#status();
  }

  /** Leases changed (bound late, moved, expired): apply the addresses the clients hold now. */
  async #reconcile(): Promise<void> {
    const set = this.#leaseSet;
    const cur = this.#current;
    if (set === undefined || cur === undefined || this.#stopped) return;
    const leases = set.leases();
    try {
      const desired = buildDesiredState(desiredInputFor({ topology: cur.topology, clusterId: this.#s.clusterId, nics: this.#s.nics, leases }));
      const done = await converge(desired, 'all', this.#net());
      this.#current = { ...cur, leases, desired };
      if (done.ran.length > 0) this.#applied(done.ran.length, `lease change, generation ${cur.topology.generation}`);
      this.#tellReady();
      await this.#writeCache();
    } catch (err) {
      this.#fail('apply-failed', 'a lease change could not be applied; keeping the addresses in place', err);
      this.#reconcileTimer = this.#clock.setTimer(this.#clock.now() + this.#s.retryIntervalMs, () => this.#scheduleReconcile());
    }
    await this.#status();
  }

  /** One round of step 8's asking: a newer generation (or DHCP back after the cache) is applied. */
  async #refresh(): Promise<void> {
    const cur = this.#current;
    const interfaces = this.#askInterfaces();
    let answer: TopologyAnswer | undefined;
    try {
      answer = await this.#fetch(interfaces, cur?.topology);
    } catch (err) {
      this.#fail('topology-request', `cannot ask for the topology on ${interfaces.join(', ')}`, err);
      return this.#schedule(this.#s.retryIntervalMs);
    }
    if (this.#stopped) return;
    if (answer === undefined) {
      this.#d.log.debug('no-answer', `no topology answer on ${interfaces.join(', ')}`);
      return this.#schedule(this.#mode === 'dhcp' ? this.#s.refreshIntervalMs : 0);
    }
    const gen = answer.topology.generation;
    const take =
      cur === undefined ? 'new' : cur.source === 'cache' ? (gen >= cur.topology.generation ? 'from-cache' : 'older') : gen > cur.topology.generation ? 'newer' : gen < cur.topology.generation ? 'older' : 'same';
    if (take === 'same') return this.#schedule(this.#s.refreshIntervalMs);
    if (take === 'older') {
      this.#d.log.warn('topology-older', `DHCP server ${answer.serverId} offers generation ${gen}, older than generation ${cur!.topology.generation} in place: ignored`, { server: answer.serverId });
      return this.#schedule(this.#mode === 'dhcp' ? this.#s.refreshIntervalMs : 0);
    }
    this.#tookTopology(answer, cur);
    try {
      await this.#transition(answer, take === 'from-cache' && gen === cur!.topology.generation ? cur!.leases : {});
      this.#up('dhcp');
      this.#schedule(this.#s.refreshIntervalMs);
    } catch (err) {
      if (err instanceof AgentStoppedError) return;
      this.#fail('apply-failed', `generation ${gen} could not be applied; keeping ${cur ? `generation ${cur.topology.generation}` : 'the host as it was'}`, err);
      await this.#status();
      this.#schedule(this.#s.retryIntervalMs);
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer?.cancel();
    this.#timer = this.#clock.setTimer(this.#clock.now() + delayMs, () => {
      this.#timer = undefined;
      void this.#exclusive(() => this.#refresh()).catch((err: unknown) => this.#fail('bug', 'topology refresh failed', err));
    });
  }

  #scheduleReconcile(): void {
    if (this.#stopped) return;
    this.#reconcileTimer?.cancel();
    // A burst of lease events (every alias renumbered at once) makes one change.
    this.#reconcileTimer = this.#clock.setTimer(this.#clock.now() + 20, () => {
      this.#reconcileTimer = undefined;
      void this.#exclusive(() => this.#reconcile()).catch((err: unknown) => this.#fail('bug', 'applying a lease change failed', err));
    });
  }

  #watch(set: LeaseSet): void {
    set.on('change', () => {
      if (this.#leaseSet === set) this.#scheduleReconcile();
    });
    set.on('renewed', () => {
      if (this.#leaseSet === set) void this.#status();
    });
  }

  /** Where to ask: the built stack's mgmt# aliases; before that (or without any) every NIC. */
  #askInterfaces(): string[] {
    const t = this.#current?.topology;
    if (t !== undefined) {
      const mgmt = managementAliases(t);
      if (mgmt.length > 0) return mgmt;
      const enslaved = new Set([...Object.values(t.stack.bonds), ...Object.values(t.stack.failovers)].flatMap((b) => b.members));
      const free = Object.entries(this.#s.nics).filter(([name]) => !enslaved.has(name)).map(([, kernel]) => kernel);
      if (free.length > 0) return free;
    }
    return Object.values(this.#s.nics);
  }

  #fetch(interfaces: string[], known: Topology | undefined): Promise<TopologyAnswer | undefined> {
    // A signed topology could be replayed to another filer: with a key, hold it to the name we know.
    const expectFiler = this.#s.filer ?? (this.#s.key !== undefined ? known?.filer : undefined);
    return fetchTopology({
      interfaces,
      vendorClass: this.#s.vendorClass,
      identifier: topologyKey(this.#s.clusterId, this.#s.baseMac),
      timeoutMs: this.#s.topologyTimeoutMs,
      timing: { retransmitBaseMs: this.#s.retransmitBaseMs },
      ...(this.#s.key === undefined ? {} : { key: this.#s.key }),
      ...(expectFiler === undefined ? {} : { expectFiler }),
      // Holding the key, an answer must be bound to this filer's own request: another filer's
      // genuine topology is refused even at first boot, with no cache and no --filer.
      ...(this.#s.key === undefined ? {} : { request: { clusterId: this.#s.clusterId, baseMac: this.#s.baseMac } }),
      onRefused: (offer, code, reason) => {
        if (this.#s.key !== undefined) this.#rogue({ what: 'topology', serverId: offer.serverId, from: offer.from, interface: offer.interface, code, reason });
      },
      nics: Object.keys(this.#s.nics),
      signal: this.#abort.signal,
      log: this.#d.log,
      ...this.#dhcpDeps(),
    });
  }

  #dhcpDeps(): { pool?: TransportPool; netns?: string; clock?: Clock } {
    return {
      ...(this.#d.pool === undefined ? {} : { pool: this.#d.pool }),
      ...(this.#d.netns === undefined ? {} : { netns: this.#d.netns }),
      ...(this.#d.clock === undefined ? {} : { clock: this.#d.clock }),
    };
  }

  #net() {
    return { runner: this.#d.runner, features: this.#s.features, log: this.#d.log, reported: this.#reported };
  }

  async #readCache(): Promise<CacheEntry | undefined> {
    this.#cacheUnusable = undefined;
    try {
      const r = await this.#cache.read();
      for (const w of r.warnings) this.#d.log.warn('cache', w.message, { file: w.file });
      if (r.kind === 'empty') {
        this.#d.log.info('cache', `no cache in ${this.#s.cacheDir} yet`);
        return undefined;
      }
      this.#cacheInfo = { generation: r.entry.generation, writtenAt: r.entry.writtenAt };
      if (r.entry.keyFingerprint !== this.#s.keyFingerprint) {
        // Our own disk, so still used; but say that its topology was checked with another key (or none).
        const now = this.#s.keyId === null ? 'the filer now holds no key' : `the filer now holds key ${this.#s.keyId}`;
        this.#d.log.warn('cache', `the cache was verified ${r.entry.keyFingerprint === null ? 'without a key' : 'with another cluster key'}; ${now}`);
      }
      this.#d.log.info('cache', `cache generation ${r.entry.generation} of ${r.entry.topology.filer}, written ${r.entry.writtenAt}`, { file: r.file });
      return r.entry;
    } catch (err) {
      this.#cacheUnusable = err instanceof Error ? err.message : String(err);
      this.#fail('cache', 'the cache cannot be used', err);
      return undefined;
    }
  }

  async #writeCache(): Promise<void> {
    const c = this.#current;
    if (c === undefined || c.source !== 'dhcp') return;
    try {
      const r = await this.#cache.write({ generation: c.topology.generation, topology: c.topology, leases: c.leases, keyFingerprint: this.#s.keyFingerprint });
      for (const w of r.warnings) this.#d.log.warn('cache', w.message, { file: w.file });
      this.#cacheInfo = { generation: c.topology.generation, writtenAt: new Date().toISOString() };
      this.#d.log.debug('cache', `cache written: generation ${c.topology.generation}, ${Object.keys(c.leases).length} lease(s)`);
    } catch (err) {
      this.#fail('cache', 'the cache could not be written', err);
    }
  }

  /** The one info line saying which server's topology the agent builds (at boot and on a later generation). */
  #tookTopology(answer: Pick<TopologyAnswer, 'topology' | 'serverId'>, cur?: { topology: Topology; source: 'dhcp' | 'cache' }): void {
    const gen = answer.topology.generation;
    this.#d.log.info('topology', `generation ${gen} from ${answer.serverId}${cur ? ` replaces generation ${cur.topology.generation} from ${cur.source === 'dhcp' ? 'DHCP' : 'the cache'}` : ''}`, {
      server: answer.serverId,
      generation: gen,
    });
  }

  /**
   * An answer refused for not being signed for this filer: logged once per sender and thing, kept
   * in the status. The log's rate limit counts each sender and identifier apart (a filer has few
   * identifiers), so one identifier's refusal never hides another's from the same server.
   */
  #rogue(s: RogueSighting): void {
    if (!this.#rogues.add(s, new Date())) return;
    const what = s.what === 'topology' ? 'a topology' : `${s.address ?? 'an address'} for ${s.identifier ?? '?'}`;
    this.#d.log.warn('rogue-server', `DHCP server ${s.serverId ?? '?'} (from ${s.from} on ${s.interface}) offered ${what} that is not signed for this filer: ${s.reason}`, {
      source: `${s.serverId ?? s.from} ${s.what} ${s.identifier ?? ''}`,
      server: s.serverId,
      from: s.from,
      interface: s.interface,
      ...(s.identifier === undefined ? {} : { identifier: s.identifier }),
      ...(s.address === undefined ? {} : { address: s.address }),
      ...(s.code === undefined ? {} : { code: s.code }),
    });
    void this.#status();
  }

  #applied(steps: number, what: string): void {
    this.#lastApply = { at: new Date().toISOString(), steps, what };
  }

  #fail(event: string, what: string, err: unknown): void {
    const code = err instanceof RackstrapError ? err.code : 'RS_BUG';
    const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    this.#lastError = { at: new Date().toISOString(), code, message };
    this.#d.log.error(event, message, { code, ...(err instanceof RackstrapError || !(err instanceof Error) ? {} : { stack: err.stack }) });
  }

  /** Runs one change at a time. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Writes the status file (in order; a failed write is logged, never fatal). */
  #status(): Promise<void> {
    const status = this.snapshot();
    const write = this.#statusQueue.then(() => writeStatus(this.#s.cacheDir, status));
    this.#statusQueue = write.catch((err: unknown) => this.#d.log.warn('status', `cannot write the status file: ${(err as Error).message}`));
    return this.#statusQueue as Promise<void>;
  }

  /** What `rackstrap status` shows. */
  snapshot(): AgentStatus {
    return statusSnapshot({
      settings: this.#s,
      daemon: this.#d.daemon ?? false,
      mode: this.#mode,
      startedAt: this.#startedAt,
      current: this.#current,
      clients: this.#leaseSet?.raw(),
      cache: this.#cacheInfo,
      lastApply: this.#lastApply,
      lastError: this.#lastError,
      rogueServers: this.#rogues.list(),
      drift: this.#drift,
    });
  }
}
