// Steps 2 and 3 of the bootstrap (seed 003 §5.2.4, §5.2.6.2): ask for this filer's
// topology on several interfaces at once, and take the first answer that decodes, is signed when
// the filer holds the cluster key, is addressed to this filer, and passes the stack rules. Every
// other answer is refused with its reason logged, and the configuration in place is kept.
import { requestTopology, type Clock, type TimingConfig, type TransportPool } from '../dhcp-client/index.js';
import { RackstrapError } from '../errors.js';
import { checkStack } from '../options/rules/index.js';
import type { Topology } from '../options/schema.js';
import { decodeTopology, WireVersionError, type RequestBinding } from '../options/wire/index.js';
import type { AgentLog } from './agent-log.js';

export interface TopologyAnswer {
  topology: Topology;
  /** Verified with the cluster key. */
  signed: boolean;
  /** What the verified signature binds the answer to (exchange: this DISCOVER's xid too). */
  binding: 'exchange' | 'request' | 'none';
  /** Address tags of the verified topology: the only addresses and routers a keyed filer takes. */
  addressTags: string[];
  serverId: string;
  interface: string;
  /** Clock time it arrived. */
  receivedAt: number;
}

export interface FetchTopologyOptions {
  interfaces: readonly string[];
  vendorClass: string;
  /** `<cluster-id>:<base MAC>` (topologyKey). */
  identifier: string;
  timeoutMs: number;
  timing?: Partial<TimingConfig>;
  /** The cluster key: when held, only a topology signed with it is accepted. */
  key?: Buffer;
  /** Refuse a topology for another filer. */
  expectFiler?: string;
  /** This filer's request (cluster ID, base MAC): with a key, only an answer bound to it is taken. */
  request?: { clusterId: string; baseMac: string };
  /** With a key: take only answers bound to the exchange (rackstrap's own server), not static ones. */
  requireExchangeBinding?: boolean;
  /** Called for every refused answer (once per server, interface and reason). */
  onRefused?: (offer: { serverId: string; from: string; interface: string }, code: string, reason: string) => void;
  /** Topology NIC names this host has (eth0, eth1, ...), for the stack rules. */
  nics: readonly string[];
  pool?: TransportPool;
  netns?: string;
  clock?: Clock;
  signal?: AbortSignal;
  log: AgentLog;
}

/** Why one OFFER's topology was refused (pure: what fetchTopology applies to each OFFER). */
export type Judgement =
  | { ok: true; topology: Topology; signed: boolean; binding: TopologyAnswer['binding']; addressTags: string[]; warnings: string[] }
  | { ok: false; reason: string; code: string };

/**
 * Judges one answer. With a key and `binding` (the request it answers: cluster ID, base MAC and
 * the DISCOVER's xid), the answer must be bound to this filer's request: another filer's genuine
 * topology, or one recorded from another exchange by rackstrap's own server, is refused.
 */
export function judgeTopology(
  option43: Buffer,
  opts: Pick<FetchTopologyOptions, 'key' | 'expectFiler' | 'nics' | 'requireExchangeBinding'> & { binding?: RequestBinding },
): Judgement {
  let decoded;
  try {
    decoded = decodeTopology(option43, {
      ...(opts.key === undefined ? {} : { key: opts.key, requireSignature: true }),
      ...(opts.key === undefined || opts.binding === undefined ? {} : { binding: opts.binding, requireExchangeBinding: opts.requireExchangeBinding ?? false }),
      ...(opts.expectFiler === undefined ? {} : { expectFiler: opts.expectFiler }),
    });
  } catch (err) {
    if (err instanceof WireVersionError) return { ok: false, code: err.code, reason: err.message };
    if (err instanceof RackstrapError) return { ok: false, code: err.code, reason: err.message };
    throw err;
  }
  const problems = checkStack(decoded.topology.stack, { nics: [...opts.nics] });
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) {
    return { ok: false, code: 'RS_TOPOLOGY_RULES', reason: `the stack breaks the naming rules: ${errors.map((p) => `${p.field}: ${p.rule}`).join('; ')}` };
  }
  return {
    ok: true,
    topology: decoded.topology,
    signed: decoded.signed,
    binding: decoded.binding,
    addressTags: decoded.addressTags,
    warnings: [...problems.filter((p) => p.severity === 'warning').map((p) => `${p.field}: ${p.rule}`), ...decoded.skipped.map((s) => `skipped optional ${s}`)],
  };
}

/** The first acceptable topology, or undefined when none came within the timeout. */
export async function fetchTopology(opts: FetchTopologyOptions): Promise<TopologyAnswer | undefined> {
  const judged = new Map<Buffer, Judgement>();
  const refused = new Set<string>();
  const offers = await requestTopology({
    interfaces: opts.interfaces,
    vendorClass: opts.vendorClass,
    identifier: opts.identifier,
    timeoutMs: opts.timeoutMs,
    ...(opts.timing === undefined ? {} : { timing: opts.timing }),
    ...(opts.netns === undefined ? {} : { netns: opts.netns }),
    ...(opts.pool === undefined ? {} : { pool: opts.pool }),
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    log: opts.log.dhcp,
    accept: (offer) => {
      const j = judgeTopology(offer.option43, {
        ...opts,
        ...(opts.request === undefined ? {} : { binding: { ...opts.request, xid: offer.message.xid } }),
      });
      judged.set(offer.option43, j);
      if (!j.ok) {
        // Each retransmission brings the same refusal: say it once per server and reason.
        const key = `${offer.serverId} ${j.code}`;
        if (!refused.has(key)) {
          refused.add(key);
          opts.log.warn('topology-refused', `refused the topology from ${offer.serverId} on ${offer.interface}: ${j.reason}`, { server: offer.serverId, interface: offer.interface, code: j.code });
          opts.onRefused?.({ serverId: offer.serverId, from: offer.from, interface: offer.interface }, j.code, j.reason);
        }
      }
      return j.ok;
    },
  });
  const first = offers[0];
  if (first === undefined) return undefined;
  const j = judged.get(first.option43);
  if (j === undefined || !j.ok) return undefined; // unreachable: only accepted offers are returned
  for (const w of j.warnings) opts.log.warn('topology-warning', w, { server: first.serverId });
  return {
    topology: j.topology,
    signed: j.signed,
    binding: j.binding,
    addressTags: j.addressTags,
    serverId: first.serverId,
    interface: first.interface,
    receivedAt: first.receivedAt,
  };
}
