// Publishing through a running avahi-daemon (over D-Bus, its documented API) instead of answering
// mDNS ourselves: two responders on one host make mDNS unreliable (they fight over port 5353's
// unicast replies and each other's conflicts), so where avahi runs, avahi is the responder.
// The service is registered on the mgmt# interface's index only, so avahi announces it there and
// nowhere else; avahi probes, renames on our behalf through the callback below, sends the goodbye
// when the entry group is freed, and follows the interface's addresses itself.
import dbus from 'dbus-next';
import { SERVICE_TYPE } from './names.js';

const AVAHI = 'org.freedesktop.Avahi';
/** avahi-common/defs.h */
const AVAHI_PROTO_INET = 0;
const GROUP_ESTABLISHED = 2;
const GROUP_COLLISION = 3;
const GROUP_FAILURE = 4;

type Iface = Record<string, (...args: unknown[]) => Promise<unknown>> & { on(ev: string, fn: (...a: unknown[]) => void): void };

export interface AvahiEvents {
  onEstablished(ifname: string, instance: string): void;
  /** Called on a name collision; returns the next name to try. */
  onCollision(ifname: string, instance: string): string;
  onFailure(ifname: string, error: string): void;
}

export interface AvahiService {
  ifname: string;
  instance: string;
  port: number;
  txt: Buffer[];
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    p.then((v) => (clearTimeout(t), resolve(v)), (e: unknown) => (clearTimeout(t), reject(e)));
  });
}

/** A connection to avahi-daemon, or undefined when none answers on the system bus (then we are the responder). */
export async function connectAvahi(timeoutMs = 1000): Promise<AvahiClient | undefined> {
  let bus: dbus.MessageBus | undefined;
  try {
    bus = dbus.systemBus();
    // A bus that cannot connect emits 'error'; without a listener that would throw.
    bus.on('error', () => undefined);
    const obj = await withTimeout(bus.getProxyObject(AVAHI, '/'), timeoutMs, 'avahi-daemon');
    const server = obj.getInterface(`${AVAHI}.Server`) as unknown as Iface;
    await withTimeout(server.GetVersionString!(), timeoutMs, 'avahi-daemon');
    return new AvahiClient(bus, server);
  } catch {
    bus?.disconnect();
    return undefined;
  }
}

export class AvahiClient {
  readonly #bus: dbus.MessageBus;
  readonly #server: Iface;
  readonly #groups = new Map<string, { group: Iface; service: AvahiService }>();

  constructor(bus: dbus.MessageBus, server: Iface) {
    this.#bus = bus;
    this.#server = server;
  }

  async version(): Promise<string> {
    return String(await this.#server.GetVersionString!());
  }

  /** Registers the service on one interface; collisions are renamed through `events`. */
  async publish(service: AvahiService, events: AvahiEvents): Promise<void> {
    const index = Number(await this.#server.GetNetworkInterfaceIndexByName!(service.ifname));
    const path = String(await this.#server.EntryGroupNew!());
    const obj = await this.#bus.getProxyObject(AVAHI, path);
    const group = obj.getInterface(`${AVAHI}.EntryGroup`) as unknown as Iface;
    const entry = { group, service: { ...service } };
    this.#groups.set(service.ifname, entry);
    const add = async () => {
      await group.AddService!(index, AVAHI_PROTO_INET, 0, entry.service.instance, SERVICE_TYPE, '', '', entry.service.port, entry.service.txt);
      await group.Commit!();
    };
    group.on('StateChanged', (state: unknown, error: unknown) => {
      if (state === GROUP_ESTABLISHED) events.onEstablished(service.ifname, entry.service.instance);
      else if (state === GROUP_COLLISION) {
        entry.service.instance = events.onCollision(service.ifname, entry.service.instance);
        void group.Reset!().then(add).catch((e: unknown) => events.onFailure(service.ifname, String(e)));
      } else if (state === GROUP_FAILURE) events.onFailure(service.ifname, String(error));
    });
    await add();
  }

  async updateTxt(ifname: string, txt: Buffer[]): Promise<void> {
    const e = this.#groups.get(ifname);
    if (e === undefined) return;
    e.service.txt = txt;
    await e.group.UpdateServiceTxt!(-1, AVAHI_PROTO_INET, 0, e.service.instance, SERVICE_TYPE, '', txt).catch(() => undefined);
  }

  /** Frees every entry group (avahi sends the goodbyes) and closes the bus connection. */
  async close(): Promise<void> {
    for (const { group } of this.#groups.values()) await group.Free!().catch(() => undefined);
    this.#groups.clear();
    this.#bus.disconnect();
  }
}
