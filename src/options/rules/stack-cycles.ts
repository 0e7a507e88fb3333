// An interface cannot sit on itself, however long the way round: bond1 with member bond1.7 would
// need bond1 to exist before it can be built. Names allow such loops (a group may have VLAN
// members), so they are looked for explicitly.
import { error, type Finding } from './context.js';
import type { StackModel } from './stack-model.js';

export function checkCycles(m: StackModel): Finding[] {
  const out: Finding[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const reported = new Set<string>();

  const visit = (name: string, trail: string[]): void => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'open') {
      const loop = [...trail.slice(trail.indexOf(name)), name];
      const key = [...loop.slice(0, -1)].sort().join(' ');
      if (reported.has(key)) return;
      reported.add(key);
      const start = loop[0]!;
      out.push(error(pathOf(m, start), `${loop.join(' → ')} is a loop: an interface cannot sit on itself`));
      return;
    }
    state.set(name, 'open');
    for (const b of m.below(name)) visit(b, [...trail, name]);
    state.set(name, 'done');
  };
  for (const n of m.names()) visit(n, []);
  return out;
}

function pathOf(m: StackModel, name: string) {
  const d = m.declared(name);
  const section = d === 'bond' ? 'bonds' : d === 'failover' ? 'failovers' : d === 'vlan' ? 'vlans' : 'aliases';
  return m.view.at(section, name);
}
