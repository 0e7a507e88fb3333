// The pure state machine (RFC 2131 §4.4): what each state does with each event, the messages it
// sends (table 5), its timers (§4.1 backoff, §4.4.5 T1/T2/expiry) and what it ignores.

import t from 'tap';
import { BROADCAST_FLAG, MESSAGE_TYPE, OP, OPTION, textClientId } from '../../src/dhcp-packet/index.js';
import { initialState, transition, type ClientState, type MachineEvent, type MachineState } from '../../src/dhcp-client/machine.js';
import { MAX_MESSAGE_SIZE, PARAMETER_REQUEST_LIST } from '../../src/dhcp-client/messages.js';
import {
  ADDRESS, CHADDR, config, ctx, emitted, IDENTIFIER, LEASE_S, logs, OTHER_SERVER, reply, SERVER, sends, T0, timerSet, Walk,
} from './helpers/machine-fixtures.js';

const BROADCAST = '255.255.255.255';

t.test('start: INIT -> SELECTING with a broadcast DISCOVER carrying who we are and what we ask', async (t) => {
  const w = new Walk();
  const { state, actions } = w.step({ kind: 'start' });
  t.equal(state.name, 'selecting');
  t.same(logs(actions).filter((l) => l.includes('->')), ['debug: stopped -> init', 'debug: init -> selecting'], 'setState logs each step, at debug');
  const [send, ...more] = sends(actions);
  t.equal(more.length, 0, 'one message');
  t.equal(send?.to, BROADCAST);
  const m = send!.message;
  t.equal(m.op, OP.BOOTREQUEST);
  t.equal(m.options.get(OPTION.MESSAGE_TYPE), MESSAGE_TYPE.DISCOVER);
  t.equal(m.xid, state.xid, 'xid remembered');
  t.ok(m.chaddr.equals(CHADDR), 'chaddr is the interface MAC');
  t.equal(m.flags & BROADCAST_FLAG, BROADCAST_FLAG, 'broadcast flag: no address yet');
  t.equal(m.ciaddr, '0.0.0.0');
  t.same(m.options.get(OPTION.CLIENT_ID), textClientId(IDENTIFIER), 'option 61: the identifier as raw text');
  t.equal(m.options.get(OPTION.CLIENT_ID)?.toString('latin1'), IDENTIFIER);
  t.equal(m.options.get(OPTION.VENDOR_CLASS), 'rackstrap', 'option 60');
  t.equal(m.options.get(OPTION.MAX_MESSAGE_SIZE), MAX_MESSAGE_SIZE);
  t.equal(MAX_MESSAGE_SIZE, 1500);
  t.same(m.options.get(OPTION.PARAMETER_REQUEST_LIST), [1, 3, 6, 12, 15, 28, 42, 43, 51, 54, 58, 59]);
  t.same([...PARAMETER_REQUEST_LIST], [1, 3, 6, 12, 15, 28, 42, 43, 51, 54, 58, 59]);
  t.equal(timerSet(actions, 'retransmit'), T0 + 4000, 'first retransmission after 4 s (jitter drawn as 0)');
});

t.test('every exchange gets its own random xid', async (t) => {
  const w = new Walk();
  const seen = new Set<number>();
  w.toBound();
  seen.add(w.state.xid);
  w.step({ kind: 'timer', timer: 't1' }, T0 + 1_800_000);
  seen.add(w.state.xid);
  w.step({ kind: 'timer', timer: 't2' }, T0 + 3_150_000);
  seen.add(w.state.xid);
  w.step({ kind: 'timer', timer: 'expiry' }, T0 + 3_600_000);
  seen.add(w.state.xid);
  t.equal(seen.size, 4, 'DISCOVER, RENEW, REBIND and the next DISCOVER each have a fresh xid');
  const offered = new Walk().toSelecting();
  const xid = offered.state.xid;
  offered.answer(MESSAGE_TYPE.OFFER);
  t.equal(sends(offered.last.actions)[0]?.message.xid, xid, 'the REQUEST after an OFFER keeps the DISCOVER xid');
});

