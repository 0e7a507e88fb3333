// One port-68 socket per interface, shared by every client on it. A filer asks for several
// identifiers on one alias (mgmt0: `<cid>:mgmt0:Filer1` and the MySQL roles) and for its topology
// on every NIC; SO_BINDTODEVICE sockets on the same port and interface would each get a copy of
// every broadcast reply but only one of them the unicast ones (RENEW answers), so the socket is
// shared and replies are handed out by xid (RFC 2131 §2: the xid is how a client matches replies).
// Datagrams that do not decode, are not replies, or match no client are counted and logged,
// never thrown.

import { CLIENT_PORT, SERVER_PORT, decodeMessage, encodeMessage, OP, messageTypeName, OPTION, type DhcpMessage } from '../dhcp-packet/index.js';
import { RackstrapError } from '../errors.js';
import { interfaceInfo, openInterfaceSocket, type InterfaceSocket } from '../net/interface-socket.js';
import { silentLog, type LogFn } from './log.js';
import { hex32 } from './messages.js';

export interface ReplySource {
  address: string;
  port: number;
  ifname: string;
}

/** A client's interest in replies: the xids of its exchanges in progress. */
export interface ReplySubscriber {
  accepts(xid: number): boolean;
  deliver(message: DhcpMessage, from: ReplySource): void;
}

export interface HardwareAddress {
  /** chaddr (RFC 2131 §2): the interface's MAC bytes. */
  chaddr: Buffer;
  /** htype: 1 for Ethernet (ARPHRD_ETHER matches the DHCP hardware type). */
  htype: number;
}

/** What a client needs from the network: send a message to a server, hear the replies for its xids. */
export interface Transport {
  readonly ifname: string;
  readonly hardware: HardwareAddress;
  /** Encodes and sends `message` to `address`:67 out of this interface. */
  send(message: DhcpMessage, address: string): Promise<void>;
  /** Starts delivering replies the subscriber accepts; returns the function that stops it. */
  subscribe(sub: ReplySubscriber): () => void;
}

export interface TransportStats {
  /** Datagrams received. */
  received: number;
  /** Not DHCP at all (DecodeError). */
  malformed: number;
  /** Decoded, but a BOOTREQUEST (another client's broadcast reaching port 68 is one). */
  notReplies: number;
  /** Replies whose xid no subscriber has. */
  unmatched: number;
  delivered: number;
}

/** The datagram side, so the transport can run over an InterfaceSocket or a test double. */
export interface DatagramEndpoint {
  onMessage(fn: (buf: Buffer, from: { address: string; port: number }) => void): void;
  onError(fn: (err: Error) => void): void;
  send(buf: Uint8Array, port: number, address: string): Promise<void>;
  close(): Promise<void>;
}

export function endpointOf(sock: InterfaceSocket): DatagramEndpoint {
  return {
    onMessage: (fn) => sock.on('message', (buf, rinfo) => fn(buf, { address: rinfo.address, port: rinfo.port })),
    onError: (fn) => sock.on('error', fn),
    send: (buf, port, address) => sock.send(buf, port, address),
    close: () => sock.close(),
  };
}

export class InterfaceTransport implements Transport {
  readonly ifname: string;
  readonly hardware: HardwareAddress;
  readonly stats: TransportStats = { received: 0, malformed: 0, notReplies: 0, unmatched: 0, delivered: 0 };
  readonly #endpoint: DatagramEndpoint;
  readonly #subscribers = new Set<ReplySubscriber>();
  readonly #log: LogFn;

