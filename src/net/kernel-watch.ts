// A watch of the kernel's links, addresses, routes and rules over rtnetlink, for any long-running
// part of rackstrap (the agent's reconcile loop, the DHCP server following its interfaces).
//
//   const watch = watchKernel({ netns: 'filer1' });
//   watch.on('resync', (reason) => { /* read the whole state again (ip -j …) */ });
//   watch.on('change', (events) => { /* a burst of changes, in kernel order */ });
//   …; watch.close();
//
// The socket is the project's addon (NETLINK_ROUTE, joined to the groups asked for), polled on
// Node's event loop, so events need neither `ip monitor` (which prints no JSON) nor a thread.
// Bursts are coalesced: events are held until `settleMs` pass without a new one (at most
// `maxDelayMs`), then handed over as one batch. A 'resync' tells the consumer to re-read
// everything instead of trusting events: once at start (after the subscription is live, so
// nothing falls between the dump and the first event), whenever the kernel dropped messages
// (ENOBUFS: the receive buffer overflowed), every `resyncIntervalMs`, and on request. A pending
// resync swallows the events held with it: the re-read sees their result anyway.

import { EventEmitter } from 'node:events';
import { RackstrapError } from '../errors.js';
import { netnsPath } from './interface-socket.js';
import { loadNative, type NativeNetlinkCallback, type NativeNetlinkOptions, type NativeNetlinkWatch } from './native.js';
import { decodeDatagram, RTNLGRP, type IpFamily, type KernelEvent } from './rtnetlink.js';

export type { AddressEvent, IpFamily, KernelAction, KernelEvent, LinkEvent, RouteEvent, RuleEvent } from './rtnetlink.js';

export type KernelEventKind = KernelEvent['kind'];

/** Why the consumer should read the whole state again. */
export type ResyncReason = 'start' | 'overflow' | 'periodic' | 'requested';

export interface KernelWatchOptions {
  /** Network namespace to watch: a name under /run/netns or a path. Default: the process's own. */
  netns?: string;
  /** What to watch; default all four. */
  kinds?: readonly KernelEventKind[];
  /** Address families for addresses, routes and rules; default both. */
  families?: readonly IpFamily[];
  /** A burst ends after this many ms without an event (default 50). */
  settleMs?: number;
  /** A burst is handed over after at most this many ms even if events keep coming (default 500). */
  maxDelayMs?: number;
  /** Asks for a full re-read this often even when nothing was lost (default 300000; 0: never). */
  resyncIntervalMs?: number;
  /** Socket receive buffer in bytes (default 4 MiB). Smaller loses events sooner in a storm. */
  recvBufferSize?: number;
}

export interface KernelWatchStats {
  /** Datagrams read from the socket. */
  datagrams: number;
  /** Events decoded and delivered or superseded by a resync. */
  events: number;
  /** 'change' batches emitted. */
  batches: number;
  /** Times the kernel reported lost messages (ENOBUFS or NLMSG_OVERRUN). */
  overflows: number;
  /** 'resync' signals emitted, all reasons. */
  resyncs: number;
  /** Messages not understood (unwatched types, malformed). */
  skipped: number;
}

interface KernelWatchEvents {
  change: [events: KernelEvent[]];
  resync: [reason: ResyncReason];
  error: [err: Error];
}

/** The native subscription, replaceable for tests of the batching logic. */
export type NetlinkSource = (groups: readonly number[], opts: NativeNetlinkOptions, onData: NativeNetlinkCallback) => NativeNetlinkWatch;

const DEFAULT_RECV_BUFFER = 4 * 1024 * 1024;

/** RTNLGRP_* numbers for the kinds and families asked for. */
export function groupsFor(kinds: readonly KernelEventKind[], families: readonly IpFamily[]): number[] {
  const groups = new Set<number>();
  const v4 = families.includes(4);
  const v6 = families.includes(6);
  for (const kind of kinds) {
    if (kind === 'link') groups.add(RTNLGRP.LINK);
    if (kind === 'address') {
      if (v4) groups.add(RTNLGRP.IPV4_IFADDR);
      if (v6) groups.add(RTNLGRP.IPV6_IFADDR);
    }
    if (kind === 'route') {
      if (v4) groups.add(RTNLGRP.IPV4_ROUTE);
      if (v6) groups.add(RTNLGRP.IPV6_ROUTE);
    }
    if (kind === 'rule') {
      if (v4) groups.add(RTNLGRP.IPV4_RULE);
      if (v6) groups.add(RTNLGRP.IPV6_RULE);
    }
  }
  return [...groups].sort((a, b) => a - b);
}

export class KernelWatch extends EventEmitter<KernelWatchEvents> {
  readonly netns: string | undefined;
  readonly #stats: KernelWatchStats = { datagrams: 0, events: 0, batches: 0, overflows: 0, resyncs: 0, skipped: 0 };
  readonly #settleMs: number;
  readonly #maxDelayMs: number;
  readonly #kinds: ReadonlySet<KernelEventKind>;
  readonly #families: ReadonlySet<IpFamily>;
  #handle: NativeNetlinkWatch | undefined;
  #pending: KernelEvent[] = [];
  #pendingResync: ResyncReason | undefined;
  #settleTimer: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #periodic: NodeJS.Timeout | undefined;
  #closed = false;