t.test('retransmission backoff: 4, 8, 16, 32, 64, 64 s, each ±1 s (RFC 2131 §4.1)', async (t) => {
  for (const [draw, jitter] of [[0, -1000], [0.999999, 1000], [0.5, 0]] as const) {
    const w = new Walk(config(), () => draw);
    w.toSelecting();
    const delays: number[] = [];
    let now = w.now;
    let at = timerSet(w.last.actions, 'retransmit')!;
    delays.push(at - now);
    for (let i = 0; i < 6; i++) {
      now = at;
      w.step({ kind: 'timer', timer: 'retransmit' }, now);
      t.equal(sends(w.last.actions)[0]?.message.options.get(OPTION.MESSAGE_TYPE), MESSAGE_TYPE.DISCOVER, 'resends DISCOVER');
      t.equal(sends(w.last.actions)[0]?.message.xid, w.state.xid, 'same xid');
      at = timerSet(w.last.actions, 'retransmit')!;
      delays.push(at - now);
    }
    const expected = [4000, 8000, 16000, 32000, 64000, 64000, 64000].map((d) => d + Math.round(jitter));
    t.same(delays, expected, `draw ${draw}: jitter ${jitter} ms`);
    t.equal(w.state.name, 'selecting', 'DISCOVER goes on forever');
  }
  // secs counts from the start of the exchange.
  const w = new Walk();
  w.toSelecting();
  w.step({ kind: 'timer', timer: 'retransmit' }, T0 + 4000);
  t.equal(sends(w.last.actions)[0]?.message.secs, 4);
});

t.test('a configurable base scales the whole curve: LAN timing', async (t) => {
  const w = new Walk(config({ timing: { retransmitBaseMs: 250 } }), () => 0.999999);
  w.toSelecting();
  let now = w.now;
  const delays = [timerSet(w.last.actions, 'retransmit')! - now];
  for (let i = 0; i < 5; i++) {
    now = timerSet(w.last.actions, 'retransmit')!;
    w.step({ kind: 'timer', timer: 'retransmit' }, now);
    delays.push(timerSet(w.last.actions, 'retransmit')! - now);
  }
  // ±62.5 ms jitter (base/4), capped at 4 s (16 × base)
  t.same(delays, [312, 562, 1062, 2062, 4062, 4062]);
});

t.test('OFFER -> REQUESTING: REQUEST names the offered address and the chosen server', async (t) => {
  const w = new Walk().toSelecting();
  const { state, actions } = w.answer(MESSAGE_TYPE.OFFER, { serverId: SERVER });
  t.equal(state.name, 'requesting');
  const [send] = sends(actions);
  t.equal(send?.to, BROADCAST);
  const m = send!.message;
  t.equal(m.options.get(OPTION.MESSAGE_TYPE), MESSAGE_TYPE.REQUEST);
  t.equal(m.options.get(OPTION.REQUESTED_ADDRESS), ADDRESS, 'option 50 = offered address');
  t.equal(m.options.get(OPTION.SERVER_ID), SERVER, 'option 54 = chosen server');
  t.equal(m.ciaddr, '0.0.0.0', 'ciaddr empty while selecting');
  t.equal(m.flags & BROADCAST_FLAG, BROADCAST_FLAG);
  t.equal(m.options.get(OPTION.VENDOR_CLASS), 'rackstrap');
  t.same(m.options.get(OPTION.PARAMETER_REQUEST_LIST), [...PARAMETER_REQUEST_LIST]);
  t.equal(timerSet(actions, 'retransmit'), T0 + 4000, 'per-state counter reset: backoff starts over');
  t.equal(state.attempt, 1);
});

t.test('replies that are not ours or not expected are logged and ignored, never thrown', async (t) => {
  const w = new Walk().toSelecting();
  const xid = w.state.xid;
  const cases: Array<[string, MachineEvent, RegExp]> = [
    ['wrong xid', { kind: 'reply', message: reply(MESSAGE_TYPE.OFFER, { xid: xid ^ 1 }), from: SERVER }, /xid 0x\w+ is not ours/],
    ['wrong chaddr', { kind: 'reply', message: reply(MESSAGE_TYPE.OFFER, { xid, chaddr: Buffer.from('020000000202', 'hex') }), from: SERVER }, /chaddr 020000000202 is not ours/],
    ['a request', { kind: 'reply', message: reply(MESSAGE_TYPE.OFFER, { xid, op: OP.BOOTREQUEST }), from: SERVER }, /not a reply/],
    ['another identifier echoed', { kind: 'reply', message: reply(MESSAGE_TYPE.OFFER, { xid, clientId: textClientId('x:mgmt0:MySQLMgmtNode') }), from: SERVER }, /client identifier .* is not ours/],
    ['ACK while selecting', { kind: 'reply', message: reply(MESSAGE_TYPE.ACK, { xid }), from: SERVER }, /ACK while selecting/],
    ['OFFER without server id', { kind: 'reply', message: reply(MESSAGE_TYPE.OFFER, { xid, serverId: null }), from: SERVER }, /without a server identifier/],
    ['OFFER without address', { kind: 'reply', message: reply(MESSAGE_TYPE.OFFER, { xid, yiaddr: '0.0.0.0' }), from: SERVER }, /without an address/],
  ];
  for (const [name, event, why] of cases) {
    const before = w.state;
    const r = transition(before, event, ctx(T0 + 10));
    t.equal(r.state, before, `${name}: state untouched`);
    t.same(sends(r.actions), [], `${name}: nothing sent`);
    t.match(logs(r.actions).join('\n'), why, `${name}: logged`);
  }
  // The same identifier echoed back is fine.
  const ok = transition(w.state, { kind: 'reply', message: reply(MESSAGE_TYPE.OFFER, { xid, clientId: textClientId(IDENTIFIER) }), from: SERVER }, ctx());
  t.equal(ok.state.name, 'requesting');
});

