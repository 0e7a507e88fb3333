// The server pair (the embedded DHCP server on two nodes, see README: server pairs):
//  - exactly two servers, exactly one of them preferred (it owns the lower half of each dynamic
//    range while the two are apart: two preferred servers could give one address twice);
//  - sync endpoints are IPv4 addresses with a valid port, different from each other;
//  - the partner is declared gone only after at least three heartbeats;
//  - a service address: given, or taken from vs_mgmt's address (with its subnet's prefix length);
//  - vs_mgmt's address is held by the active server: a `home` for vs_mgmt would bring it up twice.
import { MANAGEMENT_VSERVER } from '../names.js';
import { pairServiceAddress } from '../pair.js';
import { error, type Finding } from './context.js';
import type { ClusterContext } from './cluster-context.js';
import { parseIp } from './ip.js';

export function checkPair(ctx: ClusterContext): Finding[] {
  const p = ctx.description.pair;
  if (!p) return [];
  const out: Finding[] = [];
  const names = Object.keys(p.servers);
  if (names.length !== 2) out.push(error(['pair', 'servers'], `a pair has exactly two servers; ${names.length} ${names.length === 1 ? 'is' : 'are'} listed`));
  const preferred = names.filter((n) => p.servers[n]!.preferred);
  if (names.length === 2 && preferred.length !== 1) {
    out.push(error(['pair', 'servers'], preferred.length === 0
      ? 'mark exactly one of the two servers preferred: true (it is the active on a tie and owns the lower half of each range while the two are apart)'
      : 'only one of the two servers may be preferred: both would take the lower half of each range while apart, and could give one address twice'));
  }
  const endpoints = new Map<string, string>();
  for (const [name, s] of Object.entries(p.servers)) {
    const [host, port] = s.sync.split(':');
    if (parseIp(host!)?.family !== 4) out.push(error(['pair', 'servers', name, 'sync'], `${host} is not an IPv4 address`));
    else if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) out.push(error(['pair', 'servers', name, 'sync'], `port ${port} is outside 1-65535`));
    const key = `${host}:${port ?? 6767}`;
    const other = endpoints.get(key);
    if (other !== undefined) out.push(error(['pair', 'servers', name, 'sync'], `the same sync endpoint as ${other} (${key}): the two servers need their own`));
    endpoints.set(key, name);
  }
  if (p.deadMs !== undefined && p.deadMs < 3 * p.heartbeatMs) out.push(error(['pair', 'deadMs'], `${p.deadMs} ms is less than three heartbeats (3 × ${p.heartbeatMs} ms): one late heartbeat would look like a dead partner`));
  const service = pairServiceAddress(ctx.description);
  if (typeof service === 'string') out.push(error(p.serviceAddress !== undefined ? ['pair', 'serviceAddress'] : ['pair'], `no service address for the pair: ${service}; describe ${MANAGEMENT_VSERVER} with an address on a mgmt# alias, or set pair.serviceAddress`));
  const vs = ctx.description.vservers[MANAGEMENT_VSERVER];
  if (vs?.home !== undefined && p.serviceAddress === undefined) {
    out.push(error(['vservers', MANAGEMENT_VSERVER, 'home'], `the server pair holds ${MANAGEMENT_VSERVER}'s address on whichever node is active: leave home unset`));
  }
  return out;
}
