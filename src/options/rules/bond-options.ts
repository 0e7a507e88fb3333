// Bond and failover options that only mean something in some modes (Linux
// Documentation/networking/bonding.rst): the kernel refuses or ignores them elsewhere, so an admin
// who sets them expects behaviour they will not get.
//   lacp_rate        802.3ad only
//   xmit_hash_policy balance-xor, 802.3ad, balance-tlb
//   primary          active-backup, balance-tlb, balance-alb
// Also warned: miimon 0 (no link monitoring: nothing fails over), a single-member bond (no
// redundancy), and a group whose members reach different VLANs (failing over changes networks).
import type { BondMode } from '../schema.js';
import { error, warning, type Finding } from './context.js';
import type { StackModel } from './stack-model.js';

const HASH_MODES: readonly BondMode[] = ['balance-xor', '802.3ad', 'balance-tlb'];
const PRIMARY_MODES: readonly BondMode[] = ['active-backup', 'balance-tlb', 'balance-alb'];

export function checkBondOptions(m: StackModel): Finding[] {
  const { stack, at } = m.view;
  const out: Finding[] = [];
  for (const [name, b] of Object.entries(stack.bonds)) {
    const base = at('bonds', name);
    if (b.lacpRate !== undefined && b.mode !== '802.3ad') {
      out.push(error([...base, 'lacpRate'], `lacpRate applies to mode 802.3ad only; ${name} is ${b.mode}`));
    }
    if (b.hashPolicy !== undefined && !HASH_MODES.includes(b.mode)) {
      out.push(error([...base, 'hashPolicy'], `hashPolicy applies to modes ${HASH_MODES.join(', ')} only; ${name} is ${b.mode}`));
    }
    if (b.primary !== undefined && !PRIMARY_MODES.includes(b.mode)) {
      out.push(error([...base, 'primary'], `primary applies to modes ${PRIMARY_MODES.join(', ')} only; ${name} is ${b.mode}`));
    }
    if (b.miimon === 0) out.push(warning([...base, 'miimon'], `miimon 0 turns link monitoring off: ${name} will keep sending on a dead link`));
    if (b.members.length === 1) out.push(warning([...base, 'members'], `${name} has a single member: no redundancy and no added bandwidth`));
  }
  for (const [name, f] of Object.entries(stack.failovers)) {
    const base = at('failovers', name);
    if (f.miimon === 0) out.push(warning([...base, 'miimon'], `miimon 0 turns link monitoring off: ${name} will not fail over when a link dies`));
  }
  const groups: Array<[string, string[], 'bonds' | 'failovers']> = [
    ...Object.entries(stack.bonds).map(([n, b]) => [n, b.members, 'bonds'] as [string, string[], 'bonds']),
    ...Object.entries(stack.failovers).map(([n, f]) => [n, f.members, 'failovers'] as [string, string[], 'failovers']),
  ];
  for (const [name, members, section] of groups) {
    const shapes = new Map<string, string>();
    for (const mem of members) if (m.declared(mem)) shapes.set(mem, m.vlanPaths(mem).join(' + '));
    if (new Set(shapes.values()).size > 1) {
      const detail = [...shapes].map(([mem, s]) => `${mem}: ${s}`).join(', ');
      out.push(warning([...at(section, name), 'members'], `the members of ${name} reach different VLANs (${detail}): traffic changes network when it fails over`));
    }
  }
  return out;
}
