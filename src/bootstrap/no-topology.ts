// What the agent says when no DHCP server sent its topology: the identifier it asked for, where
// that identifier came from, and what to check. The same base MAC rule as the description's (a
// filer's base MAC is its eth0's MAC unless set), so the operator can compare the two sides.
import { topologyKey } from '../options/identifiers.js';
import { naturalCompare } from '../net/desired.js';

export interface AskedFor {
  clusterId: string;
  vendorClass: string;
  baseMac: string;
  /** The base MAC was read from the first NIC, not configured. */
  derivedBaseMac: boolean;
  /** eth# -> kernel name. */
  nics: Readonly<Record<string, string>>;
}

/** One sentence (two clauses) to append to "no topology from DHCP within N ms". */
export function noTopologyAdvice(s: AskedFor, interfaces: readonly string[]): string {
  const id = topologyKey(s.clusterId, s.baseMac);
  const first = Object.keys(s.nics).sort(naturalCompare)[0] ?? 'eth0';
  const kernel = s.nics[first];
  const nic = kernel !== undefined && kernel !== first ? `${first} (${kernel})` : first;
  const from = s.derivedBaseMac ? `the permanent MAC of ${nic}` : 'as configured (baseMac)';
  const match = s.derivedBaseMac
    ? `list this filer with ${first} ${s.baseMac} and no other baseMac`
    : `give this filer baseMac: ${s.baseMac}`;
  return (
    `asked on ${interfaces.join(', ')} for ${id} (cluster ID ${s.clusterId}, base MAC ${s.baseMac}: ${from}) with vendor class "${s.vendorClass}". ` +
    `Check that a DHCP server answers on this network, and that its configuration holds this identifier: the cluster description must ${match}, ` +
    `under cluster ID ${s.clusterId} (rackstrap worksheet lists each filer's identifier; rackstrap serve warns about an identifier it does not hold and names the fix)`
  );
}
