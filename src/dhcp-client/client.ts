// The driver around the pure state machine (machine.ts): feeds it replies, timer expiries and the
// agent's requests, and performs the actions it returns: sends through the Transport, arms timers
// on the Clock, runs the address check, emits lease events. One client = one identifier on one
// interface; several clients share an interface's transport (transport.ts).

import { EventEmitter } from 'node:events';
import { textClientId, type DhcpMessage } from '../dhcp-packet/index.js';
import { RackstrapError } from '../errors.js';
import { secureRandom, systemClock, type Clock, type Timer } from './clock.js';
import type { DhcpLease } from './lease.js';
import { silentLog, type LogFn } from './log.js';
import {
  initialState, transition, type Action, type ClientEvent, type ClientState, type MachineConfig, type MachineEvent,
  type MachineState, type TimerName,
} from './machine.js';
import { resolveTiming, type TimingConfig } from './timing.js';
import { defaultTransportPool, type SharedTransport, type Transport, type TransportPool } from './transport.js';

export interface DhcpClientOptions {
  /** Option 61 text (seed 003 §5.2.6.3), e.g. `00:07:34:04:12:0E:mgmt0:Filer1`. */
  identifier: string;
  /** Option 60 (RFC 2132 §9.13). */
  vendorClass: string;
  /** Put a 0 type byte before the identifier text (RFC 2132 §9.14); default raw text. */
  clientIdTypeByte?: boolean;
  /** RFC 2131 timing with overrides; `{ retransmitBaseMs: 250 }` suits a LAN. */
  timing?: Partial<TimingConfig>;
  /**
   * Checks an ACKed address before it is used (e.g. an ARP probe, RFC 2131 §4.4.1 / RFC 5227):
   * resolve true when another host has it, and the client DECLINEs it. A check that throws
   * counts as "not in use" (and is logged): a broken probe must not keep a filer off the network.
   */
  checkAddress?: (lease: DhcpLease) => boolean | Promise<boolean>;
  /** Refuses OFFERs and ACKs (machine.ts MachineConfig.verifyReply); refused ones raise `unverified`. */
  verifyReply?: (reply: DhcpMessage) => string | undefined;
  log?: LogFn;
  clock?: Clock;
  /** Uniform draws in [0, 1) for xids and jitter; default the system CSPRNG. */
  random?: () => number;
}

export interface ClientEvents {
  bound: [lease: DhcpLease];
  renewed: [lease: DhcpLease];
  /** The address changed on a renew or rebind: remove `previous.address`, add `lease.address`. */
  changed: [lease: DhcpLease, previous: DhcpLease];
  /** The lease ran out: remove its address. The client is already asking again. */
  expired: [lease: DhcpLease];
  /** A server refused the address; `lease` is set when one was held (remove its address). */
  nak: [info: Extract<ClientEvent, { event: 'nak' }>];
  declined: [info: Extract<ClientEvent, { event: 'declined' }>];
  /** An OFFER or ACK verifyReply refused (ignored; the client keeps asking). */
  unverified: [info: Extract<ClientEvent, { event: 'unverified' }>];
  state: [from: ClientState, to: ClientState];
}

export class DhcpClient extends EventEmitter<ClientEvents> {
  readonly identifier: string;
  readonly ifname: string;
  readonly #transport: Transport;
  readonly #config: MachineConfig;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: LogFn;
  readonly #checkAddress: DhcpClientOptions['checkAddress'];
  readonly #timers = new Map<TimerName, Timer>();
  readonly #sends = new Set<Promise<void>>();
  readonly #queue: MachineEvent[] = [];
  #state: MachineState = initialState();
  #unsubscribe: (() => void) | undefined;
  #running = false;
  #onStop: (() => Promise<void>) | undefined;
  /** The transport was given back by stop(): this client cannot start again. */
  #released = false;

