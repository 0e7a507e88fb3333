// A relay agent for tests: a socket on port 67 in a client namespace that sends requests with
// giaddr = its own address, as perfdhcp does in IPv4; the server answers it on port 67.
// Relay.direct() is a client on the server's link instead: port 68, broadcast, no giaddr.

import { MESSAGE_TYPE, OP, OPTION, createMessage, decodeMessage, encodeMessage, textClientId, type AnyOptionValue, type DhcpMessage } from '../../../src/dhcp-packet/index.js';
import { openInterfaceSocket, type InterfaceSocket } from '../../../src/net/interface-socket.js';
import type { Lab, TeardownHost } from '../../helpers/netns.js';

export interface RelayRequest {
  type: number;
  mac: string;
  clientId?: string;
  requested?: string;
  serverId?: string;
  ciaddr?: string;
  /** Overrides the relay's giaddr (a forged one, or 0.0.0.0). */
  giaddr?: string;
  hops?: number;
  /** Where to send (default: the server the relay was opened for). */
  to?: string;
}

export class Relay {
  readonly #waiting = new Map<number, (m: DhcpMessage) => void>();
  #xid = 0x10000;

  private constructor(readonly sock: InterfaceSocket, readonly giaddr: string, readonly server: string) {
    sock.on('message', (buf) => {
      try {
        const m = decodeMessage(buf);
        this.#waiting.get(m.xid)?.(m);
      } catch {
        // not a reply of ours
      }
    });
  }

  static async open(netnsPath: string, ifname: string, giaddr: string, server: string): Promise<Relay> {
    return new Relay(await openInterfaceSocket({ ifname, port: 67, netns: netnsPath }), giaddr, server);
  }

  /** A client on the server's link (port 68, requests broadcast with the broadcast flag, so the replies are too). */
  static async direct(netnsPath: string, ifname: string): Promise<Relay> {
    return new Relay(await openInterfaceSocket({ ifname, port: 68, netns: netnsPath }), '0.0.0.0', '255.255.255.255');
  }

  /** Sends one request; resolves with the reply, or undefined after `ms`. */
  ask(r: RelayRequest, ms = 1500): Promise<DhcpMessage | undefined> {
    const options: Array<[number, AnyOptionValue]> = [];
    if (r.clientId) options.push([OPTION.CLIENT_ID, textClientId(r.clientId)]);
    if (r.requested) options.push([OPTION.REQUESTED_ADDRESS, r.requested]);
    if (r.serverId) options.push([OPTION.SERVER_ID, r.serverId]);
    const xid = this.#xid++;
    const giaddr = r.giaddr ?? this.giaddr;
    const msg = createMessage({
      op: OP.BOOTREQUEST, xid, type: r.type as 1, giaddr, ciaddr: r.ciaddr ?? '0.0.0.0', hops: r.hops ?? (giaddr === '0.0.0.0' ? 0 : 1),
      flags: giaddr === '0.0.0.0' ? 0x8000 : 0,
      chaddr: Buffer.from(r.mac.split(':').map((h) => parseInt(h, 16))), options,
    });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(xid);
        resolve(undefined);
      }, ms);
      this.#waiting.set(xid, (m) => {
        clearTimeout(timer);
        this.#waiting.delete(xid);
        resolve(m);
      });
      this.sock.send(encodeMessage(msg), 67, r.to ?? this.server).catch(() => undefined);
    });
  }

  /** DISCOVER, then REQUEST what was offered. */
  async dora(mac: string, clientId?: string): Promise<{ offer: DhcpMessage | undefined; reply: DhcpMessage | undefined }> {
    const offer = await this.ask({ type: MESSAGE_TYPE.DISCOVER, mac, clientId });
    if (!offer) return { offer, reply: undefined };
    const reply = await this.ask({ type: MESSAGE_TYPE.REQUEST, mac, clientId, serverId: offer.options.get(OPTION.SERVER_ID), requested: offer.yiaddr });
    return { offer, reply };
  }

  close(): Promise<void> {
    return this.sock.close();
  }
}

export const typeOf = (m: DhcpMessage | undefined): number | undefined => m?.options.get(OPTION.MESSAGE_TYPE);

/**
 * The server-and-relay link most serve tests use: namespaces `srvName` (srv0, 10.1.1.1/24) and
 * `cliName` (c0, 10.1.1.9/24) joined by a veth, and a relay on c0 pointed at 10.1.1.1, closed at
 * teardown.
 */
export async function relayLink(t: TeardownHost, lab: Lab, srvName = 'srv', cliName = 'cli'): Promise<{ srv: string; cli: string; relay: Relay }> {
  const srv = await lab.ns(srvName);
  const cli = await lab.ns(cliName);
  await lab.veth(srv, 'srv0', cli, 'c0');
  await lab.ip(srv, 'addr', 'add', '10.1.1.1/24', 'dev', 'srv0');
  await lab.ip(cli, 'addr', 'add', '10.1.1.9/24', 'dev', 'c0');
  const relay = await Relay.open(lab.netnsPath(cli), 'c0', '10.1.1.9', '10.1.1.1');
  t.teardown(() => relay.close());
  return { srv, cli, relay };
}
