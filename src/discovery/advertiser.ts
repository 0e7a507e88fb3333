// Advertising the cluster from one member: `_rackstrap._tcp` on each of its mgmt# interfaces, with
// that interface's own addresses only. Where avahi-daemon runs, it publishes through avahi (one
// responder per host); elsewhere it runs rackstrap's own responder on a socket bound to the
// interface. Events (probing, announced, renamed, goodbye) go to one callback for the log.
import { instanceName, hostLabel, nextInstanceName } from './names.js';
import { Responder, type ResponderEvent } from './responder.js';
import { networkInterfaces } from 'node:os';
import { openMdnsTransport, type MdnsTransport } from './transport.js';
import { encodeTxt, type ClusterTxt } from './txt.js';
import { connectAvahi, type AvahiClient } from './avahi.js';
import { watchKernel, type KernelWatch } from '../net/kernel-watch.js';

export type AdvertiserEvent =
  | ResponderEvent
  | { event: 'avahi'; version: string }
  | { event: 'avahi-failure'; ifname: string; error: string }
  /** The kernel's address events cannot be followed: addresses change only through updateAddresses. */
  | { event: 'follow-failure'; error: string };

export interface AdvertiseInterface {
  ifname: string;
  /** IPv4 addresses of the interface. */
  addresses: string[];
}

export interface AdvertiseOptions {
  member: string;
  txt: ClusterTxt;
  interfaces: AdvertiseInterface[];
  netns?: string;
  /** 'auto' (default): avahi when it answers on D-Bus, else our own responder. */
  responder?: 'auto' | 'own' | 'avahi';
  ttl?: { host: number; other: number };
  onEvent?: (e: AdvertiserEvent) => void;
  /**
   * Follow each interface's IPv4 addresses from the kernel's own address events (net/kernel-watch)
   * and re-announce on a change (default true; false: only through updateAddresses). Only in the
   * process's own namespace (getifaddrs reads that one).
   */
  followAddresses?: boolean;
}

export interface Advertiser {
  readonly mode: 'own' | 'avahi';
  /** The instance name on each interface (after any rename). */
  names(): Record<string, string>;
  updateAddresses(ifname: string, addresses: string[]): Promise<void>;
  updateTxt(txt: ClusterTxt): Promise<void>;
  /** Goodbye on every interface, then close. */
  stop(): Promise<void>;
}

export async function startAdvertiser(o: AdvertiseOptions): Promise<Advertiser> {
  const emit = o.onEvent ?? (() => undefined);
  const instance = instanceName(o.member, o.txt.cluster);
  const port = o.txt.joinPort ?? 0;
  const txt = encodeTxt(o.txt);
  const avahi = o.responder === 'own' ? undefined : await connectAvahi();
  if (o.responder === 'avahi' && avahi === undefined) throw new Error('avahi-daemon does not answer on the system bus');
  if (avahi !== undefined) return startThroughAvahi(avahi, o, instance, port, txt, emit);

  const transports: MdnsTransport[] = [];
  const responders = new Map<string, Responder>();
  // Records published on any of our interfaces: one of them heard on another is not a conflict.
  const own = () => new Set([...responders.values()].flatMap((r) => r.recordKeys()));
  try {
    for (const i of o.interfaces) {
      const t = await openMdnsTransport({ ifname: i.ifname, ...(o.netns === undefined ? {} : { netns: o.netns }) });
      transports.push(t);
      const r = new Responder({
        transport: t,
        instance,
        host: hostLabel(o.member, o.txt.id),
        port,
        txt,
        addresses: i.addresses,
        ...(o.ttl === undefined ? {} : { ttl: o.ttl }),
        onEvent: emit,
        isOwn: (key) => own().has(key),
      });
      responders.set(i.ifname, r);
    }
  } catch (e) {
    await Promise.all(transports.map((t) => t.close()));
    throw e;
  }
  for (const r of responders.values()) r.start();
  const follow = (o.followAddresses ?? true) && o.netns === undefined ? followAddresses(responders, emit) : undefined;
  return {
    mode: 'own',
    names: () => Object.fromEntries([...responders].map(([k, r]) => [k, r.instance])),
    updateAddresses: async (ifname, addresses) => {
      await responders.get(ifname)?.updateAddresses(addresses);
    },
    updateTxt: async (next) => {
      const bytes = encodeTxt(next);
      for (const r of responders.values()) r.updateTxt(bytes);
    },
    stop: async () => {
      follow?.close();
      await Promise.all([...responders.values()].map((r) => r.stop()));
      await Promise.all(transports.map((t) => t.close()));
    },
  };
}

async function startThroughAvahi(
  avahi: AvahiClient,
  o: AdvertiseOptions,
  instance: string,
  port: number,
  txt: Buffer[],
  emit: (e: AdvertiserEvent) => void,
): Promise<Advertiser> {
  emit({ event: 'avahi', version: await avahi.version() });
  const names: Record<string, string> = {};
  for (const i of o.interfaces) {
    names[i.ifname] = instance;
    emit({ event: 'probing', ifname: i.ifname, instance, host: '(avahi)' });
    await avahi.publish(
      { ifname: i.ifname, instance, port, txt },
      {
        onEstablished: (ifname, name) => emit({ event: 'announced', ifname, instance: name, host: '(avahi)', addresses: [] }),
        onCollision: (ifname, name) => {
          const to = nextInstanceName(name);
          names[ifname] = to;
          emit({ event: 'renamed', ifname, kind: 'instance', from: name, to, reason: 'conflict' });
          return to;
        },
        onFailure: (ifname, error) => emit({ event: 'avahi-failure', ifname, error }),
      },
    );
  }
  return {
    mode: 'avahi',
    names: () => ({ ...names }),
    // avahi follows the interface's addresses itself.
    updateAddresses: async () => undefined,
    updateTxt: async (next) => {
      const bytes = encodeTxt(next);
      for (const i of o.interfaces) await avahi.updateTxt(i.ifname, bytes);
    },
    stop: async () => {
      await avahi.close();
      for (const [ifname, name] of Object.entries(names)) emit({ event: 'goodbye', ifname, instance: name });
    },
  };
}

/**
 * Re-reads the interfaces' IPv4 addresses whenever the kernel says one changed (and once the watch
 * is live, so nothing falls between the responders' start and the first event). Without the
 * addon's netlink socket (not root), addresses follow only through updateAddresses.
 */
function followAddresses(responders: ReadonlyMap<string, Responder>, emit: (e: AdvertiserEvent) => void): KernelWatch | undefined {
  const reread = () => {
    const now = interfaceAddresses();
    for (const [ifname, r] of responders) void r.updateAddresses(now.get(ifname) ?? []);
  };
  let watch: KernelWatch;
  try {
    watch = watchKernel({ kinds: ['address'], families: [4], resyncIntervalMs: 0 });
  } catch (err) {
    emit({ event: 'follow-failure', error: (err as Error).message });
    return undefined;
  }
  watch.on('change', reread);
  watch.on('resync', reread);
  watch.on('error', (err) => emit({ event: 'follow-failure', error: err.message }));
  return watch;
}

/** IPv4 addresses of every interface of this process's namespace (getifaddrs: no process spawned). */
export function interfaceAddresses(): Map<string, string[]> {
  return new Map(Object.entries(networkInterfaces()).map(([name, list]) => [name, (list ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address).sort()]));
}