t.test('REQUESTING: ACK from the chosen server binds; other servers are ignored', async (t) => {
  const w = new Walk().toRequesting();
  const requestedAt = w.state.requestedAt;
  const other = w.answer(MESSAGE_TYPE.ACK, { serverId: OTHER_SERVER });
  t.equal(other.state.name, 'requesting', 'ACK from a server we did not choose');
  t.match(logs(other.actions).join('\n'), /ACK from server 10\.0\.0\.9, not the chosen 10\.0\.0\.1/);
  const otherNak = w.answer(MESSAGE_TYPE.NAK, { serverId: OTHER_SERVER });
  t.equal(otherNak.state.name, 'requesting', 'NAK from another server does not drop our offer');
  t.same(emitted(otherNak.actions), []);

  const opt43 = Buffer.from('0a0568656c6c6f', 'hex');
  const { state, actions } = w.answer(MESSAGE_TYPE.ACK, {
    options: [
      [OPTION.DNS_SERVERS, ['10.0.0.53']], [OPTION.NTP_SERVERS, ['10.0.0.123', '10.0.0.124']], [OPTION.DOMAIN_NAME, 'lab.example'],
      [OPTION.HOSTNAME, 'filer1'], [OPTION.VENDOR_SPECIFIC, opt43],
    ],
  });
  t.equal(state.name, 'bound');
  const [ev] = emitted(actions);
  t.equal(ev?.event, 'bound');
  if (ev?.event !== 'bound') return;
  t.same(ev.lease, {
    identifier: IDENTIFIER, interface: 'mgmt0', address: ADDRESS, prefixLength: 24, broadcast: '10.0.0.255',
    routers: ['10.0.0.254'], dns: ['10.0.0.53'], ntp: ['10.0.0.123', '10.0.0.124'], domain: 'lab.example', hostname: 'filer1',
    serverId: SERVER, leaseTime: LEASE_S, t1: 1800, t2: 3150, obtainedAt: requestedAt, expiresAt: requestedAt + LEASE_S * 1000,
    option43: opt43,
  });
  t.equal(timerSet(actions, 't1'), requestedAt + 1_800_000, 'T1 = 0.5 × lease');
  t.equal(timerSet(actions, 't2'), requestedAt + 3_150_000, 'T2 = 0.875 × lease');
  t.equal(timerSet(actions, 'expiry'), requestedAt + 3_600_000);
  t.ok(actions.some((a) => a.kind === 'cancel-timer' && a.timer === 'retransmit'), 'retransmission stops');
});

t.test('lease times count from the first REQUEST, not from the ACK (RFC 2131 §4.4.1)', async (t) => {
  const w = new Walk().toRequesting();
  const first = w.now;
  w.step({ kind: 'timer', timer: 'retransmit' }, first + 4000);
  w.step({ kind: 'reply', message: reply(MESSAGE_TYPE.ACK, { xid: w.state.xid }), from: SERVER }, first + 5000);
  t.equal(w.state.lease?.obtainedAt, first);
  t.equal(w.state.lease?.expiresAt, first + LEASE_S * 1000);
});

