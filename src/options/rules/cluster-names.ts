// Names of filers, virtual servers, MySQL roles and templates, and references between them.
//  - Filer and virtual-server names are part of DHCP identifiers and DNS names (seed 003 §5.2.6.3,
//    §5.4): unique case-insensitively, across both kinds (a DNS name cannot be a filer and a server).
//  - A filer may not be named like a MySQL role: <cid>:mgmt0:MySQLMgmtNode would be both.
//  - vs_mgmt is reserved for the management virtual server, also as a prefix: exactly one
//    server may be named vs_mgmt (a key appears once), every other name starting with it is refused.
//  - home/filers name declared filers; a template nobody uses is probably a typo.
import { isReservedVserverName, MANAGEMENT_VSERVER } from '../names.js';
import { MYSQL_ROLE } from '../schema.js';
import { error, listSome, warning, type Finding, type Path } from './context.js';
import type { ClusterContext } from './cluster-context.js';

const MYSQL_ROLE_ANY_CASE = new RegExp(MYSQL_ROLE.source, 'i');

/** A reference to a filer that is not exactly a filer's name: why, with a suggestion. */
export function badFilerRef(ctx: ClusterContext, ref: string): string | undefined {
  if (ctx.filers.has(ref)) return undefined;
  const same = filersByLowerCase(ctx).get(ref.toLowerCase());
  if (same) return `no filer named ${ref}: did you mean ${same}? (filer names keep their case in DHCP identifiers)`;
  return `no filer named ${ref} (filers: ${listSome([...ctx.filers.keys()]) || 'none'})`;
}

const lowerCaseNames = new WeakMap<ClusterContext['filers'], Map<string, string>>();

/** Filer names by their lower case (first one wins), built once per cluster. */
function filersByLowerCase(ctx: ClusterContext): Map<string, string> {
  let m = lowerCaseNames.get(ctx.filers);
  if (!m) {
    m = new Map();
    for (const k of ctx.filers.keys()) if (!m.has(k.toLowerCase())) m.set(k.toLowerCase(), k);
    lowerCaseNames.set(ctx.filers, m);
  }
  return m;
}

export function checkClusterNames(ctx: ClusterContext): Finding[] {
  const d = ctx.description;
  const out: Finding[] = [];
  const taken = new Map<string, { label: string }>();
  const claim = (name: string, label: string, path: Path): void => {
    const key = name.toLowerCase();
    const first = taken.get(key);
    if (first) {
      out.push(error(path, `${label} ${name} has the same name as ${first.label} (names are case-insensitive and registered in DNS)`));
      return;
    }
    taken.set(key, { label: `${label} ${name}` });
  };

  if (Object.keys(d.filers).length === 0) out.push(error(['filers'], 'a cluster has at least one filer'));
  for (const name of Object.keys(d.filers)) {
    claim(name, 'filer', ['filers', name]);
    if (MYSQL_ROLE_ANY_CASE.test(name)) {
      out.push(error(['filers', name], `filer ${name} is named like a MySQL role: <cluster-id>:mgmt0:${name} would name both`));
    }
  }
  for (const [name, v] of Object.entries(d.vservers)) {
    const path: Path = ['vservers', name];
    if (isReservedVserverName(name) && name !== MANAGEMENT_VSERVER) {
      out.push(error(path, `vs_mgmt is reserved for the cluster's management virtual server, also as a prefix, in any case: name it exactly vs_mgmt, or choose a name that does not start with vs_mgmt`));
    }
    claim(name, 'virtual server', path);
    if (v.home !== undefined) {
      const why = badFilerRef(ctx, v.home);
      if (why) out.push(error([...path, 'home'], why));
      else if (v.filers && !v.filers.includes(v.home)) {
        out.push(error([...path, 'home'], `home ${v.home} is not among the filers ${name} may run on (${v.filers.join(', ')})`));
      }
    }
    const seen = new Set<string>();
    (v.filers ?? []).forEach((ref, i) => {
      const why = badFilerRef(ctx, ref);
      if (why) out.push(error([...path, 'filers', i], why));
      else if (seen.has(ref)) out.push(error([...path, 'filers', i], `${ref} is listed twice`));
      seen.add(ref);
    });
  }
  for (const [role, m] of Object.entries(d.mysql)) {
    if (m.home === undefined) continue;
    const why = badFilerRef(ctx, m.home);
    if (why) out.push(error(['mysql', role, 'home'], why));
  }
  const used = new Set(Object.values(d.filers).map((f) => f.template));
  for (const t of Object.keys(d.templates)) {
    if (!used.has(t)) out.push(warning(['templates', t], `template ${t} is used by no filer`));
  }
  return out;
}
