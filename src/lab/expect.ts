// What each filer should hold once its agent is done, from the cluster description alone: the
// addresses of its own identifiers (filer, the virtual servers and MySQL roles whose home it is),
// and the per-server tables. The demo waits for this and the e2e test checks it. Pure.
import type { LoadedCluster } from '../options/load.js';
import { reservationsOf } from '../options/resolve.js';
import { vlanBase } from '../options/names.js';
import type { ObservedState } from '../net/observe.js';

export interface ExpectedAddress {
  /** The interface the address goes on: the alias (or a VLAN on it). */
  dev: string;
  /** `a.b.c.d/len`. */
  address: string;
  /** "filer", a virtual server's name or a MySQL role. */
  owner: string;
  /** Virtual servers only: their routing table (and realm). */
  table?: number;
}

export interface ExpectedFiler {
  filer: string;
  addresses: ExpectedAddress[];
  /** Virtual servers whose home is this filer: table and gateway. */
  vservers: Array<{ name: string; table: number; gateway: string | undefined }>;
}

/** The addresses and tables `filer` should end up with. */
export function expectedFiler(loaded: LoadedCluster, filer: string): ExpectedFiler {
  const d = loaded.description;
  const addresses: ExpectedAddress[] = [];
  for (const r of reservationsOf(loaded)) {
    if (r.kind === 'topology' || r.family !== 4) continue;
    const owned = r.kind === 'filer' ? r.filer === filer : r.home === filer;
    if (!owned) continue;
    const a: ExpectedAddress = { dev: r.alias, address: `${r.address}/${r.subnet.prefixLength}`, owner: r.kind === 'filer' ? 'filer' : r.kind === 'vserver' ? r.vserver : r.role };
    if (r.kind === 'vserver') a.table = d.vservers[r.vserver]!.table;
    addresses.push(a);
  }
  const vservers = Object.entries(d.vservers)
    .filter(([, v]) => v.home === filer)
    .map(([name, v]) => ({ name, table: v.table, gateway: v.gateway }));
  return { filer, addresses, vservers };
}

/** Expected addresses not (yet) on their interface in `state`; empty when the filer is complete. */
export function missingAddresses(expected: ExpectedFiler, state: ObservedState): ExpectedAddress[] {
  const have = new Set(state.addresses.map((a) => `${a.dev} ${a.local}/${a.prefixlen}`));
  return expected.addresses.filter((a) => !have.has(`${a.dev} ${a.address}`));
}

/** The alias names of a filer that carry at least one expected address (for messages). */
export function addressedAliases(expected: ExpectedFiler): string[] {
  return [...new Set(expected.addresses.map((a) => vlanBase(a.dev)))].sort();
}
