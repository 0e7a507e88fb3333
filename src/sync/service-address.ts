// The service address of a pair (the DHCP service address on vs_mgmt, what relays point at): held
// by whichever server answers, announced with gratuitous ARP when it moves, so relays and
// clients need no change. It is added with a short lifetime that the holder keeps renewing: if
// the holder dies (kill -9, a hang), the kernel drops the address by itself within seconds
// instead of answering ARP for a server that no longer runs.

import { RackstrapError } from '../errors.js';
import type { Runner } from '../net/runner.js';

export interface ServiceAddressOptions {
  address: string;
  prefixLength: number;
  ifname: string;
  runner: Runner;
  /** Lifetime given to the kernel, seconds (renewed every `refreshMs`). */
  lifetimeS?: number;
  refreshMs?: number;
  /** When gratuitous ARP goes out after taking the address, ms. */
  announceAtMs?: readonly number[];
  /** Log sink for failed renewals and announcements. */
  warn?: (event: string, fields: Record<string, unknown>) => void;
}

export class ServiceAddress {
  readonly address: string;
  readonly prefixLength: number;
  readonly ifname: string;
  readonly #o: Required<Omit<ServiceAddressOptions, 'warn'>> & Pick<ServiceAddressOptions, 'warn'>;
  #timers: NodeJS.Timeout[] = [];

  constructor(o: ServiceAddressOptions) {
    this.address = o.address;
    this.prefixLength = o.prefixLength;
    this.ifname = o.ifname;
    this.#o = { lifetimeS: 2, refreshMs: 500, announceAtMs: [0, 250, 1000, 3000], ...o };
  }

  describe(): string {
    return `${this.address}/${this.prefixLength} on ${this.ifname}`;
  }

  #add(): Promise<void> {
    const lft = String(this.#o.lifetimeS);
    return this.#ip(['addr', 'replace', `${this.address}/${this.prefixLength}`, 'dev', this.ifname, 'valid_lft', lft, 'preferred_lft', lft]);
  }

  async #ip(args: string[]): Promise<void> {
    const r = await this.#o.runner.run(['ip', ...args]);
    if (r.exitCode !== 0) throw new RackstrapError('RS_SERVICE_ADDRESS', `ip ${args.join(' ')}: ${r.stderr.trim() || r.error?.message || `exit ${r.exitCode}`}`);
  }

  /** Adds the address (with its lifetime), starts renewing it and announces it. */
  async take(): Promise<void> {
    this.#stopTimers();
    await this.#add();
    this.#timers.push(setInterval(() => {
      this.#add().catch((err: Error) => this.#o.warn?.('service-address-renew-failed', { address: this.describe(), error: err.message }));
    }, this.#o.refreshMs));
    for (const at of this.#o.announceAtMs) {
      const t = setTimeout(() => void this.announce(), at);
      this.#timers.push(t);
    }
  }

  /** Gratuitous ARP (unsolicited, sender = target = the address): neighbours update their caches. */
  async announce(): Promise<void> {
    const r = await this.#o.runner.run(['arping', '-q', '-U', '-c', '1', '-I', this.ifname, this.address]);
    // arping -U expects no reply and exits 1 for "no reply"; only a failure to send matters.
    if (r.exitCode !== 0 && r.exitCode !== 1) this.#o.warn?.('gratuitous-arp-failed', { address: this.describe(), error: r.stderr.trim() || r.error?.message });
  }

  /** Removes the address (absent is fine). */
  async release(): Promise<void> {
    this.#stopTimers();
    const r = await this.#o.runner.run(['ip', 'addr', 'del', `${this.address}/${this.prefixLength}`, 'dev', this.ifname]);
    if (r.exitCode !== 0 && !/Cannot assign requested address|No such|not found/i.test(r.stderr)) {
      throw new RackstrapError('RS_SERVICE_ADDRESS', `ip addr del ${this.address}/${this.prefixLength} dev ${this.ifname}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
    }
  }

  #stopTimers(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers = [];
  }
}
