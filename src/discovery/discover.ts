// `rackstrap discover`: browse `_rackstrap._tcp` on the given interfaces. One-shot: returns once
// the answers have settled (no news for a short while after the first) or nothing came within
// the timeout. Watch: reports every arrival, change and departure until stopped.
import { networkInterfaces } from 'node:os';
import { RackstrapError } from '../errors.js';
import { Browser, type BrowserEvent, type Member } from './browser.js';
import { openMdnsTransport, type MdnsTransport } from './transport.js';

/** After the last new answer, how long to wait for more (responders answer within 20-120 ms, RFC 6762 §6). */
export const SETTLE_MS = 300;
export const DEFAULT_TIMEOUT_MS = 2000;

/** Interfaces worth browsing when none is named: up with an IPv4 address, not loopback, never a
 *  data# or san# interface (management traffic stays off them); only the mgmt# ones when the
 *  filer has any (a member), every other one on a filer not configured yet. */
export function defaultInterfaces(): string[] {
  const withV4 = Object.entries(networkInterfaces())
    .filter(([, addrs]) => (addrs ?? []).some((a) => a.family === 'IPv4' && !a.internal))
    .map(([name]) => name)
    .filter((name) => !/^(data|san)\d+$/i.test(name))
    .sort();
  const mgmt = withV4.filter((name) => /^mgmt\d+$/i.test(name));
  return mgmt.length > 0 ? mgmt : withV4;
}

async function openAll(ifnames: readonly string[], netns: string | undefined): Promise<MdnsTransport[]> {
  if (ifnames.length === 0) {
    throw new RackstrapError('RS_DISCOVERY_NO_INTERFACE', 'no interface to browse on: none is up with an IPv4 address; name one with --interface');
  }
  const out: MdnsTransport[] = [];
  try {
    for (const ifname of ifnames) out.push(await openMdnsTransport({ ifname, ...(netns === undefined ? {} : { netns }) }));
  } catch (e) {
    await Promise.all(out.map((t) => t.close()));
    throw e;
  }
  return out;
}

export interface DiscoverOnceOptions {
  interfaces: string[];
  netns?: string;
  timeoutMs?: number;
  settleMs?: number;
}

export async function discoverOnce(o: DiscoverOnceOptions): Promise<{ members: Member[]; firstMs: number | undefined }> {
  const transports = await openAll(o.interfaces, o.netns);
  const t0 = performance.now();
  let firstMs: number | undefined;
  try {
    return await new Promise((resolve) => {
      let settle: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timeout);
        clearTimeout(settle);
        browser.stop();
        resolve({ members: browser.members(), firstMs });
      };
      const browser = new Browser({
        transports,
        continuous: false,
        onEvent: (e) => {
          if (e.event === 'down') return;
          firstMs ??= performance.now() - t0;
          clearTimeout(settle);
          settle = setTimeout(done, o.settleMs ?? SETTLE_MS);
        },
      });
      const timeout = setTimeout(done, o.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      browser.start();
    });
  } finally {
    await Promise.all(transports.map((t) => t.close()));
  }
}

export interface WatchOptions {
  interfaces: string[];
  netns?: string;
  onEvent: (e: BrowserEvent) => void;
}

/** Browses until the returned stop() is called. */
export async function watchClusters(o: WatchOptions): Promise<{ stop: () => Promise<void> }> {
  const transports = await openAll(o.interfaces, o.netns);
  const browser = new Browser({ transports, onEvent: o.onEvent });
  browser.start();
  return {
    stop: async () => {
      browser.stop();
      await Promise.all(transports.map((t) => t.close()));
    },
  };
}
