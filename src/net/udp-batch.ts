// A UDP socket bound to one interface (as interface-socket.ts opens it: SO_BINDTODEVICE through
// the project's addon) whose I/O goes through the addon in batches instead of through dgram:
// every wake-up reads what the kernel has queued with recvmmsg() into one reused buffer and hands
// it over in one call, and the datagrams sent in one turn of the event loop leave together with
// one sendmmsg(). For the embedded DHCP server, where one dgram callback, one Buffer and one
// Promise per datagram were a large part of the cost of an exchange.

import { closeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { RackstrapError, SocketError } from '../errors.js';
import { netnsPath, toSocketError } from './interface-socket.js';
import { loadNative, type NativeUdpWatch } from './native.js';

export interface BatchSocketOptions {
  /** Interface to send from and receive on. */
  ifname: string;
  /** Local UDP port (RFC 2131 §4.1: 67 for a server). */
  port: number;
  /** Network namespace to create the socket in: a name under /run/netns or a path. */
  netns?: string;
  /** Receive buffer in bytes (SO_RCVBUFFORCE as root, else SO_RCVBUF capped by rmem_max). */
  recvBufferSize?: number;
  /** SO_REUSEADDR (default true). */
  reuseAddress?: boolean;
  /** Datagrams one recvmmsg() reads (default 64). */
  slots?: number;
  /** Bytes kept per datagram; a longer one arrives cut short, flagged `truncated` (default 16,384). */
  slotSize?: number;
  /** Most datagrams read per wake-up before the loop gets its turn again (default 1,024). */
  maxPerWake?: number;
  /**
   * Most datagrams one sendmmsg() sends (default 64); more queued leave on the next turns of the
   * loop, so a receiver with a small receive buffer sees a stream rather than one long burst.
   */
  maxPerSend?: number;
}

/** One datagram of a batch. `data` is a view of the socket's buffer: valid only during the handler. */
export interface Datagram {
  data: Buffer;
  /** Sender address, host order, and port. */
  address: number;
  port: number;
  /** Longer than the slot: `data` holds its start only. */
  truncated: boolean;
}

/** Receives each batch (a reused view: read it, or copy what must outlive the call). */
export type BatchHandler = (batch: DatagramBatch) => void;

/** The datagrams one recvmmsg() read; `count` of them, each read with datagram(i). */
export class DatagramBatch {
  count = 0;
  readonly #buffer: Buffer;
  readonly #meta: Uint32Array;
  readonly #slotSize: number;

  constructor(buffer: Buffer, meta: Uint32Array, slotSize: number) {
    this.#buffer = buffer;
    this.#meta = meta;
    this.#slotSize = slotSize;
  }

  /** Datagram i's bytes (a view into the socket's buffer, overwritten by the next batch). */
  data(i: number): Buffer {
    const off = i * this.#slotSize;
    return this.#buffer.subarray(off, off + Math.min(this.#meta[4 * i]!, this.#slotSize));
  }

  /** Datagram i's sender, host-order address. */
  address(i: number): number {
    return this.#meta[4 * i + 1]!;
  }

  port(i: number): number {
    return this.#meta[4 * i + 2]!;
  }

  truncated(i: number): boolean {
    return this.#meta[4 * i + 3] === 1;
  }
}

/** Called once the datagram left (no argument) or could not be sent. */
export type SendCallback = (err?: SocketError) => void;

const SEND_META = 5;
const INITIAL_SEND_BYTES = 64 * 1024;
const INITIAL_SEND_COUNT = 256;

let errnoNames: Map<number, string> | undefined;
function errnoName(n: number): string {
  errnoNames ??= new Map(Object.entries(osConstants.errno).map(([k, v]) => [v, k]));
  return errnoNames.get(n) ?? `errno ${n}`;
}

/** Dotted quad → host-order number, or undefined when it is not one. */
export function ipv4Number(text: string): number | undefined {
  let n = 0;
  let part = -1;
  let parts = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (part < 0 || ++parts > 4) return undefined;
      n = n * 256 + part;
      part = -1;
    } else if (c >= 48 && c <= 57) {
      part = part < 0 ? c - 48 : part * 10 + c - 48;
      if (part > 255) return undefined;
    } else return undefined;
  }
  return parts === 4 ? n : undefined;
}

