// The effectful shell around respond(): one socket per served interface, the wall clock, the
// lease store, the log, and the signals (SIGHUP reloads, SIGTERM/SIGINT flush and stop). Every
// decision is respond()'s; this file only decodes, applies, waits for the disk and sends.

import { decodeMessage } from '../dhcp-packet/index.js';
import { ConfigError, DecodeError, RackstrapError, formatProblem } from '../errors.js';
import { setArpEntry, type InterfaceRemoteInfo } from '../net/interface-socket.js';
import { ipv4Text, type BatchSocket, type DatagramBatch } from '../net/udp-batch.js';
import type { KernelWatch } from '../net/kernel-watch.js';
import { LinkFollower, type ServedLink } from './links.js';
import type { ServerConfig } from './config.js';
import { describeConfig } from './describe-config.js';
import { loadServerConfig, revive, type LoadedConfig } from './load-config.js';
import { compiledPathFor, readCompiled, writeCompiled } from './compiled.js';
import { LeaseStore } from './leases.js';
import { isDurable, type LeaseOp } from './lease-table.js';
import type { PairHooks } from './pair-hooks.js';
import type { LineStyle } from '../log/line.js';
import { createLogger, LogLimiter, RateLimitedCounter, type Logger } from './logger.js';
import { Intake, PRIORITY_NAMES, type Priority } from './intake.js';
import { triage } from './triage.js';
import { warmUp, WarmUp } from './warm-up.js';
import { nextShedding } from './backlog.js';
import { DEFAULT_POLICY, priorityOf, respond, type ExchangeRecord, type Ingress, type LogLevel, type Policy, type Reply } from './respond.js';
import type { DhcpMessage } from '../dhcp-packet/index.js';

/** RFC 2131 §4.1: servers receive on UDP 67. */
export const DHCP_SERVER_PORT = 67;
/** Large, so a burst is queued rather than dropped (perf-baselines.md: loss came from the default 212 KB). */
export const RECEIVE_BUFFER_BYTES = 8 << 20;
/** How often expired leases and offers are dropped from memory. */
const SWEEP_INTERVAL_MS = 60_000;
/**
 * What one request waiting in the intake counts for against the shedding thresholds (backlog.ts):
 * about what the kernel charges a small datagram in a receive queue, so a backlog means the same
 * whether it waits in the kernel or, read already, in the intake.
 */
const QUEUED_REQUEST_BYTES = 1024;
/**
 * A stranger's request that waited longer than this is dropped unanswered when its turn comes:
 * its client has retransmitted (a new xid for perfdhcp) or given up on it, and answering it would
 * only make every later answer later too.
 */
const STRANGER_MAX_WAIT_MS = 1000;
/**
 * Longest slice of answering between two reads of the sockets (intake.ts). Each read takes what
 * the kernel has queued (up to 1,024 datagrams per socket, recvmmsg in batches), so short slices
 * keep the kernel's queue short and a cluster client's request reaches the cluster queue within a
 * turn or two, however many strangers came before it.
 */
const SLICE_MS = 1;
/**
 * Longest warm-up a start from the compiled description runs at once, ms, after its sockets are
 * open: requests that come meanwhile wait in the kernel's queue (rather than meet a closed port)
 * and are then answered by optimized code. A burst at the start (a rack powering on, a load
 * test) is served better so than by a warm-up in slices between its requests (measured: 30-100 %
 * more ACKs in the first 3 s of a 3,000/s load), and a quiet machine finishes the warm-up within
 * it (~130 ms); on a busy one the rest runs in slices.
 */
const WARM_UP_AT_START_MS = 250;
/** Longest warm-up slice after that, ms: what a request arriving meanwhile may have to wait at most for it. */
const WARM_UP_SLICE_MS = 2;
/** How often the counts of log lines left out (LogLimiter) are written, ms. */
const SUPPRESSED_SUMMARY_MS = 10_000;