  constructor(ifname: string, hardware: HardwareAddress, endpoint: DatagramEndpoint, log: LogFn = silentLog) {
    this.ifname = ifname;
    this.hardware = hardware;
    this.#endpoint = endpoint;
    this.#log = log;
    endpoint.onMessage((buf, from) => this.#receive(buf, from));
    endpoint.onError((err) => this.#log('warn', `${ifname}: receive error: ${err.message}`));
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  send(message: DhcpMessage, address: string): Promise<void> {
    // Our requests are small; 576 is what every agent must accept (RFC 2131 §2).
    return this.#endpoint.send(encodeMessage(message), SERVER_PORT, address);
  }

  subscribe(sub: ReplySubscriber): () => void {
    this.#subscribers.add(sub);
    return () => {
      this.#subscribers.delete(sub);
    };
  }

  close(): Promise<void> {
    this.#subscribers.clear();
    return this.#endpoint.close();
  }

  #receive(buf: Buffer, from: { address: string; port: number }): void {
    this.stats.received++;
    let message: DhcpMessage;
    try {
      message = decodeMessage(buf);
    } catch (err) {
      this.stats.malformed++;
      this.#log('debug', `${this.ifname}: dropped ${buf.length} bytes from ${from.address}:${from.port}: ${(err as Error).message}`);
      return;
    }
    if (message.op !== OP.BOOTREPLY) {
      this.stats.notReplies++;
      return;
    }
    const source = { ...from, ifname: this.ifname };
    for (const sub of this.#subscribers) {
      if (!sub.accepts(message.xid)) continue;
      this.stats.delivered++;
      try {
        sub.deliver(message, source);
      } catch (err) {
        // A bug in one client must not take the shared socket (and every other client) down.
        this.#log('warn', `${this.ifname}: handling a reply failed: ${(err as Error).stack ?? String(err)}`);
      }
      return;
    }
    this.stats.unmatched++;
    const type = messageTypeName(message.options.get(OPTION.MESSAGE_TYPE) ?? 0);
    this.#log('debug', `${this.ifname}: ${type} xid 0x${hex32(message.xid)} from ${from.address} matches no exchange`);
  }
}

/** A pool member's handle: the shared transport, released once by whoever acquired it. */
export interface SharedTransport extends Transport {
  readonly stats: TransportStats;
  /** Gives the handle back; the socket closes when the last handle is released. Idempotent. */
  release(): Promise<void>;
}

export interface OpenedEndpoint {
  endpoint: DatagramEndpoint;
  hardware: HardwareAddress;
}

export type EndpointOpener = (ifname: string, netns: string | undefined) => Promise<OpenedEndpoint>;

/** MAC text (`aa:bb:...`) → chaddr bytes. */
export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length === 0 || parts.length > 16 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
    throw new RackstrapError('RS_DHCP_CLIENT', `hardware address ${JSON.stringify(mac)} is not colon hex`);
  }
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

/** The real thing: a port-68 socket bound to the interface, and its MAC for chaddr. */
export const openClientEndpoint: EndpointOpener = async (ifname, netns) => {
  const info = interfaceInfo(ifname, netns === undefined ? {} : { netns });
  const sock = await openInterfaceSocket({ ifname, port: CLIENT_PORT, ...(netns === undefined ? {} : { netns }) });
  return { endpoint: endpointOf(sock), hardware: { chaddr: macBytes(info.mac), htype: info.hardwareType } };
};

interface PoolEntry {
  transport: Promise<InterfaceTransport>;
  refs: number;
}

export interface TransportPoolOptions {
  open?: EndpointOpener;
  log?: LogFn;
}

/** Shares one transport per (namespace, interface) among every client and topology request. */
export class TransportPool {
  readonly #entries = new Map<string, PoolEntry>();
  readonly #open: EndpointOpener;
  readonly #log: LogFn;

  constructor(opts: TransportPoolOptions = {}) {
    this.#open = opts.open ?? openClientEndpoint;
    this.#log = opts.log ?? silentLog;
  }

  /** Open sockets. */
  get size(): number {
    return this.#entries.size;
  }

  /** The transport for `ifname` (opened on first use); release the handle when done. */
  async acquire(ifname: string, opts: { netns?: string } = {}): Promise<SharedTransport> {
    const key = `${opts.netns ?? ''}\0${ifname}`;
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const opening = this.#open(ifname, opts.netns).then(
        ({ endpoint, hardware }) => new InterfaceTransport(ifname, hardware, endpoint, this.#log),
      );
      entry = { transport: opening, refs: 0 };
      this.#entries.set(key, entry);
      // A failed open leaves nothing behind: the next acquire tries again.
      opening.catch(() => {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      });
    }
    entry.refs++;
    let transport: InterfaceTransport;
    try {
      transport = await entry.transport;
    } catch (err) {
      entry.refs--;
      throw err;
    }
    const held = entry;
    let released = false;
    return {
      ifname: transport.ifname,
      hardware: transport.hardware,
      stats: transport.stats,
      send: (m, a) => transport.send(m, a),
      subscribe: (s) => transport.subscribe(s),
      release: async () => {
        if (released) return;
        released = true;
        held.refs--;
        if (held.refs === 0 && this.#entries.get(key) === held) {
          this.#entries.delete(key);
          await transport.close();
        }
      },
    };
  }
}

/** The process-wide pool used when a caller passes none (logs nothing: pass your own pool to log). */
export const defaultTransportPool = new TransportPool();
