// Every address the description hands out, with its label and location: filer aliases, virtual
// server instances, MySQL roles. Labels are the identifiers without the cluster ID (mgmt0:Filer1,
// data0:VsvrA:0, mgmt0:MySQLMgmtNode), as the seed's tables write them.
import type { ClusterDescription } from '../schema.js';
import type { Path } from './context.js';
import { parseIp, type Ip } from './ip.js';

export interface Assignment {
  address: string;
  ip: Ip | undefined;
  label: string;
  path: Path;
}

const computed = new WeakMap<ClusterDescription, readonly Assignment[]>();

/** Every address of the description, in file order; computed once per description (several rules read it). */
export function assignmentsOf(d: ClusterDescription): readonly Assignment[] {
  let out = computed.get(d);
  if (!out) {
    out = listAssignments(d);
    computed.set(d, out);
  }
  return out;
}

function listAssignments(d: ClusterDescription): Assignment[] {
  const out: Assignment[] = [];
  const add = (address: string, label: string, path: Path): void => {
    out.push({ address, ip: parseIp(address), label, path });
  };
  for (const [filer, f] of Object.entries(d.filers)) {
    for (const [alias, a] of Object.entries(f.addresses)) add(a, `${alias}:${filer}`, ['filers', filer, 'addresses', alias]);
  }
  for (const [vs, v] of Object.entries(d.vservers)) {
    for (const [alias, instances] of Object.entries(v.addresses)) {
      for (const [n, a] of Object.entries(instances)) add(a, `${alias}:${vs}:${n}`, ['vservers', vs, 'addresses', alias, n]);
    }
  }
  for (const [role, m] of Object.entries(d.mysql)) {
    for (const [alias, a] of Object.entries(m.addresses)) add(a, `${alias}:${role}`, ['mysql', role, 'addresses', alias]);
  }
  return out;
}