export interface ServeOptions {
  /** The cluster description. */
  configFile: string;
  /** Interfaces to serve; replies leave through the one a request came in on. */
  interfaces: readonly string[];
  leaseFile: string;
  logLevel?: LogLevel;
  /** Text for the journal or JSON lines (default JSON). */
  logStyle?: LineStyle;
  policy?: Partial<Policy>;
  /** Log sink (default: stdout). */
  write?: (text: string) => void;
  /** UDP port (default 67; tests may use another). */
  port?: number;
  /** Set when this server is one of a pair (src/sync). */
  pair?: PairHooks;
  /**
   * Start from the compiled form of the description left next to the lease log by the last full
   * load, when it is still this description's, and leave one after each full load (default true).
   */
  compiled?: boolean;
  /** Longest a SIGHUP reload may take before it is given up, ms (default LOAD_TIMEOUT_MS). */
  reloadTimeoutMs?: number;
  /** The kernel watch the server follows its interfaces with (default: rtnetlink in its namespace). */
  watch?: () => KernelWatch;
}

/**
 * Log lines to stdout. If the reader goes away (EPIPE: a closed pipe, a log collector that died),
 * the server keeps serving without its log rather than crash over it.
 */
function stdoutSink(): (text: string) => void {
  let open = true;
  process.stdout.on('error', () => {
    open = false;
  });
  return (text) => {
    if (open) process.stdout.write(text);
  };
}

type Served = ServedLink;

/** A decoded request waiting for its turn. */
interface Queued {
  req: DhcpMessage;
  rinfo: InterfaceRemoteInfo;
  /** When it was read (performance.now()). */
  at: number;
}

/** Where a line about a request comes from, for the log limiter: its cluster identifier, else its interface and relay. */
function sourceOf(log: ExchangeRecord): string {
  if (log.kind !== undefined && log.identifier !== undefined) return log.identifier;
  return log.relay === undefined ? log.interface : `${log.interface} relay ${log.relay}`;
}

/**
 * The one start-up line about the description's IPv6 addresses: this is a DHCPv4 server, so it
 * hands out none of them and does not expect anyone to ask for them over DHCPv4.
 */
function ipv6Fields(v6: ReadonlyArray<{ address: string; where: string }>): Record<string, unknown> {
  const shown = v6.slice(0, 10).map((x) => `${x.address} (${x.where})`).join(', ');
  return {
    detail:
      `IPv6: not served by DHCPv4 yet: ${v6.length} IPv6 address${v6.length === 1 ? '' : 'es'} of the description (${shown}${v6.length > 10 ? `, and ${v6.length - 10} more` : ''}) ` +
      'get no lease from this server and are not asked for by the agents; give those hosts their IPv6 addresses another way (static configuration, SLAAC or a DHCPv6 server)',
    addresses: v6.length,
  };
}

export class DhcpServer {
  readonly #opts: ServeOptions;
  readonly #policy: Policy;
  readonly #log: Logger;
  readonly #malformed: RateLimitedCounter;
  readonly #store: LeaseStore;
  #config: ServerConfig;
  #links!: LinkFollower;
  #own = new Set<string>();
  /** Exchanges whose reply or lease write has not finished: stop() waits for them. */
  #inflight = 0;
  #drained: Array<() => void> = [];
  #sweep: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;
  #reloading: Promise<void> = Promise.resolve();
  #shedding = false;
  readonly #shed: RateLimitedCounter;
  readonly #intake = new Intake<Queued>();
  #draining = false;
  readonly #limiter = new LogLimiter();
  #summaryTimer: NodeJS.Timeout | undefined;
  readonly stats = { received: 0, replied: 0, ignored: 0, malformed: 0, shed: 0, logFailures: 0, sendFailures: 0, notAnswering: 0, dropped: { cluster: 0, known: 0, stranger: 0 } };

