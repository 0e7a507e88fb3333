// The RFC 2131 client state machine (§4.4, figure 5) as one pure function:
// transition(state, event, ctx) → { state, actions }. No sockets, no clocks: time comes in as
// ctx.now, randomness as ctx.random, and what to do comes out as actions the driver performs
// (client.ts). Protocol surprises (foreign xid, NAK from another server, replies while BOUND) are
// logged and ignored, never thrown (house style, after systemd's sd-dhcp-client).

import { MESSAGE_TYPE, OPTION, messageTypeName, type DhcpMessage } from '../dhcp-packet/index.js';
import { leaseFromAck, rebindAt, renewAt, type DhcpLease } from './lease.js';
import {
  BROADCAST_ADDRESS, foreignReason, hex32, makeDecline, makeDiscover, makeRelease, makeRequest,
  type ClientIdentity, type RequestKind,
} from './messages.js';
import type { LogLevel } from './log.js';
import { renewRetransmitDelay, retransmitDelay, type TimingConfig } from './timing.js';

export type ClientState =
  | 'init' | 'selecting' | 'requesting' | 'bound' | 'renewing' | 'rebinding' | 'init-reboot' | 'rebooting' | 'stopped';

export type TimerName =
  /** Resend the current message (per state; cancelled on every state change). */
  | 'retransmit'
  /** Leave INIT with a DISCOVER (after a DECLINE or repeated NAKs; per state). */
  | 'restart'
  /** Lease timers (RFC 2131 §4.4.5), kept across BOUND/RENEWING/REBINDING. */
  | 't1' | 't2' | 'expiry';

export interface MachineState {
  name: ClientState;
  /** xid of the exchange in progress (RFC 2131 §2); replies with another are not ours. */
  xid: number;
  /** Messages sent in this state: reset by every state change (systemd's per-state counter). */
  attempt: number;
  /** When the current exchange began (ms): the `secs` field counts from it. */
  exchangeStart: number;
  /** When the first REQUEST of the current exchange went out (ms): lease times count from it (RFC 2131 §4.4.1). */
  requestedAt: number;
  /** The OFFER chosen in SELECTING. */
  offer?: { address: string; serverId: string };
  /** The address asked for in INIT-REBOOT. */
  rebootAddress?: string;
  /** The lease held (BOUND, RENEWING, REBINDING). */
  lease?: DhcpLease;
  /** An ACKed lease waiting for the agent's address-in-use check. */
  pending?: DhcpLease;
  /** NAKs in a row, for the restart backoff; not per state: only a new lease clears it. */
  naks: number;
}

export interface MachineConfig {
  identity: ClientIdentity;
  /** Option 61 text, for the lease and logs. */
  identifier: string;
  interface: string;
  timing: TimingConfig;
  /** Ask the driver to check an ACKed address before binding (RFC 2131 §4.4.1 "SHOULD probe"). */
  checkAddress: boolean;
  /**
   * Judges what an OFFER or ACK would have the client take (pure): a reason to refuse it, or
   * undefined. A refused reply is ignored as if never received (the client keeps waiting for
   * another server) and reported as an `unverified` event. The agent holding the cluster key
   * refuses every address its signed topology does not vouch for.
   */
  verifyReply?: (reply: DhcpMessage) => string | undefined;
}

export interface MachineContext {
  config: MachineConfig;
  /** Clock time, ms. */
  now: number;
  /** A uniform draw in [0, 1) for xids and jitter; called as many times as needed. */
  random: () => number;
}

export type MachineEvent =
  | { kind: 'start'; cachedAddress?: string }
  | { kind: 'stop'; release: boolean }
  | { kind: 'timer'; timer: TimerName }
  | { kind: 'reply'; message: DhcpMessage; from: string }
  /** Result of the check the `check-address` action asked for. */
  | { kind: 'address-checked'; inUse: boolean }
  /** The agent found the held address in use by another host. */
  | { kind: 'decline' }
  /** The agent wants a RENEW now (e.g. to fetch a newer configuration). */
  | { kind: 'renew' };