t.test('server T1/T2 are used when sane, defaults otherwise; infinite leases arm no timers', async (t) => {
  const cases: Array<[string, Array<[number, number]>, number, number]> = [
    ['server values', [[OPTION.RENEWAL_TIME, 100], [OPTION.REBINDING_TIME, 200]], 100, 200],
    ['T2 beyond the lease', [[OPTION.RENEWAL_TIME, 100], [OPTION.REBINDING_TIME, 99999]], 100, 3150],
    ['T1 after T2', [[OPTION.RENEWAL_TIME, 3000], [OPTION.REBINDING_TIME, 2000]], 1800, 2000],
    ['T2 below the default T1', [[OPTION.RENEWAL_TIME, 3000], [OPTION.REBINDING_TIME, 1500]], 750, 1500],
    ['none', [], 1800, 3150],
  ];
  for (const [name, opts, t1, t2] of cases) {
    const w = new Walk().toBound({ options: opts });
    t.equal(w.state.lease?.t1, t1, `${name}: T1`);
    t.equal(w.state.lease?.t2, t2, `${name}: T2`);
    t.ok(w.state.lease!.t1 < w.state.lease!.t2 && w.state.lease!.t2 < LEASE_S, `${name}: T1 < T2 < lease`);
  }
  const inf = new Walk().toBound({ options: [[OPTION.LEASE_TIME, 0xffffffff]] });
  t.equal(inf.state.lease?.expiresAt, null);
  t.equal(timerSet(inf.last.actions, 't1'), undefined);
  t.equal(timerSet(inf.last.actions, 'expiry'), undefined);
});

t.test('an ACK lacking what a lease needs is ignored with the reason', async (t) => {
  const w = new Walk().toRequesting();
  const noLease = reply(MESSAGE_TYPE.ACK, { xid: w.state.xid });
  noLease.options.delete(OPTION.LEASE_TIME);
  const r = transition(w.state, { kind: 'reply', message: noLease, from: SERVER }, ctx());
  t.equal(r.state.name, 'requesting');
  t.match(logs(r.actions).join('\n'), /without a lease time \(option 51\)/);
  const noMask = reply(MESSAGE_TYPE.ACK, { xid: w.state.xid });
  noMask.options.delete(OPTION.SUBNET_MASK);
  const r2 = transition(w.state, { kind: 'reply', message: noMask, from: SERVER }, ctx());
  t.equal(r2.state.lease?.prefixLength, 8, '10.x without option 1: class A');
  t.match(logs(r2.actions).join('\n'), /no subnet mask/);
});

t.test('REQUESTING gives up after requestTries REQUESTs and DISCOVERs again with a new xid', async (t) => {
  const w = new Walk(config({ timing: { requestTries: 3 } })).toRequesting();
  const xid = w.state.xid;
  for (let i = 0; i < 2; i++) {
    w.step({ kind: 'timer', timer: 'retransmit' }, timerSet(w.last.actions, 'retransmit')!);
    t.equal(w.state.name, 'requesting');
    t.equal(sends(w.last.actions)[0]?.message.options.get(OPTION.MESSAGE_TYPE), MESSAGE_TYPE.REQUEST);
  }
  w.step({ kind: 'timer', timer: 'retransmit' }, timerSet(w.last.actions, 'retransmit')!);
  t.equal(w.state.name, 'selecting');
  t.not(w.state.xid, xid);
  t.equal(sends(w.last.actions)[0]?.message.options.get(OPTION.MESSAGE_TYPE), MESSAGE_TYPE.DISCOVER);
  t.match(logs(w.last.actions).join('\n'), /no ACK or NAK after 3 REQUESTs/);
});

t.test('NAK: back to INIT, address dropped, DISCOVER at once; repeated NAKs back off', async (t) => {
  const w = new Walk().toRequesting();
  const first = w.answer(MESSAGE_TYPE.NAK, { options: [[OPTION.MESSAGE, 'wrong network']] });
  t.equal(first.state.name, 'selecting', 'first NAK: DISCOVER at once');
  t.same(emitted(first.actions), [{ event: 'nak', address: ADDRESS, serverId: SERVER, message: 'wrong network' }]);
  t.equal(first.state.offer, undefined);
  w.answer(MESSAGE_TYPE.OFFER);
  const second = w.answer(MESSAGE_TYPE.NAK);
  t.equal(second.state.name, 'init', 'second NAK in a row: wait');
  t.same(sends(second.actions), []);
  const restart = timerSet(second.actions, 'restart');
  t.equal(restart, w.now + 4000);
  w.step({ kind: 'timer', timer: 'restart' }, restart);
  t.equal(w.state.name, 'selecting');
  w.answer(MESSAGE_TYPE.OFFER);
  w.answer(MESSAGE_TYPE.ACK);
  t.equal(w.state.naks, 0, 'a lease clears the NAK count');
});

