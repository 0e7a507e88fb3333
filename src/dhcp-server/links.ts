// The server follows its interfaces while it runs: an interface named with --interface may appear
// after the start (a switch port, a VLAN or bond made later), go away, come back as a new link,
// gain or lose addresses and carrier. The kernel's rtnetlink events (src/net/kernel-watch.ts) say
// when to look; each look reads every link once (`ip -j address show`, which, unlike
// os.networkInterfaces(), includes links without carrier), opens a socket bound to each served
// interface that has appeared (SO_BINDTODEVICE, read and written in batches through the project's addon), closes the socket of
// one that went, and hands the server each interface's addresses and MTU. Nothing is polled.
//
// Warnings, each logged once when the condition starts (again only after it ended), at most one
// line per interface and kind a second however fast a link flaps: an interface that does not
// exist, one without carrier, one without an IPv4 address, one whose addresses are in none of the
// description's subnets.
//
// The pure part (parseLinks, linkConditions) decides; the class does the effects.

import { execFile } from 'node:child_process';
import { RackstrapError } from '../errors.js';
import { openBatchSocket, type BatchSocket } from '../net/udp-batch.js';
import { watchKernel, type KernelWatch } from '../net/kernel-watch.js';
import { toNumber } from './address.js';
import type { SubnetConfig } from './config.js';
import { LogLimiter, type Logger } from './logger.js';
import type { Ingress, InterfaceAddress, LogLevel } from './respond.js';

/** At most one warning of a kind per interface this often, ms. */
const WARN_INTERVAL_MS = 1000;

/** One link as the kernel shows it. */
export interface LinkRead {
  index: number;
  name: string;
  /** Administratively up. */
  up: boolean;
  /** Carrier (LOWER_UP). */
  carrier: boolean;
  mtu: number;
  addresses: InterfaceAddress[];
}

/** `ip -j address show` → the links by name. Throws on output that is not that. */
export function parseLinks(json: string): Map<string, LinkRead> {
  const out = new Map<string, LinkRead>();
  const list = JSON.parse(json) as unknown;
  if (!Array.isArray(list)) throw new Error('ip -j address show: not a list');
  for (const raw of list as Array<Record<string, unknown>>) {
    if (typeof raw.ifname !== 'string' || typeof raw.ifindex !== 'number') continue;
    const flags = Array.isArray(raw.flags) ? (raw.flags as unknown[]) : [];
    const addresses: InterfaceAddress[] = [];
    for (const a of Array.isArray(raw.addr_info) ? (raw.addr_info as Array<Record<string, unknown>>) : []) {
      if (a.family !== 'inet' || typeof a.local !== 'string' || typeof a.prefixlen !== 'number') continue;
      addresses.push({ address: toNumber(a.local), text: a.local, prefixLength: a.prefixlen });
    }
    out.set(raw.ifname, {
      index: raw.ifindex,
      name: raw.ifname,
      up: flags.includes('UP'),
      carrier: flags.includes('LOWER_UP'),
      mtu: typeof raw.mtu === 'number' && raw.mtu > 0 ? raw.mtu : 1500,
      addresses,
    });
  }
  return out;
}

/** A condition worth a warning, by kind. */
export type LinkCondition = 'missing' | 'no-carrier' | 'no-address' | 'no-subnet';

/** The warnings an interface deserves now (pure): what the log says once per change. */
export function linkConditions(link: LinkRead | undefined, subnets: readonly SubnetConfig[]): Map<LinkCondition, string> {
  const out = new Map<LinkCondition, string>();
  if (link === undefined) {
    out.set('missing', 'the interface does not exist (yet): it is served as soon as it appears');
    return out;
  }
  if (!link.up || !link.carrier) out.set('no-carrier', link.up ? 'no carrier (cable, switch port or peer down): nothing is heard there until it comes up' : 'the interface is down (ip link set … up): nothing is heard there');
  if (link.addresses.length === 0) {
    out.set('no-address', 'no IPv4 address: nothing can be answered there (option 54 needs one); served as soon as one is added');
    return out;
  }
  const inSome = link.addresses.some((a) => subnets.some((s) => ((a.address & s.mask) >>> 0) === s.network));
  if (!inSome) {
    const addrs = link.addresses.map((a) => `${a.text}/${a.prefixLength}`).join(', ');
    out.set('no-subnet', `its addresses (${addrs}) are in none of the description's subnets: only relayed requests can be answered there`);
  }
  return out;
}

/** A served interface: its socket while the link exists, and what respond() needs of it. */
export interface ServedLink {
  ingress: Ingress;
  socket: BatchSocket;
}

export interface LinkFollowerOptions {
  interfaces: readonly string[];
  port: number;
  recvBufferSize: number;
  /** Prints every link with its addresses as `ip -j address show` does (default: runs it). */
  readLinks?: () => Promise<string>;
  /** The description's subnets now (they change on reload). */
  subnets: () => readonly SubnetConfig[];
  log: Logger;
  /** A socket was opened for an interface: the server listens on it. */
  attach: (socket: BatchSocket) => void;
  /** After each look that changed anything the server sees (sockets, addresses, MTU). */
  changed: () => void;
  /** Builds the kernel watch (default: rtnetlink, links and IPv4 addresses). */
  watch?: () => KernelWatch;
}

