// An in-memory link for driver tests: a DatagramEndpoint the client's transport uses, and a tiny
// DHCP server on the other end that answers by reservation (text client id → address). Replies
// arrive asynchronously (next macrotask), like datagrams do.

import {
  createMessage, decodeMessage, encodeMessage, MESSAGE_TYPE, OP, OPTION, clientIdText,
  type AnyOptionValue, type DhcpMessage, type MessageType,
} from '../../../src/dhcp-packet/index.js';
import type { DatagramEndpoint } from '../../../src/dhcp-client/transport.js';

export interface Sent {
  message: DhcpMessage;
  port: number;
  address: string;
}

export class FakeEndpoint implements DatagramEndpoint {
  readonly sent: Sent[] = [];
  #onMessage: Array<(buf: Buffer, from: { address: string; port: number }) => void> = [];
  #onError: Array<(err: Error) => void> = [];
  closed = false;
  /** Sends that should fail, by destination address (e.g. unicast with no route). */
  failTo = new Set<string>();
  handler: ((m: DhcpMessage, address: string) => Array<{ reply: DhcpMessage; from: string }>) | undefined;

  onMessage(fn: (buf: Buffer, from: { address: string; port: number }) => void): void {
    this.#onMessage.push(fn);
  }
  onError(fn: (err: Error) => void): void {
    this.#onError.push(fn);
  }
  async send(buf: Uint8Array, port: number, address: string): Promise<void> {
    if (this.failTo.has(address)) throw Object.assign(new Error(`send to ${address}: ENETUNREACH`), { code: 'ENETUNREACH' });
    const message = decodeMessage(Buffer.from(buf));
    this.sent.push({ message, port, address });
    for (const { reply, from } of this.handler?.(message, address) ?? []) {
      setImmediate(() => this.inject(encodeMessage(reply, { maxSize: 1500 }), from));
    }
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  /** A datagram arriving on port 68. */
  inject(buf: Buffer, from = '10.0.0.1', port = 67): void {
    for (const fn of this.#onMessage) fn(buf, { address: from, port });
  }
  error(err: Error): void {
    for (const fn of this.#onError) fn(err);
  }
  /** Messages of one type, in order. */
  ofType(type: MessageType): Sent[] {
    return this.sent.filter((s) => s.message.options.get(OPTION.MESSAGE_TYPE) === type);
  }
}

export interface FakeServerOptions {
  serverId?: string;
  leaseSeconds?: number;
  /** identifier text → address */
  reservations: Record<string, string>;
  extra?: Array<[number, AnyOptionValue]>;
}

/** Answers like a server with fixed reservations; `silent` stops it, `nakAll` NAKs every REQUEST. */
export class FakeServer {
  readonly serverId: string;
  leaseSeconds: number;
  silent = false;
  nakAll = false;
  readonly released: string[] = [];
  readonly declined: string[] = [];
  readonly #reservations: Record<string, string>;
  readonly #extra: Array<[number, AnyOptionValue]>;

  constructor(opts: FakeServerOptions) {
    this.serverId = opts.serverId ?? '10.0.0.1';
    this.leaseSeconds = opts.leaseSeconds ?? 60;
    this.#reservations = opts.reservations;
    this.#extra = opts.extra ?? [];
  }

  attach(ep: FakeEndpoint): void {
    ep.handler = (m, address) => this.handle(m, address);
  }

  handle(m: DhcpMessage, address: string): Array<{ reply: DhcpMessage; from: string }> {
    if (this.silent) return [];
    const id = clientIdText(m.options.get(OPTION.CLIENT_ID) ?? Buffer.alloc(0));
    const reserved = id === undefined ? undefined : this.#reservations[id];
    const type = m.options.get(OPTION.MESSAGE_TYPE);
    const answer = (t: MessageType, yiaddr: string): Array<{ reply: DhcpMessage; from: string }> => {
      const opts: Array<[number, AnyOptionValue]> = [[OPTION.SERVER_ID, this.serverId]];
      if (t !== MESSAGE_TYPE.NAK) {
        opts.push([OPTION.LEASE_TIME, this.leaseSeconds], [OPTION.SUBNET_MASK, '255.255.255.0'], [OPTION.ROUTERS, ['10.0.0.254']], ...this.#extra);
      }
      opts.push([OPTION.CLIENT_ID, m.options.get(OPTION.CLIENT_ID) as Buffer]);
      const reply = createMessage({ op: OP.BOOTREPLY, type: t, xid: m.xid, chaddr: m.chaddr, flags: m.flags, yiaddr, options: opts });
      return [{ reply, from: this.serverId }];
    };
    switch (type) {
      case MESSAGE_TYPE.DISCOVER:
        return reserved ? answer(MESSAGE_TYPE.OFFER, reserved) : [];
      case MESSAGE_TYPE.REQUEST: {
        if (this.nakAll || !reserved) return answer(MESSAGE_TYPE.NAK, '0.0.0.0');
        const wanted = m.options.get(OPTION.REQUESTED_ADDRESS) ?? m.ciaddr;
        const sid = m.options.get(OPTION.SERVER_ID);
        if (sid !== undefined && sid !== this.serverId) return [];
        if (address !== '255.255.255.255' && address !== this.serverId) return [];
        return wanted === reserved ? answer(MESSAGE_TYPE.ACK, reserved) : answer(MESSAGE_TYPE.NAK, '0.0.0.0');
      }
      case MESSAGE_TYPE.RELEASE:
        this.released.push(m.ciaddr);
        return [];
      case MESSAGE_TYPE.DECLINE:
        this.declined.push(m.options.get(OPTION.REQUESTED_ADDRESS) ?? '');
        return [];
      default:
        return [];
    }
  }
}

/** Lets queued replies (setImmediate) and the promise chains they start run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