t.test('BOUND: T1 -> RENEWING with a unicast REQUEST from ciaddr', async (t) => {
  const w = new Walk().toBound();
  const lease = w.state.lease!;
  const at = lease.obtainedAt + 1_800_000;
  const { state, actions } = w.step({ kind: 'timer', timer: 't1' }, at);
  t.equal(state.name, 'renewing');
  const [send] = sends(actions);
  t.equal(send?.to, SERVER, 'unicast to the server that granted the lease');
  const m = send!.message;
  t.equal(m.options.get(OPTION.MESSAGE_TYPE), MESSAGE_TYPE.REQUEST);
  t.equal(m.ciaddr, ADDRESS);
  t.notOk(m.options.has(OPTION.REQUESTED_ADDRESS), 'no option 50 while renewing');
  t.notOk(m.options.has(OPTION.SERVER_ID), 'no option 54 while renewing');
  t.equal(m.flags & BROADCAST_FLAG, 0, 'we hold an address: no broadcast flag');
  t.equal(m.options.get(OPTION.VENDOR_CLASS), 'rackstrap');
  // Half the 1350 s left to T2.
  t.equal(timerSet(actions, 'retransmit'), at + 675_000);
  t.notOk(actions.some((a) => a.kind === 'cancel-timer' && a.timer === 't2'), 'lease timers survive BOUND -> RENEWING');
});

t.test('RENEWING/REBINDING retransmit at half the time left, never under the minimum, never past the deadline', async (t) => {
  const w = new Walk().toRenewing();
  const lease = w.state.lease!;
  const t2 = lease.obtainedAt + 3_150_000;
  const waits: number[] = [];
  let now = w.now;
  for (let at = timerSet(w.last.actions, 'retransmit'); at !== undefined; at = timerSet(w.last.actions, 'retransmit')) {
    waits.push(at - now);
    now = at;
    w.step({ kind: 'timer', timer: 'retransmit' }, now);
    t.equal(sends(w.last.actions)[0]?.to, SERVER);
  }
  t.same(waits, [675_000, 337_500, 168_750, 84_375, 60_000], 'halving down to the 60 s floor');
  t.ok(now + 60_000 >= t2 - 60_000, 'stops when the next one would reach T2');
  w.step({ kind: 'timer', timer: 't2' }, t2);
  t.equal(w.state.name, 'rebinding');
  const [send] = sends(w.last.actions);
  t.equal(send?.to, BROADCAST, 'REBINDING broadcasts');
  t.equal(send?.message.ciaddr, ADDRESS);
  t.notOk(send?.message.options.has(OPTION.SERVER_ID));
  t.equal(timerSet(w.last.actions, 'retransmit'), t2 + 225_000, 'half of the 450 s left of the lease');

  // A short lease (the namespace tests): with a 0.5 s floor the retransmissions still fit.
  const fast = new Walk(config({ timing: { minRenewRetransmitMs: 500 } }));
  fast.toBound({ options: [[OPTION.LEASE_TIME, 4]] });
  fast.step({ kind: 'timer', timer: 't1' }, fast.state.lease!.obtainedAt + 2000);
  t.equal(fast.state.lease?.t2, 3, 'T2 = 0.875 × 4 s, in whole seconds');
  t.equal(timerSet(fast.last.actions, 'retransmit'), fast.now + 500, 'T1 2 s, T2 3 s: retransmit after 0.5 s');
  fast.step({ kind: 'timer', timer: 'retransmit' }, fast.now + 500);
  t.equal(timerSet(fast.last.actions, 'retransmit'), undefined, '0.5 s left: the 0.5 s floor would reach T2, so T2 takes over');
});