export type ClientEvent =
  | { event: 'bound'; lease: DhcpLease }
  | { event: 'renewed'; lease: DhcpLease }
  | { event: 'changed'; lease: DhcpLease; previous: DhcpLease }
  | { event: 'expired'; lease: DhcpLease }
  | { event: 'nak'; lease?: DhcpLease; address?: string; serverId?: string; message?: string }
  | { event: 'declined'; address: string; serverId: string }
  /** An OFFER or ACK that verifyReply refused: ignored, reported (a rogue or misconfigured server). */
  | { event: 'unverified'; type: 'OFFER' | 'ACK'; address: string; serverId: string | undefined; from: string; reason: string };

export type Action =
  | { kind: 'send'; message: DhcpMessage; to: string }
  | { kind: 'set-timer'; timer: TimerName; at: number }
  | { kind: 'cancel-timer'; timer: TimerName }
  | { kind: 'check-address'; lease: DhcpLease }
  | { kind: 'emit'; event: ClientEvent }
  | { kind: 'log'; level: LogLevel; message: string };

export interface Transition {
  state: MachineState;
  actions: Action[];
}

const LEASE_TIMERS: readonly TimerName[] = ['t1', 't2', 'expiry'];

export function initialState(): MachineState {
  return { name: 'stopped', xid: 0, attempt: 0, exchangeStart: 0, requestedAt: 0, naks: 0 };
}

function newXid(ctx: MachineContext): number {
  return Math.floor(ctx.random() * 0x1_0000_0000) >>> 0;
}

function log(level: LogLevel, message: string): Action {
  return { kind: 'log', level, message };
}

/**
 * The one place the state changes: logs `a -> b`, resets the per-state counter and cancels the
 * per-state timers. Lease timers are the caller's business (they outlive BOUND → RENEWING).
 */
function setState(s: MachineState, name: ClientState, actions: Action[], patch: Partial<MachineState> = {}): MachineState {
  actions.push(log('debug', `${s.name} -> ${name}`));
  actions.push({ kind: 'cancel-timer', timer: 'retransmit' }, { kind: 'cancel-timer', timer: 'restart' });
  return { ...s, ...patch, name, attempt: 0 };
}

function secs(s: MachineState, ctx: MachineContext): number {
  return (ctx.now - s.exchangeStart) / 1000;
}

function cancelLeaseTimers(actions: Action[]): void {
  for (const timer of LEASE_TIMERS) actions.push({ kind: 'cancel-timer', timer });
}

/** Drops everything about the held lease from the state. */
function withoutLease(s: MachineState): MachineState {
  const { lease: _l, pending: _p, offer: _o, rebootAddress: _r, ...rest } = s;
  return rest;
}

// ---- sending, with the retransmission timer each send arms ----

/** Sends the DISCOVER or REQUEST of the current state and arms the RFC 2131 §4.1 backoff. */
function sendWithBackoff(s: MachineState, ctx: MachineContext, actions: Action[], message: DhcpMessage): MachineState {
  actions.push({ kind: 'send', message, to: BROADCAST_ADDRESS });
  actions.push({ kind: 'set-timer', timer: 'retransmit', at: ctx.now + retransmitDelay(s.attempt, ctx.config.timing, ctx.random()) });
  return { ...s, attempt: s.attempt + 1 };
}

/** INIT → SELECTING: a fresh xid and a DISCOVER. */
function discover(s: MachineState, ctx: MachineContext, actions: Action[]): MachineState {
  const init = s.name === 'init' ? s : setState(s, 'init', actions);
  const xid = newXid(ctx);
  const next = setState(withoutLease(init), 'selecting', actions, { xid, exchangeStart: ctx.now });
  actions.push(log('debug', `DISCOVER xid 0x${hex32(xid)}`));
  return sendWithBackoff(next, ctx, actions, makeDiscover(ctx.config.identity, { xid, secs: 0 }));
}