  /** @internal use watchKernel() */
  constructor(opts: KernelWatchOptions, source: NetlinkSource) {
    super();
    const kinds = opts.kinds ?? ['link', 'address', 'route', 'rule'];
    const families = opts.families ?? [4, 6];
    this.#kinds = new Set(kinds);
    this.#families = new Set(families);
    this.#settleMs = opts.settleMs ?? 50;
    this.#maxDelayMs = Math.max(opts.maxDelayMs ?? 500, this.#settleMs);
    this.netns = opts.netns === undefined ? undefined : netnsPath(opts.netns);
    const nativeOpts: NativeNetlinkOptions = { recvBufferSize: opts.recvBufferSize ?? DEFAULT_RECV_BUFFER };
    if (this.netns !== undefined) nativeOpts.netns = this.netns;
    try {
      this.#handle = source(groupsFor(kinds, families), nativeOpts, (error, datagrams) => this.#onData(error, datagrams));
    } catch (cause) {
      const where = this.netns === undefined ? '' : ` in network namespace ${this.netns}`;
      const code = (cause as NodeJS.ErrnoException).code;
      const advice = code === 'EPERM' || code === 'EACCES' ? ': permission denied (needs root)' : code === 'ENOENT' ? ': the namespace does not exist' : '';
      throw new RackstrapError('RS_WATCH', `cannot watch the kernel's network state${where}${advice} (${(cause as Error).message})`, { cause });
    }
    const interval = opts.resyncIntervalMs ?? 300_000;
    if (interval > 0) {
      this.#periodic = setInterval(() => this.#requestResync('periodic'), interval);
      this.#periodic.unref();
    }
    // After the subscription is live: a dump taken now misses nothing that follows.
    this.#requestResync('start', true);
  }

  /** Counters since the watch started (the 6WIND console's "show netlink"). */
  get stats(): Readonly<KernelWatchStats> {
    return { ...this.#stats };
  }

  /** Asks for a 'resync' (coalesced with anything pending). */
  resync(): void {
    this.#requestResync('requested');
  }

  /** Stops watching; pending events are dropped. Safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#settleTimer);
    clearTimeout(this.#deadline);
    clearInterval(this.#periodic);
    this.#pending = [];
    this.#pendingResync = undefined;
    this.#handle?.close();
    this.#handle = undefined;
  }

  #onData(error: string | null, datagrams: Buffer[]): void {
    if (this.#closed) return;
    for (const d of datagrams) {
      this.#stats.datagrams++;
      const decoded = decodeDatagram(d);
      this.#stats.skipped += decoded.skipped;
      if (decoded.overrun) this.#overflow();
      for (const ev of decoded.events) {
        if (!this.#wanted(ev)) continue;
        this.#stats.events++;
        if (this.#pendingResync === undefined) this.#pending.push(ev);
      }
    }
    if (error === 'ENOBUFS') this.#overflow();
    else if (error !== null) this.emit('error', new RackstrapError('RS_WATCH', `reading kernel network events failed: ${error}`));
    this.#schedule(false);
  }

  #wanted(ev: KernelEvent): boolean {
    if (!this.#kinds.has(ev.kind)) return false;
    return ev.kind === 'link' || this.#families.has(ev.family);
  }

  #overflow(): void {
    this.#stats.overflows++;
    this.#requestResync('overflow');
  }

  #requestResync(reason: ResyncReason, immediate = false): void {
    if (this.#closed) return;
    // The strongest reason wins for the report; all of them mean the same to the consumer.
    if (this.#pendingResync === undefined || this.#pendingResync === 'periodic' || this.#pendingResync === 'requested') this.#pendingResync = reason;
    this.#pending = [];
    this.#schedule(immediate);
  }

  #schedule(immediate: boolean): void {
    if (this.#pending.length === 0 && this.#pendingResync === undefined) return;
    clearTimeout(this.#settleTimer);
    if (immediate) {
      this.#settleTimer = setTimeout(() => this.#flush(), 0);
      return;
    }
    this.#settleTimer = setTimeout(() => this.#flush(), this.#settleMs);
    this.#deadline ??= setTimeout(() => this.#flush(), this.#maxDelayMs);
  }

  #flush(): void {
    clearTimeout(this.#settleTimer);
    clearTimeout(this.#deadline);
    this.#settleTimer = undefined;
    this.#deadline = undefined;
    if (this.#closed) return;
    const resync = this.#pendingResync;
    const events = this.#pending;
    this.#pendingResync = undefined;
    this.#pending = [];
    if (resync !== undefined) {
      this.#stats.resyncs++;
      this.emit('resync', resync);
    } else if (events.length > 0) {
      this.#stats.batches++;
      this.emit('change', events);
    }
  }
}

/** Starts watching the kernel (in `opts.netns` when given). Throws RackstrapError RS_WATCH when
 *  the socket cannot be opened (not root, no such namespace). */
export function watchKernel(opts: KernelWatchOptions = {}, source?: NetlinkSource): KernelWatch {
  return new KernelWatch(opts, source ?? ((groups, o, cb) => loadNative().watchNetlink(groups, o, cb)));
}
