// Seed 003 §5.2.2.1: "if the same alias name is used on two different filers they should have
// the same network connectivity ... data0 on filer1 must have the same IP connectivity and VLAN
// membership as data0 on filer2." We cannot see the switches, but we can compare what the
// description says: the VLAN tags between each alias and the NICs, the MTU, and (for filer
// addresses) the subnet. Differences are warnings the admin can act on.
import { warning, type Finding, type Path } from './context.js';
import type { ClusterContext } from './cluster-context.js';
import { isAliasVlan } from './stack-model.js';
import { parseCidr, parseIp, PrefixIndex, type Cidr } from './ip.js';

function describePaths(paths: string[]): string {
  if (paths.length === 1) return paths[0] === 'untagged' ? 'untagged' : `VLAN ${paths[0]}`;
  return `VLANs ${paths.join(' + ')}`;
}

export function checkConnectivity(ctx: ClusterContext): Finding[] {
  const out: Finding[] = [];
  const byName = new Map<string, Array<{ filer: string; vlans: string; mtu: number; path: Path }>>();
  for (const f of ctx.filers.values()) {
    const m = ctx.models.get(f.name)!;
    const names = [...Object.keys(f.stack.aliases), ...f.stack.vlans.filter(isAliasVlan)];
    for (const n of names) {
      // Inherited from a template, the difference comes from the filer's own patch: point there.
      const origin = Object.hasOwn(f.stack.aliases, n) ? f.origins.aliases[n] : f.origins.vlans[n];
      const path = origin && origin[0] !== 'templates' ? origin : ['filers', f.name, 'stack'];
      const list = byName.get(n) ?? [];
      list.push({ filer: f.name, vlans: describePaths(m.vlanPaths(n)), mtu: m.mtuOf(n), path });
      byName.set(n, list);
    }
  }
  for (const [n, list] of byName) {
    const first = list[0]!;
    for (const other of list.slice(1)) {
      if (other.vlans !== first.vlans) {
        out.push(warning(other.path, `${n} is ${other.vlans} on ${other.filer} but ${first.vlans} on ${first.filer}: an alias name must have the same connectivity on every filer`));
      } else if (other.mtu !== first.mtu) {
        out.push(warning(other.path, `${n} has MTU ${other.mtu} on ${other.filer} but ${first.mtu} on ${first.filer}: failing over would change the MTU its clients see`));
      }
    }
  }

  // Filer-private addresses of one alias name should sit on one subnet across filers.
  const cidrs = ctx.description.scope.subnets.map((s) => parseCidr(s.prefix)).filter((c): c is Cidr => c !== undefined);
  const index = new PrefixIndex(cidrs.map((c) => [c, c] as const));
  const subnetOf = new Map<string, { filer: string; subnet: string }>();
  for (const f of ctx.filers.values()) {
    for (const [alias, a] of Object.entries(f.addresses)) {
      const ip = parseIp(a);
      const c = ip && index.find(ip);
      if (!c) continue;
      const first = subnetOf.get(alias);
      if (!first) subnetOf.set(alias, { filer: f.name, subnet: c.text });
      else if (first.subnet !== c.text) {
        out.push(warning(['filers', f.name, 'addresses', alias], `${alias} of ${f.name} is on ${c.text} but ${alias} of ${first.filer} is on ${first.subnet}: an alias name must have the same connectivity on every filer`));
      }
    }
  }
  return out;
}
