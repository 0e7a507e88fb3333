// The one-shot topology fetch (seed 003 §5.2.6.2): DISCOVER on every physical NIC at once (we do
// not know which one reaches the management network, §5.2.4) with the topology identifier
// `<cluster-id>:<base MAC>`, and take the option 43 of the OFFERs that come back.
//
// Servers only answer clients they could give an address to, so the topology rides in an OFFER
// from a small bootstrap range. The OFFER is never REQUESTed: nothing is committed on the server,
// and the bootstrap address is never used (it is reported only for logs).

import { MESSAGE_TYPE, OPTION, textClientId, type DhcpMessage } from '../dhcp-packet/index.js';
import { RackstrapError } from '../errors.js';
import { secureRandom, systemClock, type Clock, type Timer } from './clock.js';
import { silentLog, type LogFn } from './log.js';
import { BROADCAST_ADDRESS, foreignReason, hex32, makeDiscover, type ClientIdentity } from './messages.js';
import { resolveTiming, retransmitDelay, type TimingConfig } from './timing.js';
import { defaultTransportPool, type SharedTransport, type TransportPool } from './transport.js';

export interface TopologyRequestOptions {
  /** Physical interfaces to ask on, all at once. */
  interfaces: readonly string[];
  /** Option 60: servers select the topology options by it. */
  vendorClass: string;
  /** Option 61 text: the topology identifier `<cluster-id>:<base MAC>` (seed 003 §5.2.4). */
  identifier: string;
  /** Give up after this long with whatever came (nothing, usually): the agent then uses its cache. */
  timeoutMs: number;
  /** After the first OFFER, keep collecting this long (so the agent can prefer the highest
   *  configuration generation when two servers answer). Default 0: the first one ends it. */
  graceMs?: number;
  netns?: string;
  clientIdTypeByte?: boolean;
  /** DISCOVER retransmission (RFC 2131 §4.1), e.g. `{ retransmitBaseMs: 250 }` on a LAN. */
  timing?: Partial<TimingConfig>;
  /** Extra test on an OFFER (e.g. option 43 decodes as ours); refused ones are ignored. */
  accept?: (offer: TopologyOffer) => boolean;
  /** Ends the request early, resolving with what was collected. */
  signal?: AbortSignal;
  pool?: TransportPool;
  clock?: Clock;
  random?: () => number;
  log?: LogFn;
}

export interface TopologyOffer {
  /** Interface the OFFER came in on. */
  interface: string;
  /** Option 54 of the OFFER. */
  serverId: string;
  /** Source address of the datagram (a relay's when relayed). */
  from: string;
  /** Option 43 bytes, RFC 3396 instances joined: decode with decodeTopology. */
  option43: Buffer;
  /** yiaddr: the bootstrap address offered. Never requested, never configured. */
  offeredAddress: string;
  /** Clock time (ms) it arrived. */
  receivedAt: number;
  /** The whole OFFER, for anything else the agent wants from it. */
  message: DhcpMessage;
}

interface Asker {
  transport: SharedTransport;
  xid: number;
  identity: ClientIdentity;
  attempt: number;
  timer?: Timer;
  unsubscribe?: () => void;
}

/**
 * DISCOVERs on every interface at once; resolves with the OFFERs carrying option 43, in arrival
 * order (one per interface and server): the first alone, or those that came within `graceMs` of
 * it. An empty list means nothing answered within `timeoutMs`. Interfaces that cannot be opened
 * are logged and skipped; it throws only when none can.
 */
