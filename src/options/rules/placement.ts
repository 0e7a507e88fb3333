// Where each virtual server can run (seed 003 §5.2.1, §5.7): on a filer that has every data#
// alias (or VLAN of one, like data0.5) it has addresses on. Candidates are its `filers` list, or
// every filer when it has none; the rest are excluded with the aliases they lack.
import type { ClusterDescription } from '../schema.js';
import type { ResolvedFiler } from '../normalize.js';

export interface Exclusion {
  filer: string;
  /** The aliases the server has addresses on and this filer lacks. */
  missing: string[];
}

export interface Placement {
  vserver: string;
  /** Whether the server names its filers (otherwise every filer is a candidate). */
  listed: boolean;
  /** Filers it may run on by configuration, resolved to their declared names. */
  candidates: string[];
  /** Candidates that have all its aliases: where it can actually run. */
  hosts: string[];
  /** Candidates that lack an alias, and which. */
  excluded: Exclusion[];
}

/** True when the filer builds this addressable interface (an alias, or a VLAN of one). */
export function filerHas(filer: ResolvedFiler, name: string): boolean {
  return Object.hasOwn(filer.stack.aliases, name) || filer.stack.vlans.includes(name);
}

/** Resolves a filer reference: exact, else case-insensitive (the rules report the spelling). */
export function findFiler(filers: ReadonlyMap<string, ResolvedFiler>, name: string): ResolvedFiler | undefined {
  const exact = filers.get(name);
  if (exact) return exact;
  const lower = name.toLowerCase();
  for (const [n, f] of filers) if (n.toLowerCase() === lower) return f;
  return undefined;
}

export function placeVservers(description: ClusterDescription, filers: ReadonlyMap<string, ResolvedFiler>): Map<string, Placement> {
  const out = new Map<string, Placement>();
  for (const [name, v] of Object.entries(description.vservers)) {
    const listed = v.filers !== undefined;
    const candidates: string[] = [];
    for (const ref of v.filers ?? [...filers.keys()]) {
      const f = findFiler(filers, ref);
      if (f && !candidates.includes(f.name)) candidates.push(f.name);
    }
    const aliases = Object.keys(v.addresses);
    const hosts: string[] = [];
    const excluded: Exclusion[] = [];
    for (const c of candidates) {
      const missing = aliases.filter((a) => !filerHas(filers.get(c)!, a));
      if (missing.length) excluded.push({ filer: c, missing });
      else hosts.push(c);
    }
    out.set(name, { vserver: name, listed, candidates, hosts, excluded });
  }
  return out;
}
