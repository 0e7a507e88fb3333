// The server pair of a cluster description, pure: its two servers and the service address the
// active one holds. The service address is, unless the pair section names one, the management
// virtual server's (vs_mgmt) address on a mgmt# alias (else on any alias), with the prefix length
// of the description's subnet that holds it: what relays point at, moved with the active.
import { MANAGEMENT_VSERVER } from './names.js';
import { contains, parseCidr, parseIp } from './rules/ip.js';
import type { ClusterDescription, PairServer } from './schema.js';

export interface ServiceAddressOf {
  address: string;
  prefixLength: number;
  /** Where it came from, for messages: "pair.serviceAddress" or "vs_mgmt's mgmt0 instance 0". */
  from: string;
}

/** The pair's service address, or why there is none (a sentence). */
export function pairServiceAddress(d: ClusterDescription): ServiceAddressOf | string {
  const given = d.pair?.serviceAddress;
  if (given !== undefined) {
    const c = parseCidr(given);
    if (!c || c.family !== 4) return `${JSON.stringify(given)} is not an IPv4 address with its prefix length`;
    return { address: given.slice(0, given.indexOf('/')), prefixLength: c.length, from: 'pair.serviceAddress' };
  }
  const vs = d.vservers[MANAGEMENT_VSERVER];
  if (!vs) return `no serviceAddress is given and there is no ${MANAGEMENT_VSERVER} virtual server to take it from`;
  const candidates: Array<{ alias: string; instance: number; address: string }> = [];
  for (const [alias, instances] of Object.entries(vs.addresses)) {
    for (const [instance, address] of Object.entries(instances)) {
      if (parseIp(address)?.family === 4) candidates.push({ alias, instance: Number(instance), address });
    }
  }
  if (candidates.length === 0) return `${MANAGEMENT_VSERVER} has no IPv4 address to serve DHCP on`;
  const rank = (a: string): number => (/^mgmt[0-9]+$/i.test(a) ? 0 : 1);
  candidates.sort((x, y) => rank(x.alias) - rank(y.alias) || x.alias.localeCompare(y.alias) || x.instance - y.instance);
  const first = candidates[0]!;
  const ip = parseIp(first.address)!;
  const subnet = d.scope.subnets.map((s) => parseCidr(s.prefix)).find((c) => c !== undefined && contains(c, ip));
  const from = `${MANAGEMENT_VSERVER}'s ${first.alias} instance ${first.instance}`;
  if (!subnet) return `${from} (${first.address}) is in none of the description's subnets, so its prefix length is unknown`;
  return { address: first.address, prefixLength: subnet.length, from };
}

/** This server and its partner, by this server's name; undefined when the name is not one of the two. */
export function pairServers(d: ClusterDescription, name: string): { self: PairServer; partnerName: string; partner: PairServer } | undefined {
  const servers = d.pair?.servers ?? {};
  const self = servers[name];
  const others = Object.keys(servers).filter((n) => n !== name);
  if (!self || others.length !== 1) return undefined;
  return { self, partnerName: others[0]!, partner: servers[others[0]!]! };
}
