// A load client for the server tests: a relay agent (giaddr = its own address, port 67, as
// perfdhcp is in IPv4) running many concurrent DORAs, half of them followed by a RELEASE, with
// every ACK and RELEASE recorded with its time (the wire view); and the check that replays that
// view: no address ACKed to a client while another client holds it.

import { MESSAGE_TYPE, OP, OPTION, createMessage, decodeMessage, encodeMessage, type DhcpMessage } from '../../../src/dhcp-packet/index.js';
import { openInterfaceSocket, type InterfaceSocket } from '../../../src/net/interface-socket.js';
import type { Rng } from '../../dhcp-packet/helpers/fuzz.js';
import type { Lab } from '../../helpers/netns.js';

export interface LoadOptions {
  /** Where requests go (the server, or a pair's service address). */
  server: string;
  /** The relay's own address (giaddr), in the served subnet. */
  giaddr: string;
  /** Tells load clients apart: the second byte of every MAC is 0x10 + side. */
  side: number;
  rng: Rng;
  clients: number;
  concurrency: number;
  /** How long a step waits for its reply (default 400 ms). */
  stepTimeoutMs?: number;
}

/** The server's key of client number `client` of load client `side`. */
export const clientKey = (side: number, client: number): string =>
  `hw:1:02:1${side}:00:00:${(client >> 8).toString(16).padStart(2, '0')}:${(client & 255).toString(16).padStart(2, '0')}`;

export interface WireEvent {
  at: number;
  kind: 'ack' | 'release';
  address: string;
  /** Client key, as the server names it. */
  client: string;
}

/**
 * The load: a relay agent (giaddr = its own address, port 67, as perfdhcp is in IPv4) running
 * many concurrent DORAs against the service address, half of them followed by a RELEASE. Every
 * ACK and RELEASE is recorded with its time (the wire view).
 */
export class LoadClient {
  readonly events: WireEvent[] = [];
  readonly stats = { dora: 0, acks: 0, naks: 0, timeouts: 0, releases: 0 };
  readonly #waiting = new Map<number, (m: DhcpMessage) => void>();
  #xid: number;
  #stop = false;
  #running: Promise<void[]> | undefined;

  private constructor(readonly sock: InterfaceSocket, readonly o: LoadOptions) {
    this.#xid = o.side << 24;
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

  /** Opens the relay's socket on `c0` of namespace `ns`. */
  static async open(lab: Lab, ns: string, o: LoadOptions): Promise<LoadClient> {
    const sock = await openInterfaceSocket({ ifname: 'c0', port: 67, netns: lab.netnsPath(ns), recvBufferSize: 4 << 20 });
    return new LoadClient(sock, o);
  }

  #ask(msg: DhcpMessage, want: number[]): Promise<DhcpMessage | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(msg.xid);
        this.stats.timeouts++;
        resolve(undefined);
      }, this.o.stepTimeoutMs ?? 400);
      this.#waiting.set(msg.xid, (m) => {
        if (!want.includes(m.options.get(OPTION.MESSAGE_TYPE) ?? 0)) return;
        clearTimeout(timer);
        this.#waiting.delete(msg.xid);
        resolve(m);
      });
      this.sock.send(encodeMessage(msg), 67, this.o.server).catch(() => undefined);
    });
  }

  #msg(client: number, type: (typeof MESSAGE_TYPE)[keyof typeof MESSAGE_TYPE], extra: { ciaddr?: string; options?: Array<[number, string]> } = {}): DhcpMessage {
    return createMessage({
      op: OP.BOOTREQUEST, xid: this.#xid++ >>> 0, type, giaddr: this.o.giaddr, ciaddr: extra.ciaddr ?? '0.0.0.0',
      chaddr: Buffer.from([2, 0x10 + this.o.side, 0, 0, client >> 8, client & 255]), options: extra.options ?? [],
    });
  }

  async #one(client: number): Promise<void> {
    this.stats.dora++;
    const offer = await this.#ask(this.#msg(client, MESSAGE_TYPE.DISCOVER), [MESSAGE_TYPE.OFFER]);
    if (!offer || this.#stop) return;
    const request = this.#msg(client, MESSAGE_TYPE.REQUEST, {
      options: [[OPTION.SERVER_ID, offer.options.get(OPTION.SERVER_ID)!], [OPTION.REQUESTED_ADDRESS, offer.yiaddr]],
    });
    const reply = await this.#ask(request, [MESSAGE_TYPE.ACK, MESSAGE_TYPE.NAK]);
    if (!reply) return;
    if (reply.options.get(OPTION.MESSAGE_TYPE) === MESSAGE_TYPE.NAK) {
      this.stats.naks++;
      return;
    }
    this.stats.acks++;
    const key = clientKey(this.o.side, client);
    this.events.push({ at: performance.now(), kind: 'ack', address: reply.yiaddr, client: key });
    if (this.o.rng.int(2) === 0) {
      const release = this.#msg(client, MESSAGE_TYPE.RELEASE, { ciaddr: reply.yiaddr, options: [[OPTION.SERVER_ID, reply.options.get(OPTION.SERVER_ID)!]] });
      // Recorded before it is sent: from now on the client no longer uses the address.
      this.events.push({ at: performance.now(), kind: 'release', address: reply.yiaddr, client: key });
      this.stats.releases++;
      await this.sock.send(encodeMessage(release), 67, this.o.server).catch(() => undefined);
    }
  }

  start(): void {
    const busy = new Set<number>();
    const worker = async (): Promise<void> => {
      while (!this.#stop) {
        let c = this.o.rng.int(this.o.clients);
        while (busy.has(c)) c = (c + 1) % this.o.clients;
        busy.add(c);
        await this.#one(c);
        busy.delete(c);
      }
    };
    this.#running = Promise.all(Array.from({ length: this.o.concurrency }, worker));
  }

  /** Stops the workers and closes the socket; a second call does nothing. */
  async stop(): Promise<void> {
    if (this.#stop) return;
    this.#stop = true;
    await this.#running;
    await this.sock.close();
  }

  firstAckAfter(t: number): WireEvent | undefined {
    return this.events.find((e) => e.kind === 'ack' && e.at > t);
  }
}

/** Replays the wire view of all clients: who holds each address. Returns violations and the final holders. */
export function checkWire(events: WireEvent[]): { violations: string[]; holders: Map<string, string> } {
  const holder = new Map<string, string>();
  const addressOf = new Map<string, string>();
  const violations: string[] = [];
  for (const e of [...events].sort((x, y) => x.at - y.at)) {
    if (e.kind === 'release') {
      if (holder.get(e.address) === e.client) holder.delete(e.address);
      addressOf.delete(e.client);
      continue;
    }
    const other = holder.get(e.address);
    if (other !== undefined && other !== e.client) violations.push(`${e.address} ACKed to ${e.client} while ${other} held it`);
    const previous = addressOf.get(e.client);
    if (previous !== undefined && previous !== e.address && holder.get(previous) === e.client) holder.delete(previous);
    holder.set(e.address, e.client);
    addressOf.set(e.client, e.address);
  }
  return { violations, holders: holder };
}

