// The address leases of one topology (step 6 and 8 of the bootstrap): one DHCP client per
// identifier, on the alias it is for (clients on one alias share its socket), all asked at once.
// The set keeps the current lease of each and says when the set of addresses changed (bound late,
// moved, expired, refused); renewals that keep the address change nothing on the host.
import { EventEmitter } from 'node:events';
import { openDhcpClient, systemClock, type Clock, type DhcpClient, type DhcpLease, type TimingConfig, type TransportPool } from '../dhcp-client/index.js';
import type { Lease } from '../cache/cache-entry.js';
import type { AgentLog } from './agent-log.js';
import type { AddressRequest } from './address-requests.js';
import { leaseRecord, type LeaseMap } from './leases-to-desired.js';
import type { ReplyVerifier } from './offer-check.js';

export interface LeaseSetOptions {
  vendorClass: string;
  timing?: Partial<TimingConfig>;
  pool?: TransportPool;
  netns?: string;
  clock?: Clock;
  log: AgentLog;
  /** Per request: what its OFFERs and ACKs must match (offer-check.ts); none: take what comes. */
  verifier?: (request: AddressRequest) => ReplyVerifier | undefined;
}

interface Entry {
  request: AddressRequest;
  client: DhcpClient | undefined;
  lease: DhcpLease | undefined;
}

export interface LeaseSetEvents {
  /** The addresses changed: re-plan. */
  change: [];
  /** A lease was renewed with the same address (expiry moved). */
  renewed: [identifier: string];
  /** An OFFER or ACK the verifier refused (ignored; the client keeps asking). */
  unverified: [identifier: string, info: { type: 'OFFER' | 'ACK'; address: string; serverId: string | undefined; from: string; reason: string; interface: string }];
}

export class LeaseSet extends EventEmitter<LeaseSetEvents> {
  readonly #entries = new Map<string, Entry>();
  readonly #opts: LeaseSetOptions;
  #version = 0;
  #stopped = false;
  #waiters = new Set<() => void>();

  constructor(requests: readonly AddressRequest[], opts: LeaseSetOptions) {
    super();
    this.#opts = opts;
    for (const request of requests) this.#entries.set(request.identifier, { request, client: undefined, lease: undefined });
  }

  /** Bumped on every change of addresses. */
  get version(): number {
    return this.#version;
  }

