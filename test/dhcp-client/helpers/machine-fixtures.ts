// Building blocks for driving the pure state machine: a client identity, replies a server would
// send, and a way to walk the machine into any state.

import {
  createMessage, MESSAGE_TYPE, OP, OPTION, textClientId,
  type AnyOptionValue, type DhcpMessage, type MessageType,
} from '../../../src/dhcp-packet/index.js';
import {
  initialState, transition, type Action, type ClientEvent, type MachineConfig, type MachineContext, type MachineEvent,
  type MachineState, type TimerName, type Transition,
} from '../../../src/dhcp-client/machine.js';
import { resolveTiming, type TimingConfig } from '../../../src/dhcp-client/timing.js';

export const CHADDR = Buffer.from('020000000101', 'hex');
export const IDENTIFIER = '00:07:34:04:12:0E:mgmt0:Filer1';
export const SERVER = '10.0.0.1';
export const OTHER_SERVER = '10.0.0.9';
export const ADDRESS = '10.0.0.50';
export const LEASE_S = 3600;
export const T0 = 1_000_000;

export function config(over: { timing?: Partial<TimingConfig>; checkAddress?: boolean } = {}): MachineConfig {
  return {
    identity: { chaddr: CHADDR, htype: 1, clientId: textClientId(IDENTIFIER), vendorClass: 'rackstrap' },
    identifier: IDENTIFIER,
    interface: 'mgmt0',
    timing: resolveTiming(over.timing),
    checkAddress: over.checkAddress ?? false,
  };
}

/** Draws that make every jitter zero (0.5 → 0) while xids still differ. */
export function draws(): () => number {
  let i = 0;
  // xids come from the same draws: 0.5 + tiny offsets keep jitter ~0 and xids distinct.
  return () => 0.5 + (i++ % 1000) * 1e-9;
}

export function ctx(now = T0, cfg: MachineConfig = config(), random: () => number = draws()): MachineContext {
  return { config: cfg, now, random };
}

export interface ReplyInit {
  xid: number;
  yiaddr?: string;
  serverId?: string | null;
  chaddr?: Buffer;
  op?: 1 | 2;
  clientId?: Buffer;
  options?: Array<[number, AnyOptionValue]>;
}

/** A reply as a server sends it: subnet /24, router, DNS, lease 3600 s unless overridden. */
export function reply(type: MessageType, r: ReplyInit): DhcpMessage {
  const opts: Array<[number, AnyOptionValue]> = [];
  if (r.serverId !== null) opts.push([OPTION.SERVER_ID, r.serverId ?? SERVER]);
  if (type === MESSAGE_TYPE.OFFER || type === MESSAGE_TYPE.ACK) {
    opts.push([OPTION.LEASE_TIME, LEASE_S], [OPTION.SUBNET_MASK, '255.255.255.0'], [OPTION.ROUTERS, ['10.0.0.254']]);
  }
  if (r.clientId) opts.push([OPTION.CLIENT_ID, r.clientId]);
  const msg = createMessage({
    op: r.op ?? OP.BOOTREPLY,
    type,
    xid: r.xid,
    chaddr: r.chaddr ?? CHADDR,
    yiaddr: type === MESSAGE_TYPE.NAK ? '0.0.0.0' : (r.yiaddr ?? ADDRESS),
    options: opts,
  });
  for (const [code, value] of r.options ?? []) msg.options.set(code, value);
  return msg;
}

export function replyEvent(type: MessageType, r: ReplyInit, from = SERVER): MachineEvent {
  return { kind: 'reply', message: reply(type, r), from };
}

export function sends(actions: Action[]): Array<Extract<Action, { kind: 'send' }>> {
  return actions.filter((a): a is Extract<Action, { kind: 'send' }> => a.kind === 'send');
}
export function timerSet(actions: Action[], timer: TimerName): number | undefined {
  const found = actions.filter((a): a is Extract<Action, { kind: 'set-timer' }> => a.kind === 'set-timer' && a.timer === timer);
  return found.at(-1)?.at;
}
export function emitted(actions: Action[]): ClientEvent[] {
  return actions.filter((a): a is Extract<Action, { kind: 'emit' }> => a.kind === 'emit').map((a) => a.event);
}
export function logs(actions: Action[]): string[] {
  return actions.filter((a): a is Extract<Action, { kind: 'log' }> => a.kind === 'log').map((a) => `${a.level}: ${a.message}`);
}

/** A recorded walk: each step's transition, with the state carried along. */
export class Walk {
  state: MachineState = initialState();
  now = T0;
  last: Transition = { state: this.state, actions: [] };
  readonly cfg: MachineConfig;
  readonly random: () => number;

  constructor(cfg: MachineConfig = config(), random: () => number = draws()) {
    this.cfg = cfg;
    this.random = random;
  }

  step(event: MachineEvent, at = this.now): Transition {
    this.now = at;
    this.last = transition(this.state, event, ctx(at, this.cfg, this.random));
    this.state = this.last.state;
    return this.last;
  }

  /** The exchange's reply of `type`, from `serverId`. */
  answer(type: MessageType, extra: Omit<ReplyInit, 'xid'> = {}, from = SERVER): Transition {
    return this.step({ kind: 'reply', message: reply(type, { xid: this.state.xid, ...extra }), from });
  }

  toSelecting(): this {
    this.step({ kind: 'start' });
    return this;
  }
  toRequesting(): this {
    this.toSelecting().answer(MESSAGE_TYPE.OFFER);
    return this;
  }
  toBound(extra: Omit<ReplyInit, 'xid'> = {}): this {
    this.toRequesting().answer(MESSAGE_TYPE.ACK, extra);
    return this;
  }
  toRenewing(): this {
    this.toBound().step({ kind: 'timer', timer: 't1' }, T0 + (LEASE_S / 2) * 1000);
    return this;
  }
  toRebinding(): this {
    this.toRenewing().step({ kind: 'timer', timer: 't2' }, T0 + LEASE_S * 0.875 * 1000);
    return this;
  }
  toRebooting(address = ADDRESS): this {
    this.step({ kind: 'start', cachedAddress: address });
    return this;
  }
  /** INIT waiting for its restart timer: after a DECLINE. */
  toInitWaiting(): this {
    this.toBound().step({ kind: 'decline' });
    return this;
  }
}
