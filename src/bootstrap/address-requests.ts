// Which addresses a filer asks DHCP for once its stack is built (step 6 of the bootstrap, seed 003
// §5.2.6.3 and §5.11), each on the alias interface it goes on:
//   mgmt#/san# (and VLANs of them)  <cluster-id>:<alias>:<filer>            filer-private
//   data# of each home server       <cluster-id>:<alias>:<vserver>:<n>      fails over with the server
//   mgmt# of each MySQL role here   <cluster-id>:<alias>:<role>
// Pure. The order is the topology's (aliases naturally sorted), so logs and plans are stable.
import { naturalCompare } from '../net/desired.js';
import { filerIdentifier, mysqlIdentifier, vserverIdentifier } from '../options/identifiers.js';
import { isAddressable, normalizeName, parseInterfaceName, vlanBase } from '../options/names.js';
import type { Topology } from '../options/schema.js';

export type AddressRequest =
  | { kind: 'filer'; identifier: string; alias: string }
  | { kind: 'vserver'; identifier: string; alias: string; vserver: string; instance: number; table: number }
  | { kind: 'mysql'; identifier: string; alias: string; role: string };

/** Every addressable name of the stack: aliases, and VLANs whose base is an alias (data0.5). */
export function addressableNames(topology: Topology): string[] {
  const names = new Set<string>();
  for (const a of Object.keys(topology.stack.aliases)) names.add(normalizeName(a));
  for (const v of topology.stack.vlans) if (isAddressable(v)) names.add(normalizeName(v));
  return [...names].sort(naturalCompare);
}

function roleOf(name: string): 'mgmt' | 'data' | 'san' | undefined {
  const r = parseInterfaceName(vlanBase(name));
  return r.ok && r.value.kind === 'alias' ? r.value.role : undefined;
}

export function addressRequests(topology: Topology, clusterId: string): AddressRequest[] {
  const out: AddressRequest[] = [];
  for (const name of addressableNames(topology)) {
    const role = roleOf(name);
    if (role === 'mgmt' || role === 'san') out.push({ kind: 'filer', identifier: filerIdentifier(clusterId, name, topology.filer), alias: name });
  }
  for (const vs of topology.vservers) {
    for (const a of vs.addresses) {
      const alias = normalizeName(a.alias);
      out.push({ kind: 'vserver', identifier: vserverIdentifier(clusterId, alias, vs.name, a.instance), alias, vserver: vs.name, instance: a.instance, table: vs.table });
    }
  }
  for (const m of topology.mysql) {
    for (const a of m.aliases) {
      const alias = normalizeName(a);
      out.push({ kind: 'mysql', identifier: mysqlIdentifier(clusterId, alias, m.role), alias, role: m.role });
    }
  }
  return out;
}

/** The mgmt# aliases of a built stack: where a running agent asks for the topology again
 *  (NICs enslaved to a bond cannot send on their own). */
export function managementAliases(topology: Topology): string[] {
  return Object.keys(topology.stack.aliases)
    .map(normalizeName)
    .filter((n) => roleOf(n) === 'mgmt')
    .sort(naturalCompare);
}