function requestKind(s: MachineState): RequestKind | undefined {
  switch (s.name) {
    case 'requesting':
      return s.offer && { kind: 'selecting', ...s.offer };
    case 'rebooting':
      return s.rebootAddress === undefined ? undefined : { kind: 'init-reboot', address: s.rebootAddress };
    case 'renewing':
      return s.lease && { kind: 'renewing', address: s.lease.address };
    case 'rebinding':
      return s.lease && { kind: 'rebinding', address: s.lease.address };
    default:
      return undefined;
  }
}

/** (Re)sends the REQUEST of REQUESTING/REBOOTING/RENEWING/REBINDING and arms its next retransmission. */
function sendRequest(s: MachineState, ctx: MachineContext, actions: Action[]): MachineState {
  const kind = requestKind(s);
  if (kind === undefined) return s; // unreachable by construction; the driver logs nothing to send
  const message = makeRequest(ctx.config.identity, { xid: s.xid, secs: secs(s, ctx) }, kind);
  const first = s.attempt === 0 ? { requestedAt: ctx.now } : {};
  if (s.name === 'requesting' || s.name === 'rebooting') return sendWithBackoff({ ...s, ...first }, ctx, actions, message);

  // RENEWING unicasts to the server that granted the lease; REBINDING asks anyone (RFC 2131 §4.4.5).
  const lease = s.lease as DhcpLease;
  const to = s.name === 'renewing' ? lease.serverId : BROADCAST_ADDRESS;
  actions.push({ kind: 'send', message, to });
  const deadline = s.name === 'renewing' ? rebindAt(lease) : (lease.expiresAt ?? Infinity);
  const wait = renewRetransmitDelay(ctx.now, deadline, ctx.config.timing);
  if (wait !== undefined) actions.push({ kind: 'set-timer', timer: 'retransmit', at: ctx.now + wait });
  return { ...s, ...first, attempt: s.attempt + 1 };
}

/** BOUND → RENEWING (T1, or the agent asked) or → REBINDING (T2): a fresh xid and a REQUEST. */
function startRefresh(s: MachineState, ctx: MachineContext, actions: Action[], to: 'renewing' | 'rebinding'): MachineState {
  const xid = newXid(ctx);
  const next = setState(s, to, actions, { xid, exchangeStart: ctx.now });
  return sendRequest(next, ctx, actions);
}

// ---- outcomes ----

/** A new or refreshed lease: BOUND with its timers, and the event the agent acts on. */
function bind(s: MachineState, ctx: MachineContext, actions: Action[], lease: DhcpLease): MachineState {
  const previous = s.lease;
  const { pending: _p, offer: _o, rebootAddress: _r, ...rest } = s;
  const next = setState(rest, 'bound', actions, { lease, naks: 0 });
  cancelLeaseTimers(actions);
  if (lease.expiresAt !== null) {
    actions.push({ kind: 'set-timer', timer: 't1', at: renewAt(lease) });
    actions.push({ kind: 'set-timer', timer: 't2', at: rebindAt(lease) });
    actions.push({ kind: 'set-timer', timer: 'expiry', at: lease.expiresAt });
  }
  const life = lease.expiresAt === null ? 'infinite lease' : `${lease.leaseTime} s, T1 ${lease.t1} s, T2 ${lease.t2} s`;
  actions.push(log('debug', `${lease.address}/${lease.prefixLength} from ${lease.serverId} (${life})`));
  if (previous === undefined) actions.push({ kind: 'emit', event: { event: 'bound', lease } });
  else if (previous.address !== lease.address) actions.push({ kind: 'emit', event: { event: 'changed', lease, previous } });
  else actions.push({ kind: 'emit', event: { event: 'renewed', lease } });
  return next;
}