t.test('RENEWING: ACK renews (same address) or changes it; NAK drops it', async (t) => {
  const w = new Walk().toRenewing();
  const old = w.state.lease!;
  const renewed = w.answer(MESSAGE_TYPE.ACK);
  t.equal(renewed.state.name, 'bound');
  const [ev] = emitted(renewed.actions);
  t.equal(ev?.event, 'renewed');
  t.equal(renewed.state.lease?.obtainedAt, w.state.requestedAt);
  t.ok(renewed.state.lease!.expiresAt! > old.expiresAt!, 'expiry moves on');
  t.equal(timerSet(renewed.actions, 't1'), renewed.state.lease!.obtainedAt + 1_800_000, 'new T1');

  const c = new Walk().toRenewing();
  const changed = c.answer(MESSAGE_TYPE.ACK, { yiaddr: '10.0.0.77' });
  const [cev] = emitted(changed.actions);
  t.equal(cev?.event, 'changed');
  if (cev?.event === 'changed') {
    t.equal(cev.lease.address, '10.0.0.77');
    t.equal(cev.previous.address, ADDRESS);
  }

  const n = new Walk().toRenewing();
  const ignored = n.answer(MESSAGE_TYPE.ACK, { serverId: OTHER_SERVER });
  t.equal(ignored.state.name, 'renewing', 'RENEWING listens to its own server only');
  const nak = n.answer(MESSAGE_TYPE.NAK);
  t.equal(nak.state.name, 'selecting');
  const [nev] = emitted(nak.actions);
  t.equal(nev?.event, 'nak');
  if (nev?.event === 'nak') t.equal(nev.lease?.address, ADDRESS, 'the NAK event carries the lease to remove');
  for (const timer of ['t1', 't2', 'expiry'] as const) {
    t.ok(nak.actions.some((a) => a.kind === 'cancel-timer' && a.timer === timer), `${timer} cancelled`);
  }
});

t.test('REBINDING: any server may renew; expiry drops the address and DISCOVERs', async (t) => {
  const w = new Walk().toRebinding();
  const r = w.answer(MESSAGE_TYPE.ACK, { serverId: OTHER_SERVER }, OTHER_SERVER);
  t.equal(r.state.name, 'bound');
  t.equal(r.state.lease?.serverId, OTHER_SERVER, 'the new server is the one to renew with');
  t.equal(emitted(r.actions)[0]?.event, 'renewed');

  const e = new Walk().toRebinding();
  const lease = e.state.lease!;
  const x = e.step({ kind: 'timer', timer: 'expiry' }, lease.expiresAt!);
  t.equal(x.state.name, 'selecting');
  t.same(emitted(x.actions), [{ event: 'expired', lease }]);
  t.equal(x.state.lease, undefined);
  t.equal(sends(x.actions)[0]?.message.options.get(OPTION.MESSAGE_TYPE), MESSAGE_TYPE.DISCOVER);
  t.same(logs(x.actions).filter((l) => l.includes('->')), ['debug: rebinding -> init', 'debug: init -> selecting']);
});

t.test('INIT-REBOOT: REQUEST for the cached address; ACK binds, NAK restarts, silence falls back to DISCOVER', async (t) => {
  const w = new Walk().toRebooting('10.0.0.60');
  t.equal(w.state.name, 'rebooting');
  t.same(logs(w.last.actions).filter((l) => l.includes('->')), ['debug: stopped -> init-reboot', 'debug: init-reboot -> rebooting']);
  const m = sends(w.last.actions)[0]!.message;
  t.equal(m.options.get(OPTION.MESSAGE_TYPE), MESSAGE_TYPE.REQUEST);
  t.equal(m.options.get(OPTION.REQUESTED_ADDRESS), '10.0.0.60', 'option 50 = cached address');
  t.notOk(m.options.has(OPTION.SERVER_ID), 'no server id in INIT-REBOOT');
  t.equal(m.ciaddr, '0.0.0.0');
  t.equal(m.flags & BROADCAST_FLAG, BROADCAST_FLAG);
  const ack = w.answer(MESSAGE_TYPE.ACK, { yiaddr: '10.0.0.60', serverId: OTHER_SERVER });
  t.equal(ack.state.name, 'bound');
  t.equal(emitted(ack.actions)[0]?.event, 'bound');

  const n = new Walk().toRebooting('192.0.2.1');
  const nak = n.answer(MESSAGE_TYPE.NAK);
  t.equal(nak.state.name, 'selecting');
  t.same(emitted(nak.actions), [{ event: 'nak', address: '192.0.2.1', serverId: SERVER }]);

  const s = new Walk(config({ timing: { requestTries: 2 } })).toRebooting();
  s.step({ kind: 'timer', timer: 'retransmit' }, timerSet(s.last.actions, 'retransmit')!);
  t.equal(s.state.name, 'rebooting');
  s.step({ kind: 'timer', timer: 'retransmit' }, timerSet(s.last.actions, 'retransmit')!);
  t.equal(s.state.name, 'selecting', 'no answer to INIT-REBOOT: DISCOVER');
});