  private constructor(opts: ServeOptions, log: Logger, config: ServerConfig, store: LeaseStore) {
    this.#opts = opts;
    this.#policy = { ...DEFAULT_POLICY, ...opts.policy };
    this.#log = log;
    this.#config = config;
    this.#store = store;
    this.#malformed = new RateLimitedCounter(log, 'malformed');
    this.#shed = new RateLimitedCounter(log, 'overload-shed', 5000);
  }

  /** Loads everything, opens the sockets and starts answering. Throws what stops a start. */
  static async start(opts: ServeOptions): Promise<DhcpServer> {
    if (opts.interfaces.length === 0) throw new RackstrapError('RS_USAGE', 'serve needs at least one --interface');
    const log = createLogger({ level: opts.logLevel ?? 'info', write: opts.write ?? stdoutSink(), ...(opts.logStyle ? { style: opts.logStyle } : {}) });
    const t0 = performance.now();
    // The compiled form of the description when it is the one this description validated to;
    // else the full load in a worker. The JIT warm-up runs meanwhile in the second case; in the
    // first, right after the sockets open (see WARM_UP_AT_START_MS).
    const compiledFile = compiledPathFor(opts.leaseFile);
    const compiled = opts.compiled === false ? { ok: false as const, reason: 'not used' } : readCompiled(compiledFile, opts.configFile);
    let loaded: LoadedConfig;
    let warmUpMs: number | undefined;
    if (compiled.ok) {
      loaded = revive(compiled.loaded);
    } else {
      const loading = loadServerConfig(opts.configFile);
      loading.catch(() => undefined);
      warmUpMs = warmUp();
      loaded = await loading;
    }
    const { config, warnings, loadMs, ipv6 } = loaded;
    for (const w of warnings) log.log('warn', 'config-warning', { problem: w });
    if (ipv6) log.notice('ipv6-not-served', ipv6Fields(ipv6));
    const { store, replay } = await LeaseStore.open(opts.leaseFile);
    if (replay.skipped.length > 0) {
      log.log('warn', 'lease-log-repaired', { file: opts.leaseFile, skipped: replay.skipped.slice(0, 20), tornTail: replay.tornTail });
    }
    const server = new DhcpServer(opts, log, config, store);
    server.#links = new LinkFollower({
      interfaces: opts.interfaces,
      port: opts.port ?? DHCP_SERVER_PORT,
      recvBufferSize: RECEIVE_BUFFER_BYTES,
      subnets: () => server.#config.subnets,
      log,
      attach: (socket) => server.#attach(socket),
      changed: () => server.#refreshOwnAddresses(),
      ...(opts.watch ? { watch: opts.watch } : {}),
    });
    try {
      await server.#links.start();
    } catch (err) {
      await server.#links.close();
      await store.close();
      throw err;
    }
    server.#refreshOwnAddresses();
    let warm: WarmUp | undefined;
    if (warmUpMs === undefined) {
      warm = new WarmUp();
      warm.run(WARM_UP_AT_START_MS);
      warmUpMs = warm.ms;
    }
    server.#sweep = setInterval(() => store.table.sweep(Date.now()), SWEEP_INTERVAL_MS).unref();
    server.#summaryTimer = setInterval(() => server.#logSuppressed(), SUPPRESSED_SUMMARY_MS).unref();
    log.notice('ready', {
      ...describeConfig(config),
      interfaces: server.#interfaceSummary(),
      leaseFile: opts.leaseFile,
      leaseLogStart: store.log.startAction,
      leases: replay.live.leases,
      quarantined: replay.live.quarantined,
      startMs: Math.round(performance.now() - t0),
      loadMs: loadMs === undefined ? undefined : Math.round(loadMs),
      sinceProcessStartMs: Math.round(performance.now()),
      description: compiled.ok ? 'compiled form' : `validated (compiled form: ${compiled.reason})`,
      warmUpMs: Math.round(warmUpMs),
      warmUpDone: warm?.done ?? true,
      pid: process.pid,
    });
    log.flush();
    if (loaded.inputs !== undefined) server.#saveCompiled(loaded);
    if (warm !== undefined && !warm.done) server.#warmUpInSlices(warm);
    return server;
  }

  /**
   * The rest of the JIT warm-up (warm-up.ts) in slices of WARM_UP_SLICE_MS, each run only when
   * no request waits, until it is done or the server stops.
   */
  #warmUpInSlices(w: WarmUp): void {
    const slice = (): void => {
      if (this.#stopping || w.done) {
        if (w.done) this.#log.log('debug', 'warmed-up', { ms: Math.round(w.ms) });
        return;
      }
      if (!this.#draining) w.run(WARM_UP_SLICE_MS);
      setImmediate(slice);
    };
    setImmediate(slice);
  }

  /** Leaves the compiled form of a description that just validated, for the next start (a failure only costs that start the full load). */
  #saveCompiled(loaded: LoadedConfig): void {
    if (this.#opts.compiled === false || loaded.inputs === undefined) return;
    const inputs = loaded.inputs;
    setImmediate(() => {
      try {
        writeCompiled(compiledPathFor(this.#opts.leaseFile), this.#opts.configFile, inputs, loaded);
      } catch (err) {
        this.#log.log('warn', 'compiled-description-not-written', { file: compiledPathFor(this.#opts.leaseFile), error: (err as Error).message, detail: 'the next start validates the description in full' });
      }
    });
  }

  get config(): ServerConfig {
    return this.#config;
  }

  get leases(): LeaseStore {
    return this.#store;
  }

  get log(): Logger {
    return this.#log;
  }

  #interfaceSummary(): Array<{ name: string; addresses: string[]; mtu: number }> {
    return [...this.#links.values()].map((s) => ({ name: s.ingress.ifname, addresses: s.ingress.addresses.map((a) => `${a.text}/${a.prefixLength}`), mtu: s.ingress.mtu }));
  }

  /** A served interface as the server sees it now (undefined while it does not exist). */
  ingressOf(ifname: string): Ingress | undefined {
    return this.#links.get(ifname)?.ingress;
  }

  /**
   * Looks at the interfaces again now, without waiting for the kernel's events (say, a pair's
   * service address was just added or removed). The server follows its interfaces by itself;
   * this only makes the change seen sooner.
   */
  refreshInterfaces(): Promise<void> {
    return this.#links.refresh();
  }

  #attach(socket: BatchSocket): void {
    socket.receive(
      (batch) => this.#onBatch(socket.ifname, batch),
      (err) => this.#log.log('error', 'socket-error', { interface: socket.ifname, error: err.message }),
    );
  }

  /**
   * What waits to be answered, in bytes as the kernel counts them: the served sockets' receive
   * queues and the requests already read into the intake (what overload control watches).
   */
  #backlog(): number {
    let total = this.#intake.length * QUEUED_REQUEST_BYTES;
    for (const s of this.#links.values()) total += s.socket.backlog();
    return total;
  }

  /** Every datagram one read of a socket returned. They are views of the socket's buffer, so each is dealt with (decoded or dropped) before this returns. */
  #onBatch(ifname: string, batch: DatagramBatch): void {
    this.#shedding = nextShedding(this.#shedding, this.#backlog());
    const at = performance.now();
    for (let i = 0; i < batch.count; i++) {
      const buf = batch.data(i);
      const rinfo: InterfaceRemoteInfo = { address: ipv4Text(batch.address(i)), family: 'IPv4', port: batch.port(i), size: buf.length, ifname };
      if (batch.truncated(i)) {
        this.stats.received++;
        this.stats.malformed++;
        this.#malformed.add('too-long', { from: `${rinfo.address}:${rinfo.port}`, interface: ifname, bytes: buf.length, error: `datagram longer than ${buf.length} bytes` });
        continue;
      }
      this.#onMessage(buf, rinfo, at);
    }
  }

  #refreshOwnAddresses(): void {
    this.#own = new Set([...this.#links.values()].flatMap((s) => s.ingress.addresses.map((a) => a.text)));
  }

  #onMessage(buf: Buffer, rinfo: InterfaceRemoteInfo, at: number): void {
    if (this.#stopping) return;
    const served = this.#links.get(rinfo.ifname);
    if (!served) return;
    this.stats.received++;
    const pair = this.#opts.pair;
    if (pair !== undefined && !pair.answering()) {
      this.stats.notAnswering++;
      return;
    }
    // Decoded at once, so that every undecodable datagram is counted even when it is then dropped.
    const req = this.#decode(buf, rinfo);
    if (req === undefined) return;
    // The first look (triage) tells cluster clients and strangers' DISCOVERs apart without
    // classifying twice; the rest needs the lease table (priorityOf).
    const quick = triage(buf, this.#config);
    if (quick === 2 && this.#shedding) {
      // Too much waits: drop strangers' DISCOVERs (they retransmit) until it drains; the
      // cluster's clients and exchanges under way are still answered (backlog.ts).
      this.#shedRequest(2, rinfo.ifname, 'receive backlog high: DISCOVERs of strangers dropped until it drains');
      return;
    }
    let priority: Priority;
    try {
      priority = quick ?? priorityOf(req, this.#config, this.#store.table, Date.now());
    } catch (err) {
      this.#logLimited('error', 'internal-error', rinfo.ifname, { interface: rinfo.ifname, stage: 'priority', error: err instanceof Error ? err.stack : String(err) });
      priority = 2;
    }
    this.#enqueue(priority, { req, rinfo, at });
  }

  #decode(buf: Buffer, rinfo: InterfaceRemoteInfo): DhcpMessage | undefined {
    try {
      return decodeMessage(buf);
    } catch (err) {
      this.stats.malformed++;
      if (!(err instanceof DecodeError)) {
        // The codec promises only DecodeError; anything else is its bug. Still never a crash.
        this.#logLimited('error', 'internal-error', rinfo.ifname, { interface: rinfo.ifname, stage: 'decode', error: err instanceof Error ? err.stack : String(err) });
        return undefined;
      }
      this.#malformed.add(err.reason ?? 'decode', { from: `${rinfo.address}:${rinfo.port}`, interface: rinfo.ifname, bytes: buf.length, error: err.message });
      return undefined;
    }
  }

  #enqueue(priority: Priority, item: Queued): void {
    const pushedOut = this.#intake.push(priority, item);
    if (pushedOut !== undefined) this.#shedRequest(priority, pushedOut.rinfo.ifname, `${PRIORITY_NAMES[priority]} queue full: its oldest request dropped`);
    if (!this.#draining) {
      this.#draining = true;
      setImmediate(() => this.#drain());
    }
  }

  #shedRequest(priority: Priority, ifname: string, detail: string): void {
    this.stats.shed++;
    this.stats.dropped[PRIORITY_NAMES[priority]]++;
    this.#shed.add(PRIORITY_NAMES[priority], { interface: ifname, detail });
  }

  /** Answers queued requests, highest priority first, for at most SLICE_MS; then lets the sockets be read again. */
  #drain(): void {
    const deadline = performance.now() + SLICE_MS;
    for (;;) {
      if (this.#stopping) {
        // Stopping: what still waits is not answered, and counted as dropped.
        const n = this.#intake.clear();
        n.forEach((count, p) => {
          this.stats.shed += count;
          this.stats.dropped[PRIORITY_NAMES[p as Priority]] += count;
        });
        break;
      }
      const next = this.#intake.next();
      if (next === undefined) break;
      if (next.priority === 2 && performance.now() - next.item.at > STRANGER_MAX_WAIT_MS) {
        this.#shedRequest(2, next.item.rinfo.ifname, `waited longer than ${STRANGER_MAX_WAIT_MS} ms: dropped unanswered (its client has asked again or given up)`);
        continue;
      }
      this.#answer(next.item.req, next.item.rinfo);
      if (performance.now() >= deadline) break;
    }
    if (this.#intake.length > 0) setImmediate(() => this.#drain());
    else this.#draining = false;
  }

  #answer(req: DhcpMessage, rinfo: InterfaceRemoteInfo): void {
    const served = this.#links.get(rinfo.ifname);
    if (!served) return;
    const pair = this.#opts.pair;
    const now = Date.now();
    let decision;
    try {
      decision = respond(req, served.ingress, { config: this.#config, leases: this.#store.table, now, policy: this.#policy, ownAddresses: this.#own, mayAllocate: pair?.guard(), serviceAddress: pair?.serviceAddress(), from: rinfo.address });
    } catch (err) {
      // A bug, not a bad packet: say so loudly, keep serving everyone else.
      this.#logLimited('error', 'internal-error', rinfo.ifname, { interface: rinfo.ifname, xid: req.xid, error: err instanceof Error ? err.stack : String(err) });
      return;
    }
    this.#logExchange(decision.log);
    const reply = decision.reply;
    if (!reply) this.stats.ignored++;
    this.#inflight++;
    // fsync before the ACK: a reply that depends on a lease leaves once it is on disk.
    const durable = this.#commit(decision.ops, now, (err) => {
      if (err) {
        this.#logFailure(err, reply);
        this.#settle();
      } else if (reply) this.#send(served, reply);
      else this.#settle();
    });
    if (durable) return;
    if (reply) this.#send(served, reply);
    else this.#settle();
  }

  /** The store's commit, joined with the partner's acknowledgment when this server is one of a pair. */
  #commit(ops: readonly LeaseOp[], now: number, done: (err?: Error) => void): boolean {
    const pair = this.#opts.pair;
    if (pair === undefined) return this.#store.commit(ops, now, done);
    const durable = ops.filter(isDurable);
    if (durable.length === 0) return this.#store.commit(ops, now);
    let waiting = 2;
    let failure: Error | undefined;
    const one = (err?: Error): void => {
      failure ??= err;
      if (--waiting === 0) done(failure);
    };
    this.#store.commit(ops, now, one);
    pair.replicate(durable, now, one);
    return true;
  }

  /** The exchange's line; a warning or error caused by a client goes through the limiter. */
  #logExchange(record: ExchangeRecord): void {
    const level = record.level;
    if (!this.#log.enabled(level)) return;
    if (level !== 'warn' && level !== 'error') {
      this.#log.log(level, 'exchange', record as unknown as Record<string, unknown>);
      return;
    }
    const left = this.#limiter.admit(record.result, sourceOf(record));
    if (left === undefined) return;
    this.#log.log(level, 'exchange', (left > 0 ? { ...record, suppressed: left } : record) as unknown as Record<string, unknown>);
  }

  /** A line that a client can cause again and again: limited per kind and source. */
  #logLimited(level: LogLevel, event: string, source: string, fields: Record<string, unknown>): void {
    if (!this.#log.enabled(level)) return;
    const left = this.#limiter.admit(event, source);
    if (left === undefined) return;
    this.#log.log(level, event, left > 0 ? { ...fields, suppressed: left } : fields);
  }

  /** How many lines the limiter left out since the last summary (none: no line). */
  #logSuppressed(): void {
    const s = this.#limiter.takeSuppressed();
    if (s !== undefined) this.#log.log('warn', 'log-lines-suppressed', { total: s.total, counts: s.counts, detail: 'repeated lines about client requests, by kind and source, left out of the log' });
  }

  /** One exchange finished (sent, failed or nothing to send). */
  #settle(): void {
    if (--this.#inflight === 0) for (const f of this.#drained.splice(0)) f();
  }

  #logFailure(err: Error, reply: Reply | undefined): void {
    this.stats.logFailures++;
    const event = err instanceof RackstrapError && err.code === 'RS_SYNC' ? 'sync-failed' : 'lease-log-failed';
    this.#logLimited('error', event, event, { error: err.message, replyNotSent: reply ? { address: reply.message.yiaddr, xid: reply.message.xid } : undefined });
  }

  #send(served: Served, reply: Reply): void {
    const ifname = served.ingress.ifname;
    const failed = (err: unknown): void => {
      this.stats.sendFailures++;
      this.#logLimited('warn', 'send-failed', ifname, { interface: ifname, to: `${reply.to.address}:${reply.to.port}`, xid: reply.message.xid, error: (err as Error).message });
      this.#settle();
    };
    try {
      if (reply.to.arp) setArpEntry({ ifname, ip: reply.to.arp.ip, mac: reply.to.arp.mac });
    } catch (err) {
      failed(err);
      return;
    }
    // Queued: the replies of one commit (or one slice of answering) leave in one system call.
    served.socket.send(reply.bytes, reply.to.port, reply.to.address, (err) => {
      if (err) {
        failed(err);
        return;
      }
      this.stats.replied++;
      this.#settle();
    });
  }

  /**
   * Re-reads the description (and key) and the interfaces' addresses. A description that does not
   * load is refused with its problems logged; the old one keeps serving. Leases are untouched.
   */
  reload(): Promise<boolean> {
    // One at a time, in order: a second SIGHUP during a long load runs after it, so the file as
    // it was last written is the one that ends up served.
    const next = this.#reloading.then(() => this.#reload());
    this.#reloading = next.then(() => undefined, () => undefined);
    return next;
  }

  async #reload(): Promise<boolean> {
    if (this.#stopping) return false;
    await this.#links.refresh();
    try {
      const loaded = await loadServerConfig(this.#opts.configFile, this.#opts.reloadTimeoutMs === undefined ? {} : { timeoutMs: this.#opts.reloadTimeoutMs });
      const { config, warnings, ipv6 } = loaded;
      for (const w of warnings) this.#log.log('warn', 'config-warning', { problem: w });
      if (ipv6) this.#log.notice('ipv6-not-served', ipv6Fields(ipv6));
      this.#config = config;
      this.#links.recheck();
      this.#saveCompiled(loaded);
      this.#log.notice('reloaded', { ...describeConfig(config), interfaces: this.#interfaceSummary() });
      return true;
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems.map(formatProblem) : undefined;
      this.#log.log('error', 'reload-refused', {
        file: this.#opts.configFile,
        error: err instanceof RackstrapError ? (problems ? `${problems.length} problem(s)` : err.message) : String(err),
        problems,
        detail: `still serving ${this.#config.file} generation ${this.#config.generation}`,
      });
      return false;
    } finally {
      this.#log.flush();
    }
  }

  /** Stops taking requests, sends the replies whose leases are being written, flushes the log, closes. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#sweep) clearInterval(this.#sweep);
      if (this.#summaryTimer) clearInterval(this.#summaryTimer);
      await this.#reloading;
      if (this.#inflight > 0) await new Promise<void>((resolve) => this.#drained.push(resolve));
      await this.#store.close();
      await this.#links.close();
      this.#malformed.emit();
      this.#shed.emit();
      this.#logSuppressed();
      const mem = process.memoryUsage();
      this.#log.notice('stopped', { ...this.stats, leases: this.#store.table.size.leases, leaseLog: this.#store.log.stats, rssMb: Math.round(mem.rss / 2 ** 20), heapMb: Math.round(mem.heapUsed / 2 ** 20) });
      this.#log.flush();
    })();
    return this.#stopping;
  }
}

/** Runs a started server until SIGTERM or SIGINT (then stops it cleanly); SIGHUP reloads. */
export async function runUntilSignalled(server: DhcpServer, beforeStop?: () => Promise<void>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onHup = (): void => {
      void server.reload();
    };
    const onStop = (): void => {
      process.off('SIGHUP', onHup);
      process.off('SIGTERM', onStop);
      process.off('SIGINT', onStop);
      (beforeStop ? beforeStop().catch(() => undefined) : Promise.resolve()).then(() => server.stop()).then(resolve, reject);
    };
    process.on('SIGHUP', onHup);
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
  });
}