/** An ACK in REQUESTING/REBOOTING: bind now, or first let the agent check the address. */
function accept(s: MachineState, ctx: MachineContext, actions: Action[], lease: DhcpLease): MachineState {
  if (!ctx.config.checkAddress) return bind(s, ctx, actions, lease);
  actions.push({ kind: 'cancel-timer', timer: 'retransmit' });
  actions.push({ kind: 'check-address', lease });
  return { ...s, pending: lease };
}

/** DECLINE (RFC 2131 §3.1 step 5): tell the server, forget the address, DISCOVER again after a wait. */
function decline(s: MachineState, ctx: MachineContext, actions: Action[], lease: DhcpLease): MachineState {
  actions.push(log('warn', `${lease.address} is in use by another host: DECLINE to ${lease.serverId}`));
  actions.push({ kind: 'send', message: makeDecline(ctx.config.identity, { xid: s.xid, secs: 0 }, lease.address, lease.serverId), to: BROADCAST_ADDRESS });
  actions.push({ kind: 'emit', event: { event: 'declined', address: lease.address, serverId: lease.serverId } });
  cancelLeaseTimers(actions);
  const next = setState(withoutLease(s), 'init', actions);
  actions.push({ kind: 'set-timer', timer: 'restart', at: ctx.now + ctx.config.timing.declineRestartMs });
  return next;
}

/** NAK (RFC 2131 §4.4.1, §3.2 step 4): the address is gone; start over, backing off when NAKs repeat. */
function nak(s: MachineState, ctx: MachineContext, actions: Action[], reply: DhcpMessage): MachineState {
  const serverId = reply.options.get(OPTION.SERVER_ID);
  const text = reply.options.get(OPTION.MESSAGE);
  const address = s.lease?.address ?? s.offer?.address ?? s.rebootAddress;
  actions.push(log('warn', `NAK in ${s.name} from ${serverId ?? 'a server without id'}${address ? ` for ${address}` : ''}${text ? `: ${text}` : ''}`));
  const event: ClientEvent = { event: 'nak' };
  if (s.lease) event.lease = s.lease;
  if (address !== undefined) event.address = address;
  if (serverId !== undefined) event.serverId = serverId;
  if (text !== undefined) event.message = text;
  actions.push({ kind: 'emit', event });
  cancelLeaseTimers(actions);
  const naks = s.naks + 1;
  const init = setState(withoutLease(s), 'init', actions, { naks });
  // A server that NAKs every REQUEST would make an immediate restart a packet storm (systemd backs off too).
  if (naks <= 1) return discover(init, ctx, actions);
  actions.push({ kind: 'set-timer', timer: 'restart', at: ctx.now + retransmitDelay(naks - 2, ctx.config.timing, ctx.random()) });
  return init;
}

/** The lease ran out (RFC 2131 §4.4.5): the agent removes the address; DISCOVER at once. */
function expire(s: MachineState, ctx: MachineContext, actions: Action[]): MachineState {
  const lease = s.lease;
  if (lease === undefined) return s;
  actions.push(log('warn', `lease on ${lease.address} expired`));
  actions.push({ kind: 'emit', event: { event: 'expired', lease } });
  cancelLeaseTimers(actions);
  return discover(setState(withoutLease(s), 'init', actions), ctx, actions);
}

/** Stop: RELEASE first when asked and an address is held (RFC 2131 §4.4.6), then nothing more. */
function stop(s: MachineState, ctx: MachineContext, actions: Action[], release: boolean): MachineState {
  const lease = s.lease;
  if (release && lease !== undefined) {
    actions.push(log('info', `RELEASE ${lease.address} to ${lease.serverId}`));
    actions.push({ kind: 'send', message: makeRelease(ctx.config.identity, { xid: newXid(ctx), secs: 0 }, lease.address, lease.serverId), to: lease.serverId });
  }
  cancelLeaseTimers(actions);
  return setState(release ? withoutLease(s) : s, 'stopped', actions, { xid: 0 });
}

// ---- replies ----

