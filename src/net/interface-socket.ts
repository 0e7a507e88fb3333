// One UDP socket per network interface, for the DHCP server and client ("Interface
// binding"). The native addon creates the fd bound to the interface (SO_BINDTODEVICE), so the
// socket sends from that interface even when it has no address and receives only what came in
// on it: the ingress interface of every datagram is the socket's own. Node's dgram does the I/O.

import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import { SocketError } from '../errors.js';
import { loadNative, type NativeInterfaceInfo } from './native.js';

export interface InterfaceSocketOptions {
  /** Interface to send from and receive on, e.g. `mgmt0`. */
  ifname: string;
  /** Local UDP port (RFC 2131 §4.1: 67 server, 68 client); 0 picks one. */
  port: number;
  /** Network namespace to create the socket in: a name under /run/netns or a path. */
  netns?: string;
  /** Receive buffer in bytes (SO_RCVBUFFORCE as root, else SO_RCVBUF capped by rmem_max). */
  recvBufferSize?: number;
  /** SO_REUSEADDR, default true: another socket may share the port on the same interface. */
  reuseAddress?: boolean;
  /** Join this IPv4 multicast group on the interface (mDNS: 224.0.0.251), TTL 255, loopback on. */
  multicastGroup?: string;
}

/** dgram's sender info plus the interface the datagram arrived on. */
export interface InterfaceRemoteInfo extends dgram.RemoteInfo {
  ifname: string;
}

interface InterfaceSocketEvents {
  message: [msg: Buffer, rinfo: InterfaceRemoteInfo];
  /** Receive-side errors from the kernel (as SocketError). With no listener, it throws (Node's rule). */
  error: [err: SocketError];
  close: [];
}

/** `netns` as given to the options: a bare name means `ip netns`' /run/netns/<name>. */
export function netnsPath(netns: string): string {
  return netns.includes('/') ? netns : `/run/netns/${netns}`;
}

/** What the addon and dgram throw (Error with code/syscall) → SocketError with advice. */
export function toSocketError(err: unknown, ifname: string, netns: string | undefined, doing: string): unknown {
  if (!(err instanceof Error) || typeof (err as NodeJS.ErrnoException).code !== 'string') return err;
  const e = err as NodeJS.ErrnoException;
  // Argument errors from the addon are bugs in the caller: keep them as they are.
  if (e.code?.startsWith('ERR_')) return err;
  const where = `interface ${ifname}${netns ? ` in network namespace ${netns}` : ''}`;
  let advice: string;
  switch (e.code) {
    case 'ENODEV':
      advice = `${where} does not exist`;
      break;
    case 'EADDRINUSE':
      advice = `${doing}: the port is already in use on ${where}`;
      break;
    case 'EPERM':
    case 'EACCES':
      advice = `${doing} on ${where}: permission denied (needs root, or CAP_NET_RAW and CAP_NET_BIND_SERVICE)`;
      break;
    case 'ENOENT':
      advice = netns ? `network namespace ${netns} does not exist` : `${doing} on ${where}`;
      break;
    default:
      advice = `${doing} on ${where}`;
  }
  return new SocketError(ifname, `${advice} (${e.message})`, e.code, { cause: err });
}

/** A UDP socket bound to one interface. Create it with openInterfaceSocket(). */
export class InterfaceSocket extends EventEmitter<InterfaceSocketEvents> {
  readonly ifname: string;
  /** Namespace path the socket lives in, when not the process's own. */
  readonly netns: string | undefined;
  readonly #socket: dgram.Socket;
  #closed: Promise<void> | undefined;

  /** @internal use openInterfaceSocket() */
  constructor(socket: dgram.Socket, ifname: string, netns: string | undefined) {
    super();
    this.#socket = socket;
    this.ifname = ifname;
    this.netns = netns;
    socket.on('message', (msg, rinfo) => this.emit('message', msg, { ...rinfo, ifname }));
    socket.on('error', (err) => this.emit('error', toSocketError(err, ifname, netns, 'receive') as SocketError));
    socket.on('close', () => this.emit('close'));
  }

  /** The bound local port (useful after port 0). */
  get port(): number {
    return this.#socket.address().port;
  }

  /** Sends one datagram out of this interface; 255.255.255.255 is a broadcast on this link only. */
  send(msg: Uint8Array, port: number, address: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.send(msg, port, address, (err) => {
        if (err) reject(toSocketError(err, this.ifname, this.netns, `send to ${address}:${port}`));
        else resolve();
      });
    });
  }

  /** Closes the socket (its fd too); safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => this.#socket.close(() => resolve()));
    return this.#closed;
  }
}

/** Opens a UDP socket bound to `ifname` and 0.0.0.0:`port`, optionally inside a namespace. */
export async function openInterfaceSocket(opts: InterfaceSocketOptions): Promise<InterfaceSocket> {
  const native = loadNative();
  const netns = opts.netns === undefined ? undefined : netnsPath(opts.netns);
  let fd: number;
  try {
    fd = native.openUdpSocket(opts.ifname, opts.port, {
      netns,
      recvBufferSize: opts.recvBufferSize,
      reuseAddress: opts.reuseAddress,
      multicastGroup: opts.multicastGroup,
    });
  } catch (err) {
    throw toSocketError(err, opts.ifname, netns, `open UDP port ${opts.port}`);
  }
  const socket = dgram.createSocket({ type: 'udp4' });
  try {
    // dgram adopts the fd (uv_udp_open) and starts receiving; 'listening' says it did.
    await new Promise<void>((resolve, reject) => {
      socket.once('listening', resolve);
      socket.once('error', reject);
      socket.bind({ fd });
    });
  } catch (err) {
    // dgram did not adopt the fd, so it is still ours to close.
    try {
      socket.close();
    } catch {
      // never bound: nothing to close on the dgram side
    }
    closeSync(fd);
    throw toSocketError(err, opts.ifname, netns, `adopt UDP port ${opts.port}`);
  }
  socket.removeAllListeners('error');
  return new InterfaceSocket(socket, opts.ifname, netns);
}

export interface ArpEntry {
  ifname: string;
  /** The address the client is being given (yiaddr). */
  ip: string;
  /** The client's hardware address (chaddr), `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  netns?: string;
}

/** Tells the kernel ip is at mac on ifname, so a unicast reply reaches a client that cannot answer
 *  ARP yet (RFC 2131 §4.1, broadcast bit clear). The entry ages out like a learnt one. */
export function setArpEntry(entry: ArpEntry): void {
  const netns = entry.netns === undefined ? undefined : netnsPath(entry.netns);
  try {
    loadNative().setArpEntry(entry.ifname, entry.ip, entry.mac, { netns });
  } catch (err) {
    throw toSocketError(err, entry.ifname, netns, `set ARP entry ${entry.ip} -> ${entry.mac}`);
  }
}

/** The interface's index and hardware address (the DHCP client's chaddr, RFC 2131 §2). */
export function interfaceInfo(ifname: string, opts: { netns?: string } = {}): NativeInterfaceInfo {
  const netns = opts.netns === undefined ? undefined : netnsPath(opts.netns);
  try {
    return loadNative().interfaceInfo(ifname, { netns });
  } catch (err) {
    throw toSocketError(err, ifname, netns, 'look up');
  }
}
