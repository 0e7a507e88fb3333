// Seed 003 §5.2.2: names are not chosen freely, the name says the kind. Each section of a stack
// accepts only its own kind: bonds -> bond#, failovers -> fail#, vlans -> <parent>.<id>,
// aliases -> mgmt#/data#/san#; MTU may be set on any interface that exists.
import { parseInterfaceName, vlanBase } from '../names.js';
import { error, type Finding, type Section } from './context.js';
import { kindOf, type StackModel } from './stack-model.js';

const SECTION_OF_KIND: Record<string, Section> = { bond: 'bonds', failover: 'failovers', vlan: 'vlans', alias: 'aliases' };

function wrongSection(name: string, section: Section): string | undefined {
  const k = kindOf(name);
  if (k === 'ethernet') return `${name} is a NIC name; NICs are declared under the filer's nics, not under ${section}`;
  if (k === 'vlan' && kindOf(vlanBase(name)) === 'alias' && section === 'aliases') {
    return `${name} is a VLAN on alias ${vlanBase(name)}: list it under vlans`;
  }
  if (k && SECTION_OF_KIND[k] && SECTION_OF_KIND[k] !== section) return `${name} is named like ${k === 'alias' ? 'an alias' : `a ${k}`}: put it under ${SECTION_OF_KIND[k]}`;
  return undefined;
}

export function checkStackNames(m: StackModel): Finding[] {
  const { stack, at } = m.view;
  const out: Finding[] = [];
  const expect = (section: Section, name: string, kind: string, rule: string): void => {
    const r = parseInterfaceName(name);
    if (!r.ok) {
      out.push(error(at(section, name), r.reason));
      return;
    }
    if (r.value.kind === kind) return;
    out.push(error(at(section, name), (section !== 'vlans' ? wrongSection(name, section) : undefined) ?? rule));
  };
  for (const name of Object.keys(stack.bonds)) expect('bonds', name, 'bond', `bonds are named bond0, bond1, ..., not ${name}`);
  for (const name of Object.keys(stack.failovers)) expect('failovers', name, 'failover', `failover groups are named fail0, fail1, ..., not ${name}`);
  for (const name of stack.vlans) expect('vlans', name, 'vlan', `${name} is not a VLAN name: VLANs are <parent>.<vlan id>, like bond0.10`);
  for (const name of Object.keys(stack.aliases)) expect('aliases', name, 'alias', `aliases are named mgmt#, data# or san#, not ${name}`);
  for (const name of Object.keys(stack.mtu)) {
    if (!m.declared(name)) out.push(error(at('mtu', name), `MTU set for ${name}, which does not exist on ${m.view.subject}`));
  }
  return out;
}
