// Seed 003 §5.2.2: "whenever one of these interfaces is used as a component of a higher level
// interface ... the lower level interfaces can no longer be used directly. They cannot have IP
// addresses associated with them and they cannot be used in the creation of new interfaces."
// A member of a bond or failover group is therefore used nowhere else: not in a second group, not
// as a VLAN parent, not under an alias. (Carrying several VLANs and aliases is fine otherwise,
// §5.2.2.1; addresses are checked in addresses.ts.)
import { error, type Finding } from './context.js';
import type { StackModel } from './stack-model.js';

const WHY = 'an interface used inside another can no longer be used directly';

export function checkExclusiveUse(m: StackModel): Finding[] {
  const out: Finding[] = [];
  const names = new Set<string>([...m.names(), ...(m.view.nics ?? [])]);
  // NICs referenced but not declared (no NIC list): still check their uses.
  for (const n of m.names()) for (const b of m.below(n)) names.add(b);
  for (const name of names) {
    const uses = m.uses(name);
    // The inherited use (a template) was written first; a filer's patch adding a second use is the
    // line to blame.
    const members = uses.filter((u) => u.how === 'member');
    const owner = members.find((u) => u.path[0] === 'templates') ?? members[0];
    if (!owner) continue;
    for (const u of uses) {
      if (u === owner) continue;
      if (u.how === 'member') {
        if (u.by === owner.by) continue; // listed twice in one group: stack-references says so
        out.push(error(u.path, `${name} is already a member of ${owner.by}; ${WHY}`));
      } else if (u.how === 'vlan') {
        out.push(error(u.path, `VLAN ${u.by} sits on ${name}, which is a member of ${owner.by}; ${WHY}`));
      } else {
        out.push(error(u.path, `alias ${u.by} sits on ${name}, which is a member of ${owner.by}; ${WHY}`));
      }
    }
  }
  return out;
}