  constructor(opts: DhcpClientOptions & { transport: Transport; onStop?: () => Promise<void> }) {
    super();
    this.identifier = opts.identifier;
    this.ifname = opts.transport.ifname;
    this.#transport = opts.transport;
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? secureRandom;
    const log = opts.log ?? silentLog;
    this.#log = (level, line) => log(level, `${this.ifname} ${this.identifier}: ${line}`);
    this.#checkAddress = opts.checkAddress;
    this.#onStop = opts.onStop;
    this.#config = {
      identity: {
        chaddr: opts.transport.hardware.chaddr,
        htype: opts.transport.hardware.htype,
        clientId: textClientId(opts.identifier, { typeByte: opts.clientIdTypeByte ?? false }),
        vendorClass: opts.vendorClass,
      },
      identifier: opts.identifier,
      interface: opts.transport.ifname,
      timing: resolveTiming(opts.timing),
      checkAddress: opts.checkAddress !== undefined,
      ...(opts.verifyReply === undefined ? {} : { verifyReply: opts.verifyReply }),
    };
  }

  get state(): ClientState {
    return this.#state.name;
  }

  /** The lease held (BOUND, RENEWING, REBINDING), if any. */
  get lease(): DhcpLease | undefined {
    return this.#state.lease;
  }

  /**
   * Starts asking: DISCOVER, or with `cachedAddress` INIT-REBOOT (RFC 2131 §3.2) for the address
   * the agent remembers. Only from stopped. A client built on a transport may start again after
   * stop(); one from openDhcpClient gave its socket back in stop() and cannot.
   */
  start(opts: { cachedAddress?: string } = {}): void {
    if (this.#released) throw new RackstrapError('RS_DHCP_CLIENT', `${this.ifname} ${this.identifier}: stopped for good (its socket was released); open a new client`);
    if (this.#state.name !== 'stopped') throw new RackstrapError('RS_DHCP_CLIENT', `${this.ifname} ${this.identifier}: already started (${this.#state.name})`);
    if (this.#unsubscribe === undefined) {
      this.#unsubscribe = this.#transport.subscribe({
        accepts: (xid) => this.#state.name !== 'stopped' && xid === this.#state.xid,
        deliver: (message, from) => this.#dispatch({ kind: 'reply', message, from: from.address }),
      });
    }
    this.#dispatch(opts.cachedAddress === undefined ? { kind: 'start' } : { kind: 'start', cachedAddress: opts.cachedAddress });
  }

  /**
   * Stops every timer and exchange. With `release`, a held address is given back first
   * (RELEASE, RFC 2131 §4.4.6) and forgotten; the agent removes it from the interface. Resolves
   * when what was being sent has gone out and the transport is let go.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (this.#state.name !== 'stopped') this.#dispatch({ kind: 'stop', release: opts.release ?? false });
    // Called from an event listener, the stop is queued behind the running transition, which
    // finishes synchronously: one microtask later its RELEASE is among the sends.
    await Promise.resolve();
    await Promise.allSettled([...this.#sends]);
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    const onStop = this.#onStop;
    this.#onStop = undefined;
    if (onStop) {
      this.#released = true;
      await onStop();
    }
  }

  /** Renew now (from BOUND), e.g. to fetch a newer configuration generation. */
  renew(): void {
    this.#dispatch({ kind: 'renew' });
  }

  /** The held address turned out to be in use by another host: DECLINE it and start over. */
  decline(): void {
    this.#dispatch({ kind: 'decline' });
  }

  /** Feeds one event through the machine. Events raised while actions run (a listener calling
   *  stop(), a timer firing inside a send) queue up and run after, in order. */
  #dispatch(event: MachineEvent): void {
    this.#queue.push(event);
    if (this.#running) return;
    this.#running = true;
    try {
      for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
        const before = this.#state.name;
        const { state, actions } = transition(this.#state, next, { config: this.#config, now: this.#clock.now(), random: this.#random });
        this.#state = state;
        for (const action of actions) this.#perform(action);
        if (before !== state.name) this.emit('state', before, state.name);
      }
    } finally {
      this.#running = false;
    }
  }

  #perform(action: Action): void {
    switch (action.kind) {
      case 'send':
        this.#send(action.message, action.to);
        return;
      case 'set-timer': {
        this.#timers.get(action.timer)?.cancel();
        const timer = this.#clock.setTimer(action.at, () => {
          this.#timers.delete(action.timer);
          this.#dispatch({ kind: 'timer', timer: action.timer });
        });
        this.#timers.set(action.timer, timer);
        return;
      }
      case 'cancel-timer':
        this.#timers.get(action.timer)?.cancel();
        this.#timers.delete(action.timer);
        return;
      case 'check-address':
        this.#check(action.lease);
        return;
      case 'emit':
        this.#emitEvent(action.event);
        return;
      case 'log':
        this.#log(action.level, action.message);
        return;
      default: {
        const never: never = action;
        throw new TypeError(`unknown action ${JSON.stringify(never)}`);
      }
    }
  }

  #send(message: DhcpMessage, to: string): void {
    const sending = this.#transport.send(message, to).catch((err: unknown) => {
      // RENEW and RELEASE are unicast: they fail (ENETUNREACH) when the agent has not put the
      // address on the interface yet. The timers carry on to REBINDING's broadcast.
      this.#log('warn', `send to ${to} failed: ${(err as Error).message}`);
    });
    this.#sends.add(sending);
    void sending.finally(() => this.#sends.delete(sending));
  }

  #check(lease: DhcpLease): void {
    const hook = this.#checkAddress;
    if (hook === undefined) return;
    Promise.resolve()
      .then(() => hook(lease))
      .catch((err: unknown) => {
        this.#log('warn', `address check for ${lease.address} failed, using the address: ${(err as Error).message}`);
        return false;
      })
      .then((inUse) => {
        // The machine ignores a result when it no longer waits for this lease (stopped, NAKed).
        if (this.#state.pending === lease) this.#dispatch({ kind: 'address-checked', inUse });
      });
  }

  #emitEvent(e: ClientEvent): void {
    switch (e.event) {
      case 'bound':
        this.emit('bound', e.lease);
        return;
      case 'renewed':
        this.emit('renewed', e.lease);
        return;
      case 'changed':
        this.emit('changed', e.lease, e.previous);
        return;
      case 'expired':
        this.emit('expired', e.lease);
        return;
      case 'nak':
        this.emit('nak', e);
        return;
      case 'declined':
        this.emit('declined', e);
        return;
      case 'unverified':
        this.emit('unverified', e);
        return;
      default: {
        const never: never = e;
        throw new TypeError(`unknown client event ${JSON.stringify(never)}`);
      }
    }
  }
}

export interface OpenDhcpClientOptions extends DhcpClientOptions {
  /** Interface to ask on (it needs no address). */
  interface: string;
  /** Network namespace of the interface (a name under /run/netns or a path). */
  netns?: string;
  /** Where the per-interface sockets come from; default the process-wide pool. */
  pool?: TransportPool;
}

/** A client on the shared socket of `opts.interface`; its stop() lets the socket go. Not started. */
export async function openDhcpClient(opts: OpenDhcpClientOptions): Promise<DhcpClient> {
  const pool = opts.pool ?? defaultTransportPool;
  const transport: SharedTransport = await pool.acquire(opts.interface, opts.netns === undefined ? {} : { netns: opts.netns });
  try {
    return new DhcpClient({ ...opts, transport, onStop: () => transport.release() });
  } catch (err) {
    await transport.release();
    throw err;
  }
}