/** Why a reply that is ours is still no answer in this state (wrong type, wrong server), or undefined. */
function unexpected(s: MachineState, reply: DhcpMessage): string | undefined {
  const type = reply.options.get(OPTION.MESSAGE_TYPE);
  const name = messageTypeName(type ?? 0);
  const serverId = reply.options.get(OPTION.SERVER_ID);
  switch (s.name) {
    case 'selecting':
      if (type !== MESSAGE_TYPE.OFFER) return `${name} while selecting`;
      if (reply.yiaddr === '0.0.0.0') return 'OFFER without an address';
      if (serverId === undefined) return 'OFFER without a server identifier (option 54)';
      return undefined;
    case 'requesting':
    case 'renewing': {
      if (type !== MESSAGE_TYPE.ACK && type !== MESSAGE_TYPE.NAK) return `${name} while ${s.name}`;
      // REQUESTING names one server (option 54); RENEWING talks to the lease's server (RFC 2131 §4.3.2).
      const expected = s.name === 'requesting' ? s.offer?.serverId : s.lease?.serverId;
      if (serverId !== undefined && serverId !== expected) return `${name} from server ${serverId}, not the chosen ${expected}`;
      return undefined;
    }
    case 'rebooting':
    case 'rebinding':
      // Any server may answer these broadcasts.
      return type === MESSAGE_TYPE.ACK || type === MESSAGE_TYPE.NAK ? undefined : `${name} while ${s.name}`;
    default:
      return `${name} while ${s.name}`;
  }
}

function onReply(s: MachineState, ctx: MachineContext, actions: Action[], reply: DhcpMessage, from: string): MachineState {
  const foreign = foreignReason(reply, s.xid, ctx.config.identity) ?? unexpected(s, reply);
  if (foreign !== undefined) {
    actions.push(log('debug', `ignored from ${from}: ${foreign}`));
    return s;
  }
  if (s.pending !== undefined) {
    actions.push(log('debug', `ignored from ${from}: already checking ${s.pending.address}`));
    return s;
  }
  const type = reply.options.get(OPTION.MESSAGE_TYPE);
  if (type !== MESSAGE_TYPE.NAK && ctx.config.verifyReply !== undefined) {
    const reason = ctx.config.verifyReply(reply);
    if (reason !== undefined) {
      const what = type === MESSAGE_TYPE.OFFER ? 'OFFER' : 'ACK';
      const serverId = reply.options.get(OPTION.SERVER_ID);
      actions.push(log('warn', `refused ${what} of ${reply.yiaddr} from ${serverId ?? from}: ${reason}`));
      actions.push({ kind: 'emit', event: { event: 'unverified', type: what, address: reply.yiaddr, serverId, from, reason } });
      return s;
    }
  }
  if (s.name === 'selecting') {
    const offer = { address: reply.yiaddr, serverId: reply.options.get(OPTION.SERVER_ID) as string };
    actions.push(log('debug', `OFFER ${offer.address} from ${offer.serverId}`));
    return sendRequest(setState(s, 'requesting', actions, { offer }), ctx, actions);
  }
  if (type === MESSAGE_TYPE.NAK) return nak(s, ctx, actions, reply);

  const got = leaseFromAck(reply, {
    identifier: ctx.config.identifier,
    interface: ctx.config.interface,
    requestedAt: s.requestedAt,
    ...(s.offer ? { fallbackServerId: s.offer.serverId } : s.lease ? { fallbackServerId: s.lease.serverId } : {}),
  });
  if (!got.ok) {
    actions.push(log('warn', `ignored ACK from ${from}: ${got.reason}`));
    return s;
  }
  for (const w of got.warnings) actions.push(log('warn', w));
  if (s.name === 'requesting' || s.name === 'rebooting') return accept(s, ctx, actions, got.lease);
  return bind(s, ctx, actions, got.lease);
}

// ---- the table ----

function ignored(s: MachineState, e: MachineEvent, actions: Action[]): MachineState {
  const what = e.kind === 'timer' ? `timer ${e.timer}` : e.kind;
  actions.push(log('debug', `ignored ${what} in ${s.name}`));
  return s;
}

