// The long-running agent's operator side: it watches the kernel (net/kernel-watch.ts) and has the
// agent compare and repair by its policy after every burst of changes and on every full re-read
// signal (start, lost events, every `resyncIntervalMs`); it logs switch mistakes when they
// appear (after each comparison, and again once LACP has settled after link changes); and it
// answers the control socket's commands (protocol.ts).
import type { Agent } from '../bootstrap/bootstrap.js';
import type { AgentLog } from '../bootstrap/agent-log.js';
import { FEATURE_FLAG, FEATURE_NAMES } from '../net/features.js';
import { watchKernel, type KernelEvent, type KernelWatch } from '../net/kernel-watch.js';
import { OBSERVE_COMMANDS, ObserveError, parseObservation, type ObservedState } from '../net/observe.js';
import type { Runner } from '../net/runner.js';
import { checkSwitch, parseProcBonding, type BondInfo, type SwitchProblem } from '../net/switch-check.js';
import { parseDeviceStats, readKernelCounters, type DeviceCounter } from '../stats/counters.js';
import { CounterStore } from '../stats/store.js';
import type { CommandName, Counter, LinkRow, ProtocolStats, ReplyOf, ServerStats } from './protocol.js';
import { startControlServer, type ControlServer } from './server.js';

export interface AgentServiceOptions {
  agent: Agent;
  runner: Runner;
  log: AgentLog;
  netns?: string;
  socketPath: string;
  /** Where the counter store lives (the cache folder). */
  stateDir: string;
  agentVersion: string;
  /** `release`: give the leases back and stop the daemon. */
  onRelease: () => void;
  /** Full comparison at least this often (default 60 s). */
  resyncIntervalMs?: number;
  /** Kernel watch receive buffer (tests provoke overflows with a tiny one). */
  recvBufferSize?: number;
  /** Peers allowed on the control socket (default root only). */
  allowUids?: readonly number[];
}

export interface AgentService {
  readonly watch: KernelWatch | undefined;
  close(): Promise<void>;
}

