// The graph of one stack, computed once for all stack rules: which section declared a name, what
// each interface sits on (group -> members, VLAN -> parent, alias -> target), effective MTUs and
// the VLAN paths down to the NICs. Every walk guards against loops: cycles are a rule of their own
// (stack-cycles.ts) and must not hang or crash the others.
import { parseInterfaceName, vlanBase, type InterfaceKind } from '../names.js';
import type { Path, StackView } from './context.js';

/** Linux's default MTU for Ethernet, bonds and (so) failover groups. */
export const DEFAULT_MTU = 1500;

export type Declared = 'nic' | 'bond' | 'failover' | 'vlan' | 'alias';

/** One reason an interface is used by another: as a member, as a VLAN parent, as an alias's base. */
export interface Use {
  how: 'member' | 'vlan' | 'alias';
  /** The interface using it. */
  by: string;
  /** Where that use is written. */
  path: Path;
}

export interface StackModel {
  view: StackView;
  /** Which section declared a name (NICs: from the NIC list, or any eth# name when there is none). */
  declared(name: string): Declared | undefined;
  /** What a name sits on, in order: members, VLAN parent, alias target. */
  below(name: string): string[];
  /** Every use of a name by another interface, in file order (bonds, failovers, VLANs, aliases). */
  uses(name: string): Use[];
  /** All declared names except NICs, in file order. */
  names(): string[];
  /** MTU the kernel would end up with: explicit, or inherited from what it sits on, or 1500. */
  mtuOf(name: string): number;
  /** VLAN tag paths from the NICs up to this interface: "untagged", "10", "10.20". */
  vlanPaths(name: string): string[];
}

export function buildStackModel(view: StackView): StackModel {
  const { stack } = view;
  const decl = new Map<string, Declared>();
  for (const n of Object.keys(stack.bonds)) decl.set(n, 'bond');
  for (const n of Object.keys(stack.failovers)) decl.set(n, 'failover');
  for (const n of stack.vlans) if (!decl.has(n)) decl.set(n, 'vlan');
  for (const n of Object.keys(stack.aliases)) if (!decl.has(n)) decl.set(n, 'alias');

  const declared = (name: string): Declared | undefined => {
    const d = decl.get(name);
    if (d) return d;
    if (view.nics) return view.nics.has(name) ? 'nic' : undefined;
    return kindOf(name) === 'ethernet' ? 'nic' : undefined;
  };

  const usesByName = new Map<string, Use[]>();
  const addUse = (name: string, use: Use): void => {
    const list = usesByName.get(name) ?? [];
    list.push(use);
    usesByName.set(name, list);
  };
  const belowByName = new Map<string, string[]>();
  for (const [g, b] of Object.entries(stack.bonds)) {
    belowByName.set(g, [...b.members]);
    b.members.forEach((m, i) => addUse(m, { how: 'member', by: g, path: [...view.at('bonds', g), 'members', i] }));
  }
  for (const [g, f] of Object.entries(stack.failovers)) {
    belowByName.set(g, [...f.members]);
    f.members.forEach((m, i) => addUse(m, { how: 'member', by: g, path: [...view.at('failovers', g), 'members', i] }));
  }
  for (const v of stack.vlans) {
    const p = parseInterfaceName(v);
    if (!p.ok || p.value.kind !== 'vlan') continue;
    belowByName.set(v, [p.value.parent]);
    addUse(p.value.parent, { how: 'vlan', by: v, path: view.at('vlans', v) });
  }
  for (const [a, target] of Object.entries(stack.aliases)) {
    belowByName.set(a, [target]);
    addUse(target, { how: 'alias', by: a, path: view.at('aliases', a) });
  }

  const below = (name: string): string[] => belowByName.get(name) ?? [];

  const mtuCache = new Map<string, number>();
  const mtuOf = (name: string, seen = new Set<string>()): number => {
    const cached = mtuCache.get(name);
    if (cached !== undefined) return cached;
    const explicit = stack.mtu[name];
    let mtu: number;
    if (explicit !== undefined) mtu = explicit;
    else {
      const d = declared(name);
      if ((d === 'vlan' || d === 'alias') && !seen.has(name)) {
        seen.add(name);
        const parent = below(name)[0];
        mtu = parent !== undefined && declared(parent) ? mtuOf(parent, seen) : DEFAULT_MTU;
      } else {
        mtu = DEFAULT_MTU;
      }
    }
    mtuCache.set(name, mtu);
    return mtu;
  };

  const vlanPaths = (name: string, seen = new Set<string>()): string[] => {
    if (seen.has(name)) return [];
    seen.add(name);
    const d = declared(name);
    let out: string[];
    if (d === 'nic' || d === undefined) out = [''];
    else if (d === 'vlan') {
      const p = parseInterfaceName(name);
      const id = p.ok && p.value.kind === 'vlan' ? String(p.value.vlanId) : '?';
      out = below(name).flatMap((parent) => vlanPaths(parent, new Set(seen)).map((s) => (s === '' ? id : `${s}.${id}`)));
    } else {
      out = below(name).flatMap((m) => vlanPaths(m, new Set(seen)));
    }
    return [...new Set(out)].sort();
  };

  return {
    view,
    declared,
    below,
    uses: (name) => usesByName.get(name) ?? [],
    names: () => [...decl.keys()],
    mtuOf: (name) => mtuOf(name),
    vlanPaths: (name) => vlanPaths(name).map((s) => (s === '' ? 'untagged' : s)),
  };
}

export function kindOf(name: string): InterfaceKind | undefined {
  const r = parseInterfaceName(name);
  return r.ok ? r.value.kind : undefined;
}

/** A VLAN whose base is an alias (data0.5): it carries addresses like an alias does. */
export function isAliasVlan(name: string): boolean {
  return kindOf(name) === 'vlan' && kindOf(vlanBase(name)) === 'alias';
}

/** "bond", "VLAN", ... for messages. */
export function describeDeclared(d: Declared | undefined): string {
  switch (d) {
    case 'nic':
      return 'a NIC';
    case 'bond':
      return 'a bond';
    case 'failover':
      return 'a failover group';
    case 'vlan':
      return 'a VLAN';
    case 'alias':
      return 'an alias';
    default:
      return 'undeclared';
  }
}
