// The socket an mDNS responder or browser talks through: UDP 5353 on ONE interface (the native
// addon's SO_BINDTODEVICE), member of 224.0.0.251 on that interface only. Nothing sent on it can
// leave by another interface, and nothing heard on another interface reaches it — which is how
// rackstrap keeps mDNS on mgmt# and off data#/san#.
import { openInterfaceSocket, type InterfaceRemoteInfo, type InterfaceSocket } from '../net/interface-socket.js';
import { MDNS_GROUP, MDNS_PORT } from './packet.js';

export interface MdnsTransport {
  readonly ifname: string;
  /** Multicast to 224.0.0.251:5353 by default; a unicast reply names the peer. */
  send(msg: Buffer, to?: { address: string; port: number }): Promise<void>;
  onMessage(fn: (msg: Buffer, from: InterfaceRemoteInfo) => void): void;
  close(): Promise<void>;
}

export interface OpenTransportOptions {
  ifname: string;
  /** Network namespace (a name under /run/netns or a path); default ours. */
  netns?: string;
  /** Default 5353. */
  port?: number;
}

export async function openMdnsTransport(opts: OpenTransportOptions): Promise<MdnsTransport> {
  const sock: InterfaceSocket = await openInterfaceSocket({
    ifname: opts.ifname,
    port: opts.port ?? MDNS_PORT,
    netns: opts.netns,
    reuseAddress: true,
    multicastGroup: MDNS_GROUP,
  });
  // Send failures (a link going down) are the caller's to log; receive errors must not crash us.
  sock.on('error', () => undefined);
  return {
    ifname: opts.ifname,
    send: (msg, to) => sock.send(msg, to?.port ?? MDNS_PORT, to?.address ?? MDNS_GROUP),
    onMessage: (fn) => sock.on('message', fn),
    close: () => sock.close(),
  };
}
