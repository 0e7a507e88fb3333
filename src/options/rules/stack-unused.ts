// Warnings for parts of a stack that carry nothing: a bond, failover group or VLAN that no alias,
// VLAN or group uses. The filer would build it and never use it, which usually means a typo in
// the name that should have used it. (Spare NICs are normal and not reported; VLANs of aliases,
// like data0.5, carry addresses themselves.)
import { warning, type Finding, type Section } from './context.js';
import { isAliasVlan, type StackModel } from './stack-model.js';

export function checkUnused(m: StackModel): Finding[] {
  const out: Finding[] = [];
  for (const name of m.names()) {
    const d = m.declared(name);
    if (d !== 'bond' && d !== 'failover' && d !== 'vlan') continue;
    if (d === 'vlan' && (isAliasVlan(name) || m.below(name).length === 0)) continue;
    if (m.uses(name).length > 0) continue;
    const section: Section = d === 'bond' ? 'bonds' : d === 'failover' ? 'failovers' : 'vlans';
    out.push(warning(m.view.at(section, name), `${name} carries nothing: no alias, VLAN or group sits on it`));
  }
  return out;
}