/** A short, log-friendly summary of a burst of kernel events. */
function summarize(events: readonly KernelEvent[]): string {
  const counts = new Map<string, number>();
  for (const e of events) counts.set(`${e.kind} ${e.action}`, (counts.get(`${e.kind} ${e.action}`) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
}

export async function startAgentService(o: AgentServiceOptions): Promise<AgentService> {
  const { agent, runner, log } = o;
  const store = await CounterStore.open(o.stateDir);
  let reported = new Set<string>();
  let closed = false;

  // One check at a time; triggers that arrive meanwhile fold into one more check (a full one if
  // any of them asked for it). `full: false` is the switch checks alone.
  let running: Promise<void> | undefined;
  let again: { trigger: string; full: boolean } | undefined;
  const check = (trigger: string, full = true): void => {
    if (closed) return;
    if (running !== undefined) {
      again = { trigger, full: full || again?.full === true };
      return;
    }
    running = (async () => {
      try {
        if (full) await agent.checkDrift(trigger);
        await logSwitchProblems();
      } catch (err) {
        log.error('drift', `drift check failed: ${(err as Error).message}`);
      }
    })().finally(() => {
      running = undefined;
      if (again !== undefined) {
        const a = again;
        again = undefined;
        check(a.trigger, a.full);
      }
    });
  };

  // LACP moves on without a word to rtnetlink: after a member's link changes, its partner expires
  // 3 s (fast rate) after the last LACPDU, falls back to the all-zeros default 3 s later, and the
  // aggregator is chosen again, all without a kernel event. So after a burst with link changes the
  // switch checks run again once LACP has settled (the periodic full re-read covers slow-rate
  // bonds and switch changes the filer's links never feel).
  const LACP_SETTLE_MS = [4000, 10_000] as const;
  let rechecks: NodeJS.Timeout[] = [];
  const recheckSwitch = (): void => {
    for (const r of rechecks) clearTimeout(r);
    rechecks = LACP_SETTLE_MS.map((ms) => {
      const r = setTimeout(() => check('switch re-check after link changes', false), ms);
      r.unref();
      return r;
    });
  };

  async function bondViews(observed: ObservedState): Promise<Map<string, BondInfo>> {
    const views = new Map<string, BondInfo>();
    await Promise.all(
      observed.links
        .filter((l) => l.kind === 'bond')
        .map(async (l) => {
          const r = await runner.run(['cat', `/proc/net/bonding/${l.ifname}`]);
          if (r.exitCode === 0) views.set(l.ifname, parseProcBonding(r.stdout));
        }),
    );
    return views;
  }

  async function switchProblems(observed: ObservedState, devices: readonly DeviceCounter[]): Promise<SwitchProblem[]> {
    return checkSwitch({ observed, bonds: await bondViews(observed), devices });
  }

  /** Links with their details and counters from one `ip -s -d link` (what `links` and the switch checks need, nothing more). */
  async function readLinks(): Promise<{ observed: ObservedState; devices: DeviceCounter[] }> {
    const r = await runner.run([...OBSERVE_COMMANDS.link.slice(0, 1), '-s', ...OBSERVE_COMMANDS.link.slice(1)]);
    if (r.exitCode !== 0) throw new ObserveError(`ip -s -d link failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
    const json = JSON.parse(r.stdout) as unknown;
    const observed = parseObservation({ link: json, addr: [], route: [], rule: [], iptables: { ok: false, reason: 'not read for links' } });
    return { observed, devices: parseDeviceStats(json) };
  }

  async function logSwitchProblems(): Promise<void> {
    if (agent.current === undefined) return;
    const { observed, devices } = await readLinks();
    if (!observed.links.some((l) => l.kind === 'bond' || l.kind === 'vlan')) return;
    const problems = await switchProblems(observed, devices);
    const now = new Set(problems.map((p) => p.message));
    for (const p of problems) if (!reported.has(p.message)) log.warn('switch', `${p.message}; likely fix: ${p.fix}`, { kind: p.kind, ifname: p.ifname });
    reported = now;
  }

  let watch: KernelWatch | undefined;
  if ((agent.settings.reconcile ?? 'repair') !== 'off') {
    watch = watchKernel({
      ...(o.netns === undefined ? {} : { netns: o.netns }),
      resyncIntervalMs: o.resyncIntervalMs ?? 60_000,
      ...(o.recvBufferSize === undefined ? {} : { recvBufferSize: o.recvBufferSize }),
    });
    watch.on('change', (events) => {
      check(`kernel: ${summarize(events)}`);
      if (events.some((e) => e.kind === 'link')) recheckSwitch();
    });
    watch.on('resync', (reason) => {
      if (reason === 'overflow') log.warn('watch', 'kernel events were lost (receive buffer full): reading the whole state again');
      check(`full re-read (${reason})`);
    });
    watch.on('error', (err) => log.error('watch', err.message));
  }

  async function stats(): Promise<ReplyOf<'stats'>> {
    const k = await readKernelCounters(runner);
    const servers = new Map<string, ServerStats>();
    const zero = () => ({ packets: 0, bytes: 0 });
    const noProtocols = (): ProtocolStats => ({ tcp: { in: zero(), out: zero() }, udp: { in: zero(), out: zero() }, icmp: { in: zero(), out: zero() } });
    const plus = (x: Counter, y: Counter) => ({ packets: x.packets + y.packets, bytes: x.bytes + y.bytes });
    for (const a of k.addresses) {
      const v = store.observe(`${a.dir} ${a.server} ${a.address}${a.proto === undefined ? '' : ` ${a.proto}`}`, a);
      const s = servers.get(a.server) ?? { server: a.server, in: zero(), out: zero(), protocols: noProtocols(), addresses: [] };
      let row = s.addresses.find((x) => x.address === a.address);
      if (row === undefined) {
        row = { address: a.address, in: zero(), out: zero(), protocols: noProtocols() };
        s.addresses.push(row);
      }
      if (a.proto === undefined) {
        row[a.dir] = v;
        s[a.dir] = plus(s[a.dir], v);
      } else {
        row.protocols![a.proto][a.dir] = v;
        s.protocols![a.proto][a.dir] = plus(s.protocols![a.proto][a.dir], v);
      }
      servers.set(a.server, s);
    }
    const devices = k.devices.map((d) => ({
      ...d,
      rx: store.observe(`rx dev ${d.ifname}`, d.rx),
      tx: store.observe(`tx dev ${d.ifname}`, d.tx),
    }));
    // The reply does not wait for the disk (two fsyncs): the figures are written right after it.
    store.save().catch((err: unknown) => log.error('stats', `the counters could not be saved: ${(err as Error).message}`));
    return {
      epoch: store.epoch,
      since: store.since,
      source: 'iptables counting rules (RACKSTRAP-IN by destination, RACKSTRAP-OUT by source; a total and TCP, UDP, ICMP per address)',
      servers: [...servers.values()].sort((a, b) => a.server.localeCompare(b.server)),
      devices,
      note: k.note,
    };
  }

  async function links(): Promise<ReplyOf<'links'>> {
    const { observed, devices } = await readLinks();
    const dev = new Map(devices.map((d) => [d.ifname, d]));
    const rows: LinkRow[] = observed.links
      .filter((l) => l.ifname !== 'lo')
      .map((l) => ({
        ifname: l.ifname,
        kind: l.kind ?? 'nic',
        role: l.owned && l.ifalias !== undefined ? l.ifalias.replace(/^rackstrap:/, '') : l.kind === undefined ? 'nic' : 'foreign',
        owned: l.owned,
        up: l.up,
        carrier: l.carrier ?? null,
        master: l.master ?? null,
        mtu: l.mtu,
        rx: dev.get(l.ifname)?.rx ?? null,
        tx: dev.get(l.ifname)?.tx ?? null,
        lacp: l.slave?.adPortState ?? null,
      }));
    return { links: rows, health: agent.drift.health, switchProblems: await switchProblems(observed, devices) };
  }

  const handle = async (command: CommandName): Promise<unknown> => {
    const snap = agent.snapshot();
    switch (command) {
      case 'info': {
        const d = agent.drift;
        return {
          protocol: 1,
          agentVersion: o.agentVersion,
          pid: process.pid,
          startedAt: snap.startedAt,
          mode: snap.mode,
          filer: snap.topology?.filer ?? null,
          generation: snap.topology?.generation ?? null,
          source: snap.source,
          clusterId: snap.clusterId,
          reconcile: d.policy,
          lastApply: snap.lastApply,
          lastError: snap.lastError,
          watch: watch === undefined ? null : { ...watch.stats },
          drift: { checks: d.checks, repairs: d.repairs, differences: d.items.length, conflicts: d.conflicts.length, health: d.health.length },
        } satisfies ReplyOf<'info'>;
      }
      case 'links':
        return links();
      case 'leases':
        return { leases: snap.leases };
      case 'cache':
        return snap.cache;
      case 'features':
        return { features: FEATURE_NAMES.map((f) => ({ name: f, on: agent.settings.features[f], flag: FEATURE_FLAG[f] })) };
      case 'stats':
        return stats();
      case 'drift':
        return agent.drift;
      case 'renew':
        return { renewing: agent.renewNow() };
      case 'release':
        setImmediate(o.onRelease);
        return { released: true };
      case 'reapply':
        return { steps: await agent.reapply() };
      case 'zero-stats': {
        await stats();
        store.zero();
        await store.save();
        log.info('stats', `counters zeroed: epoch ${store.epoch}`);
        return { epoch: store.epoch, since: store.since };
      }
    }
  };

  let server: ControlServer;
  try {
    server = await startControlServer({ path: o.socketPath, handle, onError: (m) => log.error('control', m), ...(o.allowUids === undefined ? {} : { allowUids: o.allowUids }) });
  } catch (err) {
    watch?.close();
    throw err;
  }
  log.info('control', `control socket ${o.socketPath}; reconcile policy ${agent.drift.policy}`);
  return {
    watch,
    async close() {
      closed = true;
      for (const r of rechecks) clearTimeout(r);
      watch?.close();
      await server.close();
      await running;
      await store.settled();
    },
  };
}
