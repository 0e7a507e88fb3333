// Which interfaces may carry addresses, and whose (seed 003 §5.2.3, §5.11):
//  - only aliases (or VLANs of aliases, data0.5) carry addresses;
//  - filer-private addresses sit on mgmt#/san#, virtual servers' on data#, MySQL roles' on mgmt#;
//  - the alias must exist where the address is used (the filer; the MySQL role's home);
//  - an alias that carries VLANs (data0 under data0.5) is a component and has no address;
//  - every filer has at least one mgmt# address, or the cluster cannot reach it.
import { MANAGEMENT_VSERVER, parseInterfaceName, vlanBase, type AliasRole } from '../names.js';
import type { ResolvedFiler } from '../normalize.js';
import { error, warning, type Finding, type Path } from './context.js';
import type { ClusterContext } from './cluster-context.js';
import { filerHas, findFiler } from './placement.js';
import { describeDeclared, isAliasVlan, kindOf, type StackModel } from './stack-model.js';

/** The alias role an addressable name belongs to, or why it cannot carry an address. */
function roleOf(name: string, m?: StackModel): { role: AliasRole } | { why: string } {
  const r = parseInterfaceName(vlanBase(name));
  if (r.ok && r.value.kind === 'alias') return { role: r.value.role };
  const d = m?.declared(name);
  const what = d ? `${name} is ${describeDeclared(d)}` : `${name} is not an alias`;
  return { why: `${what}: addresses go on aliases (mgmt#, data#, san#) or their VLANs only` };
}

/** VLANs built on this alias (data0 -> data0.5): it is then a component and carries no address. */
function vlansOn(f: ResolvedFiler, name: string): string[] {
  return f.stack.vlans.filter((v) => {
    const r = parseInterfaceName(v);
    return r.ok && r.value.kind === 'vlan' && r.value.parent === name;
  });
}

function componentWhy(f: ResolvedFiler, name: string): string | undefined {
  const vl = vlansOn(f, name);
  if (!vl.length) return undefined;
  return `${name} carries VLAN ${vl.join(', ')} on ${f.name}, so it is a component and cannot have an address itself; put the address on ${vl[0]}`;
}

export function checkAddressPlacement(ctx: ClusterContext): Finding[] {
  const out: Finding[] = [];
  for (const f of ctx.filers.values()) {
    const m = ctx.models.get(f.name);
    let hasMgmt = false;
    for (const name of Object.keys(f.addresses)) {
      const path: Path = ['filers', f.name, 'addresses', name];
      const r = roleOf(name, m);
      if ('why' in r) {
        out.push(error(path, r.why));
        continue;
      }
      if (r.role === 'data') {
        out.push(error(path, `${name} is a data# alias: its addresses belong to virtual servers and fail over with them; give them under vservers`));
        continue;
      }
      if (!filerHas(f, name)) {
        out.push(error(path, `${f.name} has no ${kindOf(name) === 'vlan' ? 'VLAN' : 'alias'} ${name} in its stack`));
        continue;
      }
      const comp = componentWhy(f, name);
      if (comp) {
        out.push(error(path, comp));
        continue;
      }
      if (r.role === 'mgmt') hasMgmt = true;
    }
    if (!hasMgmt) {
      const path: Path = Object.keys(f.addresses).length ? ['filers', f.name, 'addresses'] : ['filers', f.name];
      out.push(error(path, `${f.name} has no address on a mgmt# alias: the cluster could not reach it`));
    }
    // mgmt#/san# interfaces without an address stay down: usually a forgotten line.
    const addressable = [...Object.keys(f.stack.aliases), ...f.stack.vlans.filter(isAliasVlan)];
    for (const name of addressable) {
      const r = roleOf(name);
      if ('why' in r || r.role === 'data' || f.addresses[name] !== undefined || vlansOn(f, name).length) continue;
      const usedByMysql = Object.values(ctx.description.mysql).some((x) => x.addresses[name] !== undefined);
      if (usedByMysql) continue;
      const path: Path = Object.keys(f.addresses).length ? ['filers', f.name, 'addresses'] : ['filers', f.name];
      out.push(warning(path, `${name} is built on ${f.name} but gets no address there (add one under addresses, or drop the alias)`));
    }
  }

  for (const [vs, v] of Object.entries(ctx.description.vservers)) {
    const hosts = ctx.placement.get(vs)?.hosts ?? [];
    const keys = Object.keys(v.addresses);
    if (keys.length === 0) out.push(error(['vservers', vs, 'addresses'], `${vs} has no address: a virtual server needs at least one on a ${vs === MANAGEMENT_VSERVER ? 'mgmt# or data#' : 'data#'} alias`));
    for (const name of keys) {
      const path: Path = ['vservers', vs, 'addresses', name];
      const r = roleOf(name);
      if ('why' in r) {
        out.push(error(path, r.why));
        continue;
      }
      // The management virtual server carries the cluster's own services (the DHCP service
      // address first), so its addresses may also sit on the management network.
      const allowed = vs === MANAGEMENT_VSERVER ? ['data', 'mgmt'] : ['data'];
      if (!allowed.includes(r.role)) {
        out.push(error(path, vs === MANAGEMENT_VSERVER
          ? `vs_mgmt has addresses on mgmt# or data# aliases; ${name} is a ${r.role}# alias, private to a filer`
          : `virtual servers have addresses on data# aliases; ${name} is a ${r.role}# alias, private to a filer`));
        continue;
      }
      if (Object.keys(v.addresses[name]!).length === 0) out.push(error(path, `no address instances given for ${name}`));
      for (const h of hosts) {
        const comp = componentWhy(ctx.filers.get(h)!, name);
        if (comp) {
          out.push(error(path, comp));
          break;
        }
      }
    }
  }

  for (const [role, node] of Object.entries(ctx.description.mysql)) {
    const home = node.home !== undefined ? findFiler(ctx.filers, node.home) : undefined;
    for (const name of Object.keys(node.addresses)) {
      const path: Path = ['mysql', role, 'addresses', name];
      const r = parseInterfaceName(name);
      if (!r.ok || r.value.kind !== 'alias' || r.value.role !== 'mgmt') {
        out.push(error(path, `MySQL nodes run on the mgmt# aliases; ${name} is not one`));
        continue;
      }
      if (home) {
        if (!filerHas(home, name)) out.push(error(path, `${role}'s home ${home.name} has no alias ${name}`));
        else {
          const comp = componentWhy(home, name);
          if (comp) out.push(error(path, comp));
        }
      } else if (node.home === undefined && ![...ctx.filers.values()].some((f) => filerHas(f, name))) {
        out.push(error(path, `no filer has alias ${name}, so ${role} could run nowhere`));
      }
    }
  }
  return out;
}
