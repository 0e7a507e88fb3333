// MTU consistency, as the kernel enforces it (a VLAN device cannot exceed its real device; the
// bonding driver sets every member's MTU to the bond's):
//  - a VLAN's or alias's MTU is not above the interface it sits on;
//  - a member's MTU is the group's: setting it on the member is a mistake;
//  - a group's MTU must fit each VLAN member (bonding would set bond0.10 above bond0).
import { error, type Finding } from './context.js';
import type { StackModel } from './stack-model.js';

export function checkMtu(m: StackModel): Finding[] {
  const { stack, at } = m.view;
  const out: Finding[] = [];
  for (const [name, mtu] of Object.entries(stack.mtu)) {
    const d = m.declared(name);
    if (!d) continue; // stack-names reports it
    const owner = m.uses(name).find((u) => u.how === 'member');
    if (owner) {
      out.push(error(at('mtu', name), `${name} is a member of ${owner.by}, whose MTU its members follow; set the MTU on ${owner.by}`));
      continue;
    }
    if (d === 'vlan' || d === 'alias') {
      const parent = m.below(name)[0];
      if (parent === undefined || !m.declared(parent)) continue;
      const cap = m.mtuOf(parent);
      if (mtu > cap) {
        const what = d === 'vlan' ? 'a VLAN' : 'an alias';
        out.push(error(at('mtu', name), `MTU ${mtu} of ${name} is above the ${cap} of ${parent}, the interface it sits on (${what} cannot be larger than its link)`));
      }
    }
  }
  const groups: Array<[string, string[], 'bonds' | 'failovers']> = [
    ...Object.entries(stack.bonds).map(([n, b]) => [n, b.members, 'bonds'] as [string, string[], 'bonds']),
    ...Object.entries(stack.failovers).map(([n, f]) => [n, f.members, 'failovers'] as [string, string[], 'failovers']),
  ];
  for (const [name, members, section] of groups) {
    const mtu = m.mtuOf(name);
    for (const mem of members) {
      if (m.declared(mem) !== 'vlan') continue;
      const parent = m.below(mem)[0];
      if (parent === undefined || !m.declared(parent)) continue;
      const cap = m.mtuOf(parent);
      if (mtu > cap) {
        const path = stack.mtu[name] !== undefined ? at('mtu', name) : at(section, name);
        out.push(error(path, `MTU ${mtu} of ${name} does not fit its member ${mem}, whose parent ${parent} has MTU ${cap}`));
      }
    }
  }
  return out;
}