/** Host-order number → dotted quad. */
export function ipv4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** A UDP socket bound to one interface, read and written in batches. Open it with openBatchSocket(). */
export class BatchSocket {
  readonly ifname: string;
  readonly netns: string | undefined;
  readonly #watch: NativeUdpWatch;
  readonly #batch: DatagramBatch;
  #onBatch: BatchHandler | undefined;
  #onError: ((err: SocketError) => void) | undefined;
  #sendBuf = Buffer.allocUnsafe(INITIAL_SEND_BYTES);
  #sendMeta = new Uint32Array(INITIAL_SEND_COUNT * SEND_META);
  #sendCallbacks: Array<SendCallback | undefined> = [];
  #sendBytes = 0;
  #flushQueued = false;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Counters: system calls and datagrams each way. */
  readonly stats = { recvBatches: 0, received: 0, sendCalls: 0, sent: 0, sendFailures: 0 };

  /** @internal use openBatchSocket() */
  readonly #maxPerSend: number;

  constructor(fd: number, ifname: string, netns: string | undefined, opts: Pick<BatchSocketOptions, 'slots' | 'slotSize' | 'maxPerWake' | 'maxPerSend'>) {
    this.ifname = ifname;
    this.netns = netns;
    this.#maxPerSend = opts.maxPerSend ?? 64;
    const slotSize = opts.slotSize ?? 16384;
    this.#watch = loadNative().udpWatch(fd, { slots: opts.slots ?? 64, slotSize, maxPerWake: opts.maxPerWake ?? 1024 }, (error, count) => {
      if (error !== null) {
        this.#onError?.(new SocketError(ifname, `receive on interface ${ifname}: ${error}`, error));
        return;
      }
      this.stats.recvBatches++;
      this.stats.received += count;
      this.#batch.count = count;
      this.#onBatch?.(this.#batch);
    });
    this.#batch = new DatagramBatch(this.#watch.buffer, this.#watch.meta, slotSize);
  }

  /** Where each batch of received datagrams goes, and receive errors (ICMP errors and the like). */
  receive(onBatch: BatchHandler, onError: (err: SocketError) => void): void {
    this.#onBatch = onBatch;
    this.#onError = onError;
  }

  /** Bytes waiting in the kernel's receive queue of this socket. */
  backlog(): number {
    if (this.#closed) return 0;
    return loadNative().udpBacklog(this.#watch.fd);
  }

  /**
   * Queues one datagram to `address`:`port` (a dotted quad; 255.255.255.255 is a broadcast on this
   * link only). Everything queued in one turn of the event loop leaves in one sendmmsg() after it
   * (a microtask); `done` says how it went. `bytes` is copied at once.
   */
  send(bytes: Uint8Array, port: number, address: string, done?: SendCallback): void {
    const addr = ipv4Number(address);
    if (this.#closed || addr === undefined || !Number.isInteger(port) || port < 0 || port > 65535) {
      const why = this.#closed ? 'the socket is closed' : `not an IPv4 address and port: ${address}:${port}`;
      queueMicrotask(() => done?.(new SocketError(this.ifname, `send to ${address}:${port} on interface ${this.ifname}: ${why}`, this.#closed ? 'EBADF' : 'EINVAL')));
      return;
    }
    const i = this.#sendCallbacks.length;
    if (this.#sendBytes + bytes.length > this.#sendBuf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#sendBuf.length * 2, this.#sendBytes + bytes.length));
      this.#sendBuf.copy(grown, 0, 0, this.#sendBytes);
      this.#sendBuf = grown;
    }
    if ((i + 1) * SEND_META > this.#sendMeta.length) {
      const grown = new Uint32Array(this.#sendMeta.length * 2);
      grown.set(this.#sendMeta);
      this.#sendMeta = grown;
    }
    this.#sendBuf.set(bytes, this.#sendBytes);
    const m = i * SEND_META;
    this.#sendMeta[m] = this.#sendBytes;
    this.#sendMeta[m + 1] = bytes.length;
    this.#sendMeta[m + 2] = addr;
    this.#sendMeta[m + 3] = port;
    this.#sendMeta[m + 4] = 0;
    this.#sendBytes += bytes.length;
    this.#sendCallbacks.push(done);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  /**
   * Sends what is queued now, at most maxPerSend of it; the rest (and what the kernel cannot take
   * yet, its send buffer full) on the next turn of the loop.
   */
  flush(): void {
    this.#flushQueued = false;
    const queued = this.#sendCallbacks.length;
    if (queued === 0 || this.#closed) return;
    const count = Math.min(queued, this.#maxPerSend);
    const done = loadNative().udpSendMany(this.#watch.fd, this.#sendBuf, this.#sendMeta, count);
    this.stats.sendCalls++;
    const callbacks = this.#sendCallbacks;
    for (let i = 0; i < done; i++) {
      const errno = this.#sendMeta[i * SEND_META + 4]!;
      const cb = callbacks[i];
      if (errno === 0) {
        this.stats.sent++;
        cb?.();
      } else {
        this.stats.sendFailures++;
        const name = errnoName(errno);
        const to = `${ipv4Text(this.#sendMeta[i * SEND_META + 2]!)}:${this.#sendMeta[i * SEND_META + 3]}`;
        cb?.(new SocketError(this.ifname, `send to ${to} on interface ${this.ifname} failed: ${name}`, name));
      }
    }
    if (done === queued) {
      this.#sendCallbacks = [];
      this.#sendBytes = 0;
      return;
    }
    // The rest waits for its turn (or for room in the send buffer): moved to the front, sent next turn.
    const restStart = this.#sendMeta[done * SEND_META]!;
    this.#sendBuf.copy(this.#sendBuf, 0, restStart, this.#sendBytes);
    for (let i = done; i < queued; i++) {
      const from = i * SEND_META;
      const to = (i - done) * SEND_META;
      this.#sendMeta[to] = this.#sendMeta[from]! - restStart;
      for (let k = 1; k < SEND_META; k++) this.#sendMeta[to + k] = this.#sendMeta[from + k]!;
    }
    this.#sendBytes -= restStart;
    this.#sendCallbacks = callbacks.slice(done);
    this.#flushQueued = true;
    setImmediate(() => this.flush());
  }

  /**
   * Closes the socket (after sending what is queued); safe to call more than once. Resolves once
   * the fd is closed (libuv lets go of it in its close phase, within the next turn of the loop).
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closing = new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
    {
      while (this.#sendCallbacks.length > 0) {
        const before = this.#sendCallbacks.length;
        this.flush();
        if (this.#sendCallbacks.length >= before) break;
      }
      this.#closed = true;
      this.#watch.close();
      const left = this.#sendCallbacks;
      this.#sendCallbacks = [];
      for (const cb of left) cb?.(new SocketError(this.ifname, `interface ${this.ifname}: the socket closed before the datagram was sent`, 'EBADF'));
    }
    return this.#closing;
  }
}

/** Opens a UDP socket bound to `ifname` and 0.0.0.0:`port` (optionally in a namespace), read and written in batches. */
export function openBatchSocket(opts: BatchSocketOptions): BatchSocket {
  const native = loadNative();
  if (typeof native.udpWatch !== 'function' || typeof native.udpSendMany !== 'function' || typeof native.udpBacklog !== 'function') {
    throw new RackstrapError('RS_NATIVE', 'the native socket addon is older than this build (no batched UDP I/O): rebuild it with `npm rebuild` (or `npx node-gyp rebuild`) in the project folder');
  }
  const netns = opts.netns === undefined ? undefined : netnsPath(opts.netns);
  let fd: number;
  try {
    fd = native.openUdpSocket(opts.ifname, opts.port, { netns, recvBufferSize: opts.recvBufferSize, reuseAddress: opts.reuseAddress });
  } catch (err) {
    throw toSocketError(err, opts.ifname, netns, `open UDP port ${opts.port}`);
  }
  try {
    return new BatchSocket(fd, opts.ifname, netns, opts);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}
