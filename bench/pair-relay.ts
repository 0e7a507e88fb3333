// The relay load of the pair benches: a DHCP relay agent (giaddr = its own address, port 67, as
// perfdhcp is in IPv4) that forwards every request to each of its server addresses, as a relay
// configured for a server pair does (Kea HA needs the standby to see the traffic; a rackstrap
// pair has one service address). `workers` clients at a time, each retransmitting every
// `retransmitMs` until answered, with the `secs` field counting whole seconds since the client's
// exchange began (RFC 2131 §4.1): what real clients do, and the evidence Kea's failure detection
// reads (a client whose secs exceeds max-ack-delay counts as unanswered). Every ACK is recorded
// with the time, the server that sent it (option 54) and the address.

import { MESSAGE_TYPE, OP, OPTION, createMessage, decodeMessage, encodeMessage, type DhcpMessage } from '../src/dhcp-packet/index.js';
import { openInterfaceSocket, type InterfaceSocket } from '../src/net/interface-socket.js';

export interface RelayOptions {
  /** Where each request goes (one service address, or both servers of a pair). */
  servers: readonly string[];
  giaddr: string;
  /** Second byte of every MAC: tells this load's clients apart from others'. */
  side: number;
  /** Client MACs cycled through. */
  clients: number;
  /** Clients in an exchange at once. */
  workers: number;
  retransmitMs: number;
}

export interface RelayAck {
  at: number;
  server: string;
  address: string;
  client: number;
}

export class RelayLoad {
  readonly acks: RelayAck[] = [];
  readonly stats = { exchanges: 0, acks: 0, naks: 0, retransmits: 0 };
  readonly #waiting = new Map<number, (m: DhcpMessage) => void>();
  #xid: number;
  #next = 0;
  #stop = false;
  #running: Promise<void[]> | undefined;

  private constructor(readonly sock: InterfaceSocket, readonly o: RelayOptions) {
    this.#xid = (o.side << 24) >>> 0;
    sock.on('message', (buf) => {
      let m: DhcpMessage;
      try {
        m = decodeMessage(buf);
      } catch {
        return;
      }
      this.#waiting.get(m.xid)?.(m);
    });
  }

  /** Opens the relay's socket on `ifname` of the namespace at `netnsPath`. */
  static async open(netnsPath: string, ifname: string, o: RelayOptions): Promise<RelayLoad> {
    const sock = await openInterfaceSocket({ ifname, port: 67, netns: netnsPath, recvBufferSize: 4 << 20 });
    return new RelayLoad(sock, o);
  }

  #msg(client: number, xid: number, secs: number, type: number, options: Array<[number, string]> = []): Buffer {
    return encodeMessage(createMessage({
      op: OP.BOOTREQUEST, xid, secs: Math.min(0xffff, secs), type: type as (typeof MESSAGE_TYPE)[keyof typeof MESSAGE_TYPE], giaddr: this.o.giaddr,
      chaddr: Buffer.from([2, 0x20 + this.o.side, 0, 0, client >> 8, client & 255]), options,
    }));
  }

  /** Sends until a reply of one of `want` comes; undefined when stopped, 'gave-up' after `tries` sends. */
  async #until(xid: number, build: () => Buffer, want: readonly number[], tries = Infinity): Promise<DhcpMessage | undefined | 'gave-up'> {
    for (let i = 0; !this.#stop; i++) {
      if (i >= tries) return 'gave-up';
      if (i > 0) this.stats.retransmits++;
      const got = await new Promise<DhcpMessage | undefined>((resolve) => {
        const timer = setTimeout(() => {
          this.#waiting.delete(xid);
          resolve(undefined);
        }, this.o.retransmitMs);
        this.#waiting.set(xid, (m) => {
          if (!want.includes(m.options.get(OPTION.MESSAGE_TYPE) ?? 0)) return;
          clearTimeout(timer);
          this.#waiting.delete(xid);
          resolve(m);
        });
        const buf = build();
        for (const s of this.o.servers) this.sock.send(buf, 67, s).catch(() => undefined);
      });
      if (got) return got;
    }
    return undefined;
  }

  async #exchange(client: number): Promise<void> {
    this.stats.exchanges++;
    const began = performance.now();
    const secs = (): number => Math.floor((performance.now() - began) / 1000);
    // A client that got no ACK for its REQUEST in a few tries starts over with a DISCOVER,
    // keeping its secs count (it is the same attempt to get an address).
    while (!this.#stop) {
      const xid = this.#xid++ >>> 0;
      const offer = await this.#until(xid, () => this.#msg(client, xid, secs(), MESSAGE_TYPE.DISCOVER), [MESSAGE_TYPE.OFFER]);
      if (offer === undefined || offer === 'gave-up') return;
      const sid = offer.options.get(OPTION.SERVER_ID) as string;
      const opts: Array<[number, string]> = [[OPTION.SERVER_ID, sid], [OPTION.REQUESTED_ADDRESS, offer.yiaddr]];
      const reply = await this.#until(xid, () => this.#msg(client, xid, secs(), MESSAGE_TYPE.REQUEST, opts), [MESSAGE_TYPE.ACK, MESSAGE_TYPE.NAK], 4);
      if (reply === undefined) return;
      if (reply === 'gave-up') continue;
      if (reply.options.get(OPTION.MESSAGE_TYPE) === MESSAGE_TYPE.NAK) {
        this.stats.naks++;
        continue;
      }
      this.stats.acks++;
      this.acks.push({ at: performance.now(), server: String(reply.options.get(OPTION.SERVER_ID)), address: reply.yiaddr, client });
      return;
    }
  }

  start(): void {
    const worker = async (): Promise<void> => {
      while (!this.#stop) await this.#exchange(this.#next++ % this.o.clients);
    };
    this.#running = Promise.all(Array.from({ length: this.o.workers }, worker));
  }

  async stop(): Promise<void> {
    if (this.#stop) return;
    this.#stop = true;
    await this.#running;
    await this.sock.close();
  }

  /** The first ACK after `t` (performance.now() time), from one of `servers` when given. */
  firstAckAfter(t: number, servers?: readonly string[]): RelayAck | undefined {
    return this.acks.find((a) => a.at > t && (servers === undefined || servers.includes(a.server)));
  }
}