export async function requestTopology(opts: TopologyRequestOptions): Promise<TopologyOffer[]> {
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? secureRandom;
  const log = opts.log ?? silentLog;
  const pool = opts.pool ?? defaultTransportPool;
  const timing = resolveTiming(opts.timing);
  const clientId = textClientId(opts.identifier, { typeByte: opts.clientIdTypeByte ?? false });
  const start = clock.now();

  const opened = await Promise.allSettled(
    opts.interfaces.map((ifname) => pool.acquire(ifname, opts.netns === undefined ? {} : { netns: opts.netns })),
  );
  const transports: SharedTransport[] = [];
  const failures: unknown[] = [];
  opened.forEach((r, i) => {
    if (r.status === 'fulfilled') transports.push(r.value);
    else {
      failures.push(r.reason);
      log('warn', `topology request: skipping ${opts.interfaces[i]}: ${(r.reason as Error).message}`);
    }
  });
  if (transports.length === 0) {
    const first = failures[0];
    if (first instanceof RackstrapError) throw first;
    throw new RackstrapError('RS_DHCP_CLIENT', 'topology request: no interface to ask on', { cause: first });
  }

  return new Promise<TopologyOffer[]>((resolve) => {
    const offers: TopologyOffer[] = [];
    let deadline: Timer | undefined;
    let grace: Timer | undefined;
    let done = false;

    const finish = (why: string): void => {
      if (done) return;
      done = true;
      deadline?.cancel();
      grace?.cancel();
      opts.signal?.removeEventListener('abort', onAbort);
      for (const a of askers) {
        a.timer?.cancel();
        a.unsubscribe?.();
      }
      log('info', `topology request: ${why}: ${offers.length} offer(s) in ${clock.now() - start} ms`);
      void Promise.allSettled(askers.map((a) => a.transport.release())).then(() => resolve(offers));
    };
    const onAbort = (): void => finish('aborted');

    const send = (a: Asker): void => {
      if (done) return;
      const secs = (clock.now() - start) / 1000;
      a.transport.send(makeDiscover(a.identity, { xid: a.xid, secs }), BROADCAST_ADDRESS).catch((err: unknown) => {
        log('warn', `topology request: DISCOVER on ${a.transport.ifname} failed: ${(err as Error).message}`);
      });
      a.timer = clock.setTimer(clock.now() + retransmitDelay(a.attempt, timing, random()), () => send(a));
      a.attempt++;
    };

    const receive = (a: Asker, msg: DhcpMessage, from: string): void => {
      if (done) return;
      const foreign = foreignReason(msg, a.xid, a.identity);
      const type = msg.options.get(OPTION.MESSAGE_TYPE);
      const serverId = msg.options.get(OPTION.SERVER_ID);
      const option43 = msg.options.get(OPTION.VENDOR_SPECIFIC);
      const skip =
        foreign ??
        (type !== MESSAGE_TYPE.OFFER ? 'not an OFFER'
          : serverId === undefined ? 'OFFER without a server identifier (option 54)'
          : option43 === undefined || option43.length === 0 ? `OFFER from ${serverId} without option 43`
          : offers.some((o) => o.interface === a.transport.ifname && o.serverId === serverId) ? `another OFFER from ${serverId}`
          : undefined);
      if (skip !== undefined) {
        log('debug', `topology request: ${a.transport.ifname}: ignored from ${from}: ${skip}`);
        return;
      }
      const offer: TopologyOffer = {
        interface: a.transport.ifname,
        serverId: serverId as string,
        from,
        option43: Buffer.from(option43 as Buffer),
        offeredAddress: msg.yiaddr,
        receivedAt: clock.now(),
        message: msg,
      };
      if (opts.accept && !opts.accept(offer)) {
        log('debug', `topology request: ${offer.interface}: OFFER from ${offer.serverId} refused by the caller`);
        return;
      }
      offers.push(offer);
      log('debug', `topology request: ${offer.interface}: option 43 (${offer.option43.length} bytes) from ${offer.serverId}`);
      if (offers.length > 1) return;
      const graceMs = opts.graceMs ?? 0;
      if (graceMs <= 0) finish('answered');
      else grace = clock.setTimer(clock.now() + graceMs, () => finish('grace period over'));
    };

    const askers: Asker[] = transports.map((transport) => ({
      transport,
      xid: Math.floor(random() * 0x1_0000_0000) >>> 0,
      identity: { chaddr: transport.hardware.chaddr, htype: transport.hardware.htype, clientId, vendorClass: opts.vendorClass },
      attempt: 0,
    }));
    for (const a of askers) {
      a.unsubscribe = a.transport.subscribe({ accepts: (xid) => xid === a.xid, deliver: (msg, from) => receive(a, msg, from.address) });
    }
    if (opts.signal?.aborted) return finish('aborted');
    opts.signal?.addEventListener('abort', onAbort);
    deadline = clock.setTimer(start + opts.timeoutMs, () => finish(offers.length > 0 ? 'deadline reached' : 'timed out'));
    for (const a of askers) {
      log('debug', `topology request: DISCOVER on ${a.transport.ifname} xid 0x${hex32(a.xid)}`);
      send(a);
    }
  });
}
