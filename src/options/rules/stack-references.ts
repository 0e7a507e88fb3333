// Everything a stack entry names must exist on the same filer and be of a kind that can sit there:
//  - bond members: NICs, or VLANs of NICs/bonds/groups (a bond of bonds is spelled fail#);
//  - failover members: NICs, bonds, or such VLANs (seed 003 §5.2.2: fail0 out of bond0.10, bond1.10);
//  - VLAN parents: anything, an alias included (data0.5, §5.2.1);
//  - alias targets: a NIC, bond, failover group or VLAN of those, never another alias;
//  - a group's primary is one of its members; a member is not listed twice.
import { vlanBase } from '../names.js';
import { error, type Finding, type Path, type Section } from './context.js';
import { describeDeclared, isAliasVlan, kindOf, type Declared, type StackModel } from './stack-model.js';

function missing(m: StackModel, name: string): string {
  if (kindOf(name) === 'ethernet' && m.view.nics) {
    const nics = [...m.view.nics].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    return `${name} is not a NIC of ${m.view.subject} (its NICs: ${nics.join(', ') || 'none'})`;
  }
  return `${name} does not exist on ${m.view.subject}`;
}

/** Kinds allowed below each kind of interface, with the reason given when another is used. */
function allowedMember(group: 'bond' | 'failover', d: Declared, name: string): string | undefined {
  if (d === 'alias' || (d === 'vlan' && isAliasVlan(name))) return `${name} is an alias; aliases sit on top of the stack and cannot be members`;
  if (d === 'nic' || d === 'vlan') return undefined;
  if (group === 'bond') {
    return `${name} is ${describeDeclared(d)}: a bond's members are NICs or VLANs (combine bonds with a failover group fail#)`;
  }
  if (d === 'bond') return undefined;
  return `${name} is a failover group: failover groups do not nest`;
}

export function checkStackReferences(m: StackModel): Finding[] {
  const { stack, at } = m.view;
  const out: Finding[] = [];

  const checkGroup = (section: Section, kind: 'bond' | 'failover', name: string, members: string[], primary: string | undefined): void => {
    const base = at(section, name);
    const seen = new Set<string>();
    members.forEach((member, i) => {
      const path: Path = [...base, 'members', i];
      if (seen.has(member)) {
        out.push(error(path, `${member} is listed twice among the members of ${name}`));
        return;
      }
      seen.add(member);
      const d = m.declared(member);
      if (!d) {
        out.push(error(path, `member ${missing(m, member)}`));
        return;
      }
      const why = allowedMember(kind, d, member);
      if (why) out.push(error(path, why));
    });
    if (primary !== undefined && !members.includes(primary)) {
      out.push(error([...base, 'primary'], `primary ${primary} is not a member of ${name} (members: ${members.join(', ')})`));
    }
  };
  for (const [name, b] of Object.entries(stack.bonds)) checkGroup('bonds', 'bond', name, b.members, b.primary);
  for (const [name, f] of Object.entries(stack.failovers)) checkGroup('failovers', 'failover', name, f.members, f.primary);

  for (const v of stack.vlans) {
    const parent = m.below(v)[0];
    if (parent === undefined) continue; // not a VLAN name: stack-names reports it
    if (!m.declared(parent)) out.push(error(at('vlans', v), `VLAN ${v} sits on ${parent}, but ${missing(m, parent)}`));
  }

  for (const [alias, target] of Object.entries(stack.aliases)) {
    const path = [...at('aliases', alias)];
    const d = m.declared(target);
    if (!d) {
      out.push(error(path, `alias ${alias} sits on ${target}, but ${missing(m, target)}`));
      continue;
    }
    if (d === 'alias' || (d === 'vlan' && kindOf(vlanBase(target)) === 'alias')) {
      out.push(error(path, `alias ${alias} sits on ${target}, another alias: an alias sits on a NIC, bond, failover group or VLAN`));
    }
  }
  return out;
}
