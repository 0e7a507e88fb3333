// MAC addresses: NIC MACs and base MACs identify filers to DHCP (the topology
// request key is <cluster-id>:<base MAC>), so each is a unicast MAC used once in the
// cluster. A filer's base MAC is its eth0's MAC unless the description sets another
// (normalize.ts baseMacOf); one set apart from eth0's is only found by an agent told the same
// value, so validate says so. It may not be another filer's. The cluster ID is allocated apart
// from any filer's MACs.
import { parseInterfaceName } from '../names.js';
import { lowestNic } from '../normalize.js';
import { error, warning, type Finding, type Path } from './context.js';
import type { ClusterContext } from './cluster-context.js';

/** Why a MAC cannot be a station's address: multicast bit (IEEE 802-2014 §8.2) or all zero. */
function notUnicast(mac: string): string | undefined {
  if (mac === '00:00:00:00:00:00') return 'is all zero, not a real MAC';
  if (parseInt(mac.slice(0, 2), 16) & 1) return 'is a multicast MAC (lowest bit of the first byte set); a station has a unicast MAC';
  return undefined;
}

export function checkMacs(ctx: ClusterContext): Finding[] {
  const out: Finding[] = [];
  const nicOwner = new Map<string, { label: string; filer: string }>();
  const baseOwner = new Map<string, string>();
  const clusterId = ctx.description.cluster.id;
  const idWhy = notUnicast(clusterId);
  if (idWhy) out.push(error(['cluster', 'id'], `cluster ID ${clusterId} ${idWhy}`));

  for (const f of ctx.filers.values()) {
    for (const [nic, mac] of Object.entries(f.nics)) {
      const path: Path = ['filers', f.name, 'nics', nic];
      const r = parseInterfaceName(nic);
      if (!r.ok) out.push(error(path, r.reason));
      else if (r.value.kind !== 'ethernet') out.push(error(path, `physical NICs are named eth0, eth1, ..., not ${nic}`));
      const why = notUnicast(mac);
      if (why) out.push(error(path, `${mac} ${why}`));
      const first = nicOwner.get(mac);
      if (first) out.push(error(path, `MAC ${mac} is also ${first.label}: every NIC has its own MAC`));
      else nicOwner.set(mac, { label: `${nic} of ${f.name}`, filer: f.name });
      if (mac === clusterId) out.push(warning(path, `MAC ${mac} is the cluster ID: the cluster ID is allocated apart from every filer's MACs`));
    }
  }
  for (const f of ctx.filers.values()) {
    const path: Path = ['filers', f.name, 'baseMac'];
    if (f.baseMac === '') continue; // no NIC and no baseMac: normalize reported it
    const why = notUnicast(f.baseMac);
    if (why) out.push(error(path, `${f.baseMac} ${why}`));
    const first = baseOwner.get(f.baseMac);
    if (first) out.push(error(path, `base MAC ${f.baseMac} is also the base MAC of ${first}: it keys the topology request`));
    else baseOwner.set(f.baseMac, f.name);
    const nic = nicOwner.get(f.baseMac);
    if (nic && nic.filer !== f.name) out.push(error(path, `base MAC ${f.baseMac} is ${nic.label}, another filer's NIC`));
    const first0 = lowestNic(f.nics);
    if (f.baseMacNic === undefined && first0 !== undefined && f.nics[first0] !== f.baseMac) {
      out.push(warning(path, notFirstNicMac(f.name, f.baseMac, first0, f.nics[first0]!)));
    }
    if (f.baseMac === clusterId) out.push(warning(path, `base MAC ${f.baseMac} is the cluster ID: the cluster ID is allocated apart from every filer's MACs`));
  }
  return out;
}

/** Why a base MAC set apart from eth0's asks for care, and the two ways out. */
export function notFirstNicMac(filer: string, baseMac: string, nic: string, nicMac: string): string {
  return (
    `${filer}'s base MAC ${baseMac} is not the MAC of its ${nic} (${nicMac}); its agent asks for its topology with ${nic}'s MAC ` +
    `unless its agent.yaml sets baseMac: ${baseMac} (or RACKSTRAP_BASE_MAC / --base-mac). Remove baseMac here to use ${nic}'s MAC, or give the agent this one`
  );
}