  get requests(): AddressRequest[] {
    return [...this.#entries.values()].map((e) => e.request);
  }

  /**
   * Opens and starts every client. `cached` addresses are asked back with INIT-REBOOT (RFC 2131
   * §3.2: two messages instead of four). A client whose alias cannot be opened is logged and left
   * without a lease.
   */
  async start(cached: Readonly<Record<string, string>> = {}): Promise<void> {
    const log = this.#opts.log;
    await Promise.all(
      [...this.#entries.values()].map(async (e) => {
        let client: DhcpClient;
        const verifyReply = this.#opts.verifier?.(e.request);
        try {
          client = await openDhcpClient({
            ...(verifyReply === undefined ? {} : { verifyReply }),
            interface: e.request.alias,
            identifier: e.request.identifier,
            vendorClass: this.#opts.vendorClass,
            ...(this.#opts.timing === undefined ? {} : { timing: this.#opts.timing }),
            ...(this.#opts.pool === undefined ? {} : { pool: this.#opts.pool }),
            ...(this.#opts.netns === undefined ? {} : { netns: this.#opts.netns }),
            ...(this.#opts.clock === undefined ? {} : { clock: this.#opts.clock }),
            log: log.dhcp,
          });
        } catch (err) {
          log.warn('lease-skipped', `cannot ask for ${e.request.identifier} on ${e.request.alias}: ${(err as Error).message}`, { identifier: e.request.identifier });
          return;
        }
        if (this.#stopped) {
          await client.stop();
          return;
        }
        e.client = client;
        this.#listen(e, client);
        const address = cached[e.request.identifier];
        client.start(address === undefined ? {} : { cachedAddress: address });
      }),
    );
  }

  #listen(e: Entry, client: DhcpClient): void {
    const log = this.#opts.log;
    const id = e.request.identifier;
    const set = (lease: DhcpLease | undefined, why: string, level: 'info' | 'warn') => {
      e.lease = lease;
      this.#version++;
      log.log(level, 'lease', `${id}: ${why}`, { identifier: id, alias: e.request.alias, ...(lease ? { address: `${lease.address}/${lease.prefixLength}`, server: lease.serverId } : {}) });
      this.#wake();
      this.emit('change');
    };
    client.on('bound', (lease) => set(lease, `bound ${lease.address}/${lease.prefixLength} from ${lease.serverId}`, 'info'));
    client.on('changed', (lease, previous) => set(lease, `address changed ${previous.address} -> ${lease.address}`, 'info'));
    client.on('expired', (lease) => set(undefined, `lease of ${lease.address} expired; asking again`, 'warn'));
    client.on('nak', (info) => {
      if (info.lease !== undefined) set(undefined, `server ${info.serverId ?? '?'} refused ${info.lease.address}${info.message ? ` (${info.message})` : ''}`, 'warn');
      else log.info('lease', `${id}: server ${info.serverId ?? '?'} refused ${info.address ?? 'the address'}; asking again`, { identifier: id });
    });
    client.on('unverified', (info) => this.emit('unverified', id, { type: info.type, address: info.address, serverId: info.serverId, from: info.from, reason: info.reason, interface: e.request.alias }));
    client.on('renewed', (lease) => {
      e.lease = lease;
      this.emit('renewed', id);
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Asks every running client to renew now; false when none runs. */
  renewAll(): boolean {
    let any = false;
    for (const e of this.#entries.values()) {
      if (e.client === undefined) continue;
      e.client.renew();
      any = true;
    }
    return any;
  }

  /** Identifiers without a lease. */
  missing(): string[] {
    return [...this.#entries.values()].filter((e) => e.lease === undefined).map((e) => e.request.identifier);
  }

  /**
   * Resolves when every identifier has a lease, or at `timeoutMs`, or when `signal` aborts: the
   * ones still missing. The clients without a lease keep asking.
   */
  settle(timeoutMs: number, signal?: AbortSignal): Promise<string[]> {
    return new Promise((resolve) => {
      const clock = this.#opts.clock ?? systemClock;
      let timer: { cancel(): void } | undefined;
      const check = (force: boolean) => {
        const missing = this.missing();
        if (missing.length > 0 && !force && !this.#stopped) return;
        this.#waiters.delete(onChange);
        timer?.cancel();
        signal?.removeEventListener('abort', onAbort);
        resolve(missing);
      };
      const onChange = () => check(false);
      const onAbort = () => check(true);
      if (signal?.aborted) return check(true);
      this.#waiters.add(onChange);
      signal?.addEventListener('abort', onAbort);
      timer = clock.setTimer(clock.now() + timeoutMs, () => check(true));
      check(false);
    });
  }

  /** The current leases, in the cache's shape, by identifier. */
  leases(): LeaseMap {
    const out: Record<string, Lease> = {};
    for (const e of this.#entries.values()) if (e.lease !== undefined) out[e.request.identifier] = leaseRecord(e.request, e.lease);
    return out;
  }

  /** Each identifier's lease as the client holds it (status). */
  raw(): Array<{ request: AddressRequest; lease: DhcpLease | undefined; state: string | undefined }> {
    return [...this.#entries.values()].map((e) => ({ request: e.request, lease: e.lease, state: e.client?.state }));
  }

  /** Stops every client; with `release`, held addresses are given back (RFC 2131 §4.4.6). */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.#stopped = true;
    this.#wake();
    await Promise.allSettled([...this.#entries.values()].map((e) => e.client?.stop({ release: opts.release ?? false })));
    this.removeAllListeners();
  }
}
