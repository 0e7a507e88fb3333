// What a filer built, as a tree for people: read back from the kernel (`ip -j -d`, parsed by
// net/observe), not from what the agent meant to do. Bonds with their members' LACP or
// active/backup state, VLANs, aliases with their addresses, then the per-server routing tables
// and rules. Pure.
import type { ObservedLink, ObservedState } from '../net/observe.js';
import { RT_TABLE_DEFAULT, RT_TABLE_LOCAL, RT_TABLE_MAIN } from '../net/ownership.js';

/** The LACP states that matter to a reader, in negotiation order (IEEE 802.1AX actor state bits). */
const LACP_SHOWN = ['in_sync', 'collecting', 'distributing'];

function describeLink(l: ObservedLink, parent: ObservedLink | undefined): string {
  const parts: string[] = [];
  if (l.kind === 'bond' && l.bond) {
    parts.push(l.bond.mode);
    if (l.bond.lacpRate !== undefined && l.bond.mode === '802.3ad') parts.push(`lacp ${l.bond.lacpRate}`);
    if (l.bond.hashPolicy !== undefined && l.bond.mode !== 'active-backup') parts.push(l.bond.hashPolicy);
    if (l.bond.primary !== undefined) parts.push(`primary ${l.bond.primary}`);
  } else if (l.kind === 'vlan') {
    parts.push(`VLAN ${l.vlanId ?? '?'}`);
  } else if (l.kind === 'macvlan') {
    parts.push(`mac ${l.mac ?? '?'}`);
  }
  if (parent?.kind === 'bond' && l.master === parent.ifname && l.slave) {
    const lacp = l.slave.adPortState;
    if (parent.bond?.mode === '802.3ad') {
      const shown = (lacp ?? []).filter((s) => LACP_SHOWN.includes(s));
      parts.push(`LACP ${shown.length ? shown.join(' ') : 'not negotiated'}`);
    } else if (l.slave.state !== undefined) {
      parts.push(l.slave.state.toLowerCase());
    }
  }
  if (!l.up) parts.push('DOWN');
  // An MTU is news where it is set, not on everything that inherits it.
  if (l.mtu !== (parent?.mtu ?? 1500)) parts.push(`mtu ${l.mtu}`);
  return parts.join(', ');
}

/**
 * The filer's stack as an indented tree. Only what rackstrap owns is shown, with the NICs under
 * their bonds; `title` heads it.
 */
export function renderStack(state: ObservedState, title: string): string {
  const byName = new Map(state.links.map((l) => [l.ifname, l]));
  const children = (name: string): ObservedLink[] => [
    ...state.links.filter((l) => l.master === name),
    ...state.links.filter((l) => l.parent === name && l.master !== name),
  ];
  const hasOwned = (l: ObservedLink, depth = 0): boolean => depth < 16 && (l.owned || children(l.ifname).some((c) => hasOwned(c, depth + 1)));
  const roots = state.links.filter((l) => l.master === undefined && l.parent === undefined && l.ifname !== 'lo' && hasOwned(l));

  const tableOf = new Map<string, number>();
  for (const r of state.rules) if (r.owned && r.src !== undefined && r.table !== undefined) tableOf.set(r.src, r.table);
  const addressesOf = (dev: string): string[] =>
    state.addresses
      .filter((a) => a.dev === dev)
      .map((a) => {
        const table = tableOf.get(a.local);
        return `${a.local}/${a.prefixlen}${table !== undefined ? ` (table ${table})` : ''}`;
      });

  const rows: Array<{ head: string; info: string; addrs: string[] }> = [];
  const walk = (l: ObservedLink, parent: ObservedLink | undefined, prefix: string, last: boolean, depth: number): void => {
    rows.push({ head: `${prefix}${last ? '└─ ' : '├─ '}${l.ifname}`, info: describeLink(l, parent), addrs: addressesOf(l.ifname) });
    if (depth > 16) return;
    const kids = children(l.ifname).filter((c) => c.master === l.ifname || hasOwned(c));
    kids.forEach((c, i) => walk(c, l, `${prefix}${last ? '   ' : '│  '}`, i === kids.length - 1, depth + 1));
  };
  roots.forEach((r, i) => walk(r, undefined, '', i === roots.length - 1, 0));
  const width = Math.max(0, ...rows.map((r) => r.head.length)) + 2;
  const lines: string[] = [title];
  for (const r of rows) lines.push(`${r.head.padEnd(width)}${[r.info, ...r.addrs].filter((x) => x !== '').join('  ')}`.trimEnd());

  const owned = state.routes.filter((r) => r.owned);
  const tables = [...new Set(owned.map((r) => r.table))].sort((a, b) => a - b);
  for (const t of tables) {
    const name = t === RT_TABLE_MAIN ? 'main' : t === RT_TABLE_LOCAL ? 'local' : t === RT_TABLE_DEFAULT ? 'default' : `table ${t}`;
    const routes = owned.filter((r) => r.table === t);
    const realm = routes.find((r) => r.realm !== undefined)?.realm;
    lines.push(`${name}${realm !== undefined ? ` (realm ${realm})` : ''}:`);
    for (const r of routes) {
      const via = r.gateway !== undefined ? ` via ${r.gateway}` : '';
      const src = r.prefsrc !== undefined ? ` src ${r.prefsrc}` : '';
      lines.push(`   ${r.dst}${via} dev ${r.dev ?? '?'}${src}`);
    }
    for (const rule of state.rules.filter((x) => x.owned && x.table === t)) {
      const realms = rule.realmFrom !== undefined || rule.realmTo !== undefined ? ` realms ${rule.realmFrom ?? 0}/${rule.realmTo ?? 0}` : '';
      lines.push(`   rule ${rule.priority}: from ${rule.src ?? 'all'} lookup ${t}${realms}`);
    }
  }
  return lines.join('\n');
}