t.test('address check hook: ACK waits for it; in use -> DECLINE and a 10 s pause; free -> BOUND', async (t) => {
  const w = new Walk(config({ checkAddress: true })).toRequesting();
  const ack = w.answer(MESSAGE_TYPE.ACK);
  t.equal(ack.state.name, 'requesting');
  const check = ack.actions.find((a) => a.kind === 'check-address');
  t.ok(check, 'asks the driver to check');
  t.ok(ack.actions.some((a) => a.kind === 'cancel-timer' && a.timer === 'retransmit'), 'no REQUEST retransmission while checking');
  t.same(emitted(ack.actions), [], 'not bound yet');
  const stray = w.step({ kind: 'timer', timer: 'retransmit' });
  t.equal(stray.state.name, 'requesting');
  t.same(sends(stray.actions), []);

  const declined = w.step({ kind: 'address-checked', inUse: true });
  t.equal(declined.state.name, 'init');
  const [d] = sends(declined.actions);
  t.equal(d?.message.options.get(OPTION.MESSAGE_TYPE), MESSAGE_TYPE.DECLINE);
  t.equal(d?.message.options.get(OPTION.REQUESTED_ADDRESS), ADDRESS);
  t.equal(d?.message.options.get(OPTION.SERVER_ID), SERVER);
  t.equal(d?.message.ciaddr, '0.0.0.0');
  t.notOk(d?.message.options.has(OPTION.PARAMETER_REQUEST_LIST), 'DECLINE asks for nothing');
  t.same(emitted(declined.actions), [{ event: 'declined', address: ADDRESS, serverId: SERVER }]);
  t.equal(timerSet(declined.actions, 'restart'), w.now + 10_000, 'RFC 2131 §3.1: wait at least 10 s');
  w.step({ kind: 'timer', timer: 'restart' }, w.now + 10_000);
  t.equal(w.state.name, 'selecting');

  const ok = new Walk(config({ checkAddress: true })).toRequesting();
  ok.answer(MESSAGE_TYPE.ACK);
  const bound = ok.step({ kind: 'address-checked', inUse: false });
  t.equal(bound.state.name, 'bound');
  t.equal(emitted(bound.actions)[0]?.event, 'bound');
});

t.test('stop: RELEASE to the server when asked and an address is held', async (t) => {
  const w = new Walk().toBound();
  const r = w.step({ kind: 'stop', release: true });
  t.equal(r.state.name, 'stopped');
  const [send] = sends(r.actions);
  t.equal(send?.to, SERVER, 'unicast');
  t.equal(send?.message.options.get(OPTION.MESSAGE_TYPE), MESSAGE_TYPE.RELEASE);
  t.equal(send?.message.ciaddr, ADDRESS);
  t.equal(send?.message.options.get(OPTION.SERVER_ID), SERVER);
  t.equal(send?.message.options.get(OPTION.CLIENT_ID)?.toString('latin1'), IDENTIFIER);
  t.equal(r.state.lease, undefined, 'released: forgotten');
  for (const timer of ['t1', 't2', 'expiry', 'retransmit', 'restart'] as const) {
    t.ok(r.actions.some((a) => a.kind === 'cancel-timer' && a.timer === timer), `${timer} cancelled`);
  }
  const quiet = new Walk().toBound().step({ kind: 'stop', release: false });
  t.same(sends(quiet.actions), [], 'no RELEASE unless asked');
  t.equal(quiet.state.lease?.address, ADDRESS, 'lease kept for the agent to cache');
  const early = new Walk().toSelecting().step({ kind: 'stop', release: true });
  t.same(sends(early.actions), [], 'nothing to release before a lease');
});

// ---- the whole table: every state × every event ----

type EventName =
  | 'start' | 'start-cached' | 'stop' | 'stop-release' | 'retransmit' | 'restart' | 't1' | 't2' | 'expiry'
  | 'offer' | 'ack' | 'nak' | 'checked' | 'decline' | 'renew';
const EVENTS: EventName[] = ['start', 'start-cached', 'stop', 'stop-release', 'retransmit', 'restart', 't1', 't2', 'expiry', 'offer', 'ack', 'nak', 'checked', 'decline', 'renew'];