function step(s: MachineState, e: MachineEvent, ctx: MachineContext, actions: Action[]): MachineState {
  if (e.kind === 'stop') return s.name === 'stopped' ? ignored(s, e, actions) : stop(s, ctx, actions, e.release);
  if (e.kind === 'reply' && s.name !== 'stopped') return onReply(s, ctx, actions, e.message, e.from);

  switch (s.name) {
    case 'stopped':
      if (e.kind !== 'start') return ignored(s, e, actions);
      if (e.cachedAddress === undefined) return discover(s, ctx, actions);
      {
        // INIT-REBOOT (RFC 2131 §3.2): ask for the remembered address straight away.
        const reboot = setState(s, 'init-reboot', actions, { rebootAddress: e.cachedAddress });
        const next = setState(reboot, 'rebooting', actions, { xid: newXid(ctx), exchangeStart: ctx.now });
        return sendRequest(next, ctx, actions);
      }

    case 'init':
      return e.kind === 'timer' && e.timer === 'restart' ? discover(s, ctx, actions) : ignored(s, e, actions);

    case 'init-reboot':
      // Passed through within one transition (stopped → init-reboot → rebooting): nothing waits here.
      return ignored(s, e, actions);

    case 'selecting':
      if (e.kind === 'timer' && e.timer === 'retransmit') {
        // RFC 2131 §4.1: keep the xid, keep backing off, forever (the cap bounds the rate).
        return sendWithBackoff(s, ctx, actions, makeDiscover(ctx.config.identity, { xid: s.xid, secs: secs(s, ctx) }));
      }
      return ignored(s, e, actions);

    case 'requesting':
    case 'rebooting':
      if (e.kind === 'timer' && e.timer === 'retransmit') {
        if (s.pending !== undefined) return ignored(s, e, actions);
        if (s.attempt >= ctx.config.timing.requestTries) {
          actions.push(log('warn', `no ACK or NAK after ${s.attempt} REQUESTs in ${s.name}: restarting`));
          return discover(setState(withoutLease(s), 'init', actions), ctx, actions);
        }
        return sendRequest(s, ctx, actions);
      }
      if (e.kind === 'address-checked' && s.pending !== undefined) {
        return e.inUse ? decline(s, ctx, actions, s.pending) : bind(s, ctx, actions, s.pending);
      }
      return ignored(s, e, actions);

    case 'bound':
      if (e.kind === 'timer') {
        if (e.timer === 't1') return startRefresh(s, ctx, actions, 'renewing');
        if (e.timer === 't2') return startRefresh(s, ctx, actions, 'rebinding');
        if (e.timer === 'expiry') return expire(s, ctx, actions);
        return ignored(s, e, actions);
      }
      if (e.kind === 'renew') return startRefresh(s, ctx, actions, 'renewing');
      if (e.kind === 'decline' && s.lease) return decline(s, ctx, actions, s.lease);
      return ignored(s, e, actions);

    case 'renewing':
    case 'rebinding':
      if (e.kind === 'timer') {
        if (e.timer === 'retransmit') return sendRequest(s, ctx, actions);
        if (e.timer === 't2' && s.name === 'renewing') return startRefresh(s, ctx, actions, 'rebinding');
        if (e.timer === 'expiry') return expire(s, ctx, actions);
        return ignored(s, e, actions);
      }
      if (e.kind === 'decline' && s.lease) return decline(s, ctx, actions, s.lease);
      return ignored(s, e, actions);

    default: {
      const never: never = s.name;
      throw new TypeError(`unknown client state ${String(never)}`);
    }
  }
}

/** One step of the client: the next state and what the driver must do, in order. */
export function transition(state: MachineState, event: MachineEvent, ctx: MachineContext): Transition {
  const actions: Action[] = [];
  const next = step(state, event, ctx, actions);
  return { state: next, actions };
}