export class LinkFollower {
  readonly #o: LinkFollowerOptions;
  readonly #served = new Map<string, ServedLink & { index: number }>();
  /** The warnings in force per interface (the link's conditions, and a socket that failed to open). */
  readonly #conditions = new Map<string, Map<string, string>>();
  /** The last look at each served interface (undefined: it did not exist). */
  readonly #last = new Map<string, LinkRead | undefined>();
  readonly #limiter = new LogLimiter({ intervalMs: WARN_INTERVAL_MS });
  #recheckTimer: NodeJS.Timeout | undefined;
  #watch: KernelWatch | undefined;
  #looking: Promise<void> = Promise.resolve();
  #again = false;
  #pending = false;
  #closed = false;
  /** Counters for the stopped line and tests. */
  readonly stats = { looks: 0, opened: 0, closed: 0 };

  constructor(opts: LinkFollowerOptions) {
    this.#o = opts;
  }

  /** The interface's socket and ingress while it exists. */
  get(ifname: string): ServedLink | undefined {
    return this.#served.get(ifname);
  }

  values(): IterableIterator<ServedLink> {
    return this.#served.values();
  }

  /**
   * Looks once and opens the sockets of the interfaces that exist (a socket that cannot be opened
   * then, e.g. the port already in use, stops the start), then follows the kernel's events.
   */
  async start(): Promise<void> {
    const links = await this.#read();
    for (const ifname of new Set(this.#o.interfaces)) {
      const link = links.get(ifname);
      if (link !== undefined) await this.#open(link, true);
    }
    this.#apply(links, false);
    this.#watch = (this.#o.watch ?? (() => watchKernel({ kinds: ['link', 'address'], families: [4] })))();
    // The watch's first 'resync' comes once its subscription is live: a look then misses nothing.
    this.#watch.on('resync', () => void this.refresh());
    this.#watch.on('change', () => void this.refresh());
    this.#watch.on('error', (err) => this.#o.log.log('error', 'interface-watch-failed', { error: err.message }));
  }

  /** Looks again (after the kernel's events, or when a caller changed an address itself). One look at a time; calls during a look make one more. */
  refresh(): Promise<void> {
    if (this.#closed) return this.#looking;
    if (this.#pending) {
      this.#again = true;
      return this.#looking;
    }
    this.#pending = true;
    this.#looking = this.#looking.then(async () => {
      do {
        this.#again = false;
        if (this.#closed) break;
        try {
          const links = await this.#read();
          if (this.#closed) break;
          await this.#follow(links);
        } catch (err) {
          this.#o.log.log('error', 'interface-read-failed', { error: (err as Error).message });
        }
      } while (this.#again);
      this.#pending = false;
    });
    return this.#looking;
  }

  async #read(): Promise<Map<string, LinkRead>> {
    this.stats.looks++;
    return parseLinks(await (this.#o.readLinks ?? ipAddressShow)());
  }

  async #follow(links: Map<string, LinkRead>): Promise<void> {
    let changed = false;
    for (const ifname of new Set(this.#o.interfaces)) {
      const link = links.get(ifname);
      const served = this.#served.get(ifname);
      if (served !== undefined && (link === undefined || link.index !== served.index)) {
        await this.#close(ifname, link === undefined ? 'the interface went away' : 'the interface was replaced by a new one of the same name');
        changed = true;
      }
      if (link !== undefined && !this.#served.has(ifname)) changed = (await this.#open(link, false)) || changed;
    }
    if (this.#apply(links, true) || changed) this.#o.changed();
  }

  /** Opens the socket of a link that exists. At start a failure throws; later it is logged (once per condition) and retried at the next look. */
  async #open(link: LinkRead, atStart: boolean): Promise<boolean> {
    let socket: BatchSocket;
    try {
      socket = openBatchSocket({
        ifname: link.name,
        port: this.#o.port,
        recvBufferSize: this.#o.recvBufferSize,
        // A second server on the same interface must fail (EADDRINUSE), not share the port.
        reuseAddress: false,
      });
    } catch (err) {
      if (atStart) throw err;
      this.#warnOnce(link.name, 'socket-failed', `cannot listen there: ${(err as Error).message}; tried again at the next change`, 'error');
      return false;
    }
    this.#clearCondition(link.name, 'socket-failed');
    this.#served.set(link.name, { index: link.index, socket, ingress: ingressOf(link) });
    this.#o.attach(socket);
    this.stats.opened++;
    if (!atStart) this.#o.log.notice('interface-appeared', { interface: link.name, index: link.index, addresses: describe(link), carrier: link.carrier });
    return true;
  }

  async #close(ifname: string, why: string): Promise<void> {
    const served = this.#served.get(ifname);
    if (served === undefined) return;
    this.#served.delete(ifname);
    this.stats.closed++;
    this.#o.log.notice('interface-gone', { interface: ifname, index: served.index, detail: `${why}: its socket is closed; it is served again when it comes back` });
    await served.socket.close();
  }

  /** New addresses and MTU to the served interfaces; warnings for what changed. True when an ingress changed. */
  #apply(links: Map<string, LinkRead>, log: boolean): boolean {
    let changed = false;
    for (const ifname of new Set(this.#o.interfaces)) {
      const link = links.get(ifname);
      const served = this.#served.get(ifname);
      if (served !== undefined && link !== undefined) {
        const next = ingressOf(link);
        if (!sameIngress(served.ingress, next)) {
          if (log) this.#o.log.notice('interface-changed', { interface: ifname, addresses: describe(link), mtu: link.mtu, was: { addresses: served.ingress.addresses.map((a) => `${a.text}/${a.prefixLength}`), mtu: served.ingress.mtu } });
          served.ingress = next;
          changed = true;
        }
      }
      this.#last.set(ifname, link);
      this.#conditionsNow(ifname, linkConditions(link, this.#o.subnets()));
    }
    return changed;
  }

  /** Re-checks the warnings against the description (after a reload changed its subnets). */
  recheck(): void {
    for (const ifname of new Set(this.#o.interfaces)) this.#conditionsNow(ifname, linkConditions(this.#last.get(ifname), this.#o.subnets()));
  }

  /** Logs each condition that began; forgets those that ended (so a new start is logged again). */
  #conditionsNow(ifname: string, now: Map<LinkCondition, string>): void {
    const before = this.#conditions.get(ifname) ?? new Map<string, string>();
    const next = new Map<string, string>();
    const failed = before.get('socket-failed');
    if (failed !== undefined) next.set('socket-failed', failed);
    for (const [kind, detail] of now) {
      if (before.get(kind) !== detail && !this.#warnLimited(ifname, `interface-${kind}`, detail, 'warn')) {
        // Too soon after the last line of its kind (a flapping link): said later if it still holds.
        this.#recheckSoon();
        continue;
      }
      next.set(kind, detail);
    }
    for (const kind of before.keys()) {
      if (kind !== 'socket-failed' && kind !== 'missing' && !now.has(kind as LinkCondition)) this.#o.log.log('info', `interface-${kind}-ended`, { interface: ifname });
    }
    this.#conditions.set(ifname, next);
  }

  #warnOnce(ifname: string, kind: string, detail: string, level: LogLevel): void {
    const c = this.#conditions.get(ifname) ?? new Map<string, string>();
    if (c.get(kind) === detail) return;
    c.set(kind, detail);
    this.#conditions.set(ifname, c);
    this.#warnLimited(ifname, `interface-${kind}`, detail, level);
  }

  #clearCondition(ifname: string, kind: string): void {
    this.#conditions.get(ifname)?.delete(kind);
  }

  /** False when the limiter left the line out. */
  #warnLimited(ifname: string, event: string, detail: string, level: LogLevel): boolean {
    const left = this.#limiter.admit(event, ifname);
    if (left === undefined) return false;
    this.#o.log.log(level, event, left > 0 ? { interface: ifname, detail, suppressed: left } : { interface: ifname, detail });
    return true;
  }

  #recheckSoon(): void {
    if (this.#closed || this.#recheckTimer !== undefined) return;
    this.#recheckTimer = setTimeout(() => {
      this.#recheckTimer = undefined;
      if (!this.#closed) this.recheck();
    }, WARN_INTERVAL_MS + 50).unref();
  }

  /** Stops following and closes every socket. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#recheckTimer);
    this.#watch?.close();
    await this.#looking;
    await Promise.all([...this.#served.values()].map((s) => s.socket.close()));
  }
}

function ingressOf(link: LinkRead): Ingress {
  return { ifname: link.name, addresses: link.addresses, mtu: link.mtu };
}

function sameIngress(a: Ingress, b: Ingress): boolean {
  return a.mtu === b.mtu && a.addresses.length === b.addresses.length && a.addresses.every((x, i) => x.text === b.addresses[i]!.text && x.prefixLength === b.addresses[i]!.prefixLength);
}

function describe(link: LinkRead): string[] {
  return link.addresses.map((a) => `${a.text}/${a.prefixLength}`);
}

/**
 * `ip -j address show`, run directly: a lone server loads no process runner (execa) at start,
 * and this is the only program it runs.
 */
function ipAddressShow(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['-j', 'address', 'show'], { timeout: 10_000, maxBuffer: 64 << 20, env: { LC_ALL: 'C' } }, (err, stdout, stderr) => {
      if (err) reject(new RackstrapError('RS_WATCH', `cannot read the interfaces (ip -j address show: ${String(stderr).trim() || err.message})`, { cause: err }));
      else resolve(String(stdout));
    });
  });
}