function eventFor(name: EventName, s: MachineState): MachineEvent {
  switch (name) {
    case 'start': return { kind: 'start' };
    case 'start-cached': return { kind: 'start', cachedAddress: ADDRESS };
    case 'stop': return { kind: 'stop', release: false };
    case 'stop-release': return { kind: 'stop', release: true };
    case 'retransmit': case 'restart': case 't1': case 't2': case 'expiry': return { kind: 'timer', timer: name };
    case 'offer': return { kind: 'reply', message: reply(MESSAGE_TYPE.OFFER, { xid: s.xid }), from: SERVER };
    case 'ack': return { kind: 'reply', message: reply(MESSAGE_TYPE.ACK, { xid: s.xid }), from: SERVER };
    case 'nak': return { kind: 'reply', message: reply(MESSAGE_TYPE.NAK, { xid: s.xid }), from: SERVER };
    case 'checked': return { kind: 'address-checked', inUse: false };
    case 'decline': return { kind: 'decline' };
    case 'renew': return { kind: 'renew' };
  }
}

const fixtures: Record<ClientState, () => MachineState> = {
  stopped: () => initialState(),
  init: () => new Walk().toInitWaiting().state,
  selecting: () => new Walk().toSelecting().state,
  requesting: () => new Walk().toRequesting().state,
  bound: () => new Walk().toBound().state,
  renewing: () => new Walk().toRenewing().state,
  rebinding: () => new Walk().toRebinding().state,
  'init-reboot': () => ({ ...initialState(), name: 'init-reboot', rebootAddress: ADDRESS }),
  rebooting: () => new Walk().toRebooting().state,
};

// Next state for each (state, event); '=' = unchanged (ignored, logged).
const TABLE: Record<ClientState, Partial<Record<EventName, ClientState>>> = {
  stopped: { start: 'selecting', 'start-cached': 'rebooting' },
  init: { stop: 'stopped', 'stop-release': 'stopped', restart: 'selecting' },
  selecting: { stop: 'stopped', 'stop-release': 'stopped', retransmit: 'selecting', offer: 'requesting' },
  requesting: { stop: 'stopped', 'stop-release': 'stopped', retransmit: 'requesting', ack: 'bound', nak: 'selecting' },
  bound: { stop: 'stopped', 'stop-release': 'stopped', t1: 'renewing', t2: 'rebinding', expiry: 'selecting', decline: 'init', renew: 'renewing' },
  renewing: { stop: 'stopped', 'stop-release': 'stopped', retransmit: 'renewing', t2: 'rebinding', expiry: 'selecting', ack: 'bound', nak: 'selecting', decline: 'init' },
  rebinding: { stop: 'stopped', 'stop-release': 'stopped', retransmit: 'rebinding', expiry: 'selecting', ack: 'bound', nak: 'selecting', decline: 'init' },
  'init-reboot': { stop: 'stopped', 'stop-release': 'stopped' },
  rebooting: { stop: 'stopped', 'stop-release': 'stopped', retransmit: 'rebooting', ack: 'bound', nak: 'selecting' },
};

t.test('every state × every event goes where the table says, and ignored ones change nothing', async (t) => {
  for (const state of Object.keys(fixtures) as ClientState[]) {
    for (const name of EVENTS) {
      const s = fixtures[state]();
      t.equal(s.name, state, `fixture ${state}`);
      const r = transition(s, eventFor(name, s), ctx(T0 + 5 * 3600_000));
      const expected = TABLE[state][name];
      if (expected === undefined) {
        t.equal(r.state, s, `${state} × ${name}: ignored`);
        t.same(sends(r.actions), [], `${state} × ${name}: nothing sent`);
        t.ok(r.actions.every((a) => a.kind === 'log'), `${state} × ${name}: only logged`);
      } else {
        t.equal(r.state.name, expected, `${state} × ${name} -> ${expected}`);
        if (expected !== state) t.ok(logs(r.actions).some((l) => l.endsWith(`-> ${expected}`)), `${state} × ${name}: logs the change`);
      }
    }
  }
});

t.test('a state change resets the per-state attempt counter', async (t) => {
  const w = new Walk().toSelecting();
  w.step({ kind: 'timer', timer: 'retransmit' });
  w.step({ kind: 'timer', timer: 'retransmit' });
  t.equal(w.state.attempt, 3);
  w.answer(MESSAGE_TYPE.OFFER);
  t.equal(w.state.attempt, 1, 'one REQUEST sent in REQUESTING');
});
