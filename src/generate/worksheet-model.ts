// What the pre-arrival worksheet says (a customer is sent a work sheet with the identifying DHCP
// configuration before the systems arrive), computed once for the three renderings (Markdown,
// CSV, SVG): per filer, each physical NIC with the switch settings its port needs (LACP groups
// configured first, the native VLAN, the tagged ones), the one NIC that must reach DHCP at first
// boot, each identifier with its address, and the interface stack as a layered graph.
import type { ResolvedFiler } from '../options/normalize.js';
import { parseInterfaceName, isAddressable } from '../options/names.js';
import { filerStackView } from '../options/rules/cluster-context.js';
import { buildStackModel, DEFAULT_MTU, type Declared, type StackModel } from '../options/rules/stack-model.js';
import { naturalCompare } from '../options/wire/index.js';
import { purposeOf, type AddressEntry, type GenModel } from './model.js';

export interface PortRow {
  nic: string;
  mac: string;
  /** LACP group and rate, static LAG, or why no aggregation is configured. */
  aggregation: string;
  /** Addressable interfaces this port carries without a VLAN tag. */
  untagged: string[];
  /**
   * The native (untagged) VLAN the port needs, in words: the VLAN ID of the subnet its untagged
   * interfaces are on (found where another port tags that subnet), the first-boot subnet's on the
   * one NIC that must reach DHCP at first boot, or none.
   */
  native: string;
  /** VLAN ids the port must trunk (the outer tag on the wire), ascending. */
  tagged: number[];
  /** Stacked tags (802.1ad/QinQ), outer tag first: "10 > 5" for data0.5 over bond0.10. */
  stacked: string[];
  /** Largest MTU of anything built on this NIC: the port must pass frames that size (plus tags). */
  mtu: number;
  /** Addressable interfaces reaching the network through this NIC, with their VLAN path. */
  carries: string[];
}

export interface IdentifierRow {
  identifier: string;
  /** The fixed address, or how a topology request is answered. */
  address: string;
  subnet: string;
  purpose: string;
}

export interface StackNode {
  name: string;
  kind: Declared;
  /** Lines under the name in a drawing: MAC, bond mode, VLAN id, address, MTU. */
  detail: string[];
  /** 0 for NICs; one above the highest interface it sits on. */
  level: number;
}

export interface FilerSheet {
  filer: string;
  baseMac: string;
  /** Where the base MAC comes from, in plain words (eth0's MAC, or set in the description). */
  baseMacFrom: string;
  template: string | undefined;
  topologyKey: string;
  ports: PortRow[];
  /** The one NIC that must reach a DHCP server (untagged) at first boot, and why that one. */
  firstBoot: { nic: string; subnet: string; why: string } | undefined;
  identifiers: IdentifierRow[];
  nodes: StackNode[];
  /** lower -> upper: `from` is what `to` sits on. */
  edges: Array<{ from: string; to: string }>;
}

export interface Worksheet {
  source: string;
  cluster: GenModel['cluster'];
  subnets: Array<{ prefix: string; routers: string[]; dns: string[]; bootstrap: string | undefined }>;
  filers: FilerSheet[];
  /** Virtual server and MySQL identifiers with no home filer: the HA layer places them. */
  floating: IdentifierRow[];
}

function vlanId(name: string): number | undefined {
  const r = parseInterfaceName(name);
  return r.ok && r.value.kind === 'vlan' ? r.value.vlanId : undefined;
}

/** How a NIC's port must be grouped on the switch, from the bond or failover group it belongs to. */
function aggregationOf(f: ResolvedFiler, m: StackModel, nic: string): string {
  const group = m.uses(nic).find((u) => u.how === 'member')?.by;
  if (group === undefined) return 'none';
  const others = (members: string[]) => members.filter((x) => x !== nic).join(', ') || 'no other port';
  const bond = f.stack.bonds[group];
  if (bond) {
    const members = bond.members.join(' + ');
    switch (bond.mode) {
      case '802.3ad':
        return `LACP (802.3ad) group ${group}: ${members}, rate ${bond.lacpRate ?? 'slow'}`;
      case 'balance-rr':
      case 'balance-xor':
      case 'broadcast':
        return `static link aggregation, no LACP (${group} ${bond.mode}): ${members}`;
      default:
        return `none: ${group} ${bond.mode} with ${others(bond.members)}; configure those ports the same`;
    }
  }
  const fail = f.stack.failovers[group];
  if (fail) return `none: failover ${group} with ${others(fail.members)}; configure those ports the same`;
  return 'none';
}

interface Reach {
  /** VLAN ids met walking down from the addressable interface, innermost first. */
  tags: number[];
  top: string;
  mtu: number;
}

/** For every NIC, each addressable interface that reaches it and the tags on the way. */
function reachByNic(m: StackModel, tops: string[]): Map<string, Reach[]> {
  const out = new Map<string, Reach[]>();
  const walk = (name: string, top: string, tags: number[], mtu: number, seen: Set<string>): void => {
    if (seen.has(name)) return; // loops are a validation error; never hang on one
    const next = new Set(seen).add(name);
    const here = Math.max(mtu, m.mtuOf(name));
    if (m.declared(name) === 'nic') {
      const list = out.get(name) ?? [];
      list.push({ tags, top, mtu: here });
      out.set(name, list);
      return;
    }
    const id = m.declared(name) === 'vlan' ? vlanId(name) : undefined;
    for (const b of m.below(name)) walk(b, top, id === undefined ? tags : [...tags, id], here, next);
  };
  for (const t of tops) walk(t, t, [], DEFAULT_MTU, new Set());
  return out;
}

/** What the whole cluster says about subnets and VLANs: which subnets each alias is on, which VLAN ID tags each subnet. */
interface VlanFacts {
  aliasSubnets: Map<string, Set<string>>;
  subnetVlans: Map<string, Set<number>>;
}

/** The native VLAN for `prefix` on a port that tags `taggedHere`: an ID the port does not tag already. */
function subnetText(prefix: string, facts: VlanFacts, taggedHere: readonly number[]): string {
  const all = [...(facts.subnetVlans.get(prefix) ?? [])].sort((a, b) => a - b);
  const ids = all.filter((id) => !taggedHere.includes(id));
  if (ids.length > 0) return `VLAN ${ids.join(' or ')} (${prefix})`;
  if (all.length > 0) return `a VLAN of ${prefix} other than ${all.join(', ')} (tagged on this port too)`;
  return `the VLAN of ${prefix} (untagged everywhere in the description: the site's ID)`;
}

function vlanFacts(model: GenModel): VlanFacts {
  const aliasSubnets = new Map<string, Set<string>>();
  for (const r of model.allAddresses) {
    const s = aliasSubnets.get(r.alias) ?? new Set<string>();
    s.add(r.subnet.prefix);
    aliasSubnets.set(r.alias, s);
  }
  const subnetVlans = new Map<string, Set<number>>();
  for (const f of model.loaded.filers.values()) {
    const m = buildStackModel(filerStackView(f));
    for (const rs of reachByNic(m, addressableTops(m)).values()) {
      for (const r of rs) {
        if (r.tags.length !== 1) continue;
        for (const prefix of aliasSubnets.get(r.top) ?? []) {
          const ids = subnetVlans.get(prefix) ?? new Set<number>();
          ids.add(r.tags[0]!);
          subnetVlans.set(prefix, ids);
        }
      }
    }
  }
  return { aliasSubnets, subnetVlans };
}

function addressableTops(m: StackModel): string[] {
  return m
    .names()
    .filter((n) => isAddressable(n) && !m.uses(n).some((u) => u.how === 'vlan'))
    .sort(naturalCompare);
}

/**
 * The NIC that must reach DHCP at first boot: the agent asks on every NIC, and one answer is
 * enough; the NIC under the first mgmt# alias is the one cabled to the management network, whose
 * subnet should hold the bootstrap range (else the first subnet that does).
 */
function firstBootNic(f: ResolvedFiler, m: StackModel, model: GenModel, facts: VlanFacts): FilerSheet['firstBoot'] {
  const reach = reachByNic(m, addressableTops(m));
  const bootstrap = model.bootstrapSubnets.map((s) => s.prefix);
  if (bootstrap.length === 0) return undefined;
  const nics = Object.keys(f.nics).sort(naturalCompare);
  const mgmt = addressableTops(m).filter((n) => n.startsWith('mgmt'));
  for (const top of [...mgmt, ...addressableTops(m)]) {
    const subnet = [...(facts.aliasSubnets.get(top) ?? [])].find((p) => bootstrap.includes(p));
    if (subnet === undefined) continue;
    const nic = nics.find((n) => (reach.get(n) ?? []).some((r) => r.top === top));
    if (nic !== undefined) return { nic, subnet, why: `it carries ${top}, on ${subnet}, which holds a bootstrap range` };
  }
  return { nic: nics[0]!, subnet: bootstrap[0]!, why: `no interface of the stack is on a subnet with a bootstrap range; ${nics[0]} must reach ${bootstrap[0]}` };
}

function nativeOf(row: { nic: string; untagged: string[]; tagged: number[] }, facts: VlanFacts, first: FilerSheet['firstBoot']): string {
  const subnets = [...new Set(row.untagged.flatMap((a) => [...(facts.aliasSubnets.get(a) ?? [])]))].sort(naturalCompare);
  if (subnets.length > 0) return subnets.map((p) => subnetText(p, facts, row.tagged)).join('; ');
  // Before the stack exists the request goes out untagged: the subnet's VLAN native, even one the
  // stack tags on this port later.
  if (first !== undefined && first.nic === row.nic) return `${subnetText(first.subnet, facts, [])}, at first boot`;
  return 'none needed';
}

function portRows(f: ResolvedFiler, m: StackModel): PortRow[] {
  // Interfaces that hold addresses: aliases and alias VLANs, except an alias carrying a VLAN
  // (data0 under data0.5 is a component then, §5.2.2, and its traffic is counted via the VLAN).
  const reach = reachByNic(m, addressableTops(m));
  return Object.keys(f.nics)
    .sort(naturalCompare)
    .map((nic) => {
      const rs = reach.get(nic) ?? [];
      const untagged = new Set<string>();
      const tagged = new Set<number>();
      const stacked = new Set<string>();
      const carries = new Set<string>();
      let mtu = m.mtuOf(nic);
      for (const r of rs) {
        mtu = Math.max(mtu, r.mtu);
        const wire = [...r.tags].reverse(); // the tag added last (nearest the NIC) is outermost
        if (wire.length === 0) untagged.add(r.top);
        else tagged.add(wire[0]!);
        if (wire.length > 1) stacked.add(wire.join(' > '));
        carries.add(wire.length === 0 ? `${r.top} (untagged)` : wire.length === 1 ? `${r.top} (VLAN ${wire[0]})` : `${r.top} (VLANs ${wire.join(' > ')}, outer first)`);
      }
      return {
        nic,
        mac: f.nics[nic]!,
        aggregation: rs.length === 0 ? 'not used by the stack' : aggregationOf(f, m, nic),
        untagged: [...untagged].sort(naturalCompare),
        native: '',
        tagged: [...tagged].sort((a, b) => a - b),
        stacked: [...stacked].sort(naturalCompare),
        mtu,
        carries: [...carries].sort(naturalCompare),
      };
    });
}

function detailOf(f: ResolvedFiler, m: StackModel, name: string, kind: Declared): string[] {
  const lines: string[] = [];
  switch (kind) {
    case 'nic':
      lines.push(f.nics[name] ?? '');
      break;
    case 'bond': {
      const b = f.stack.bonds[name]!;
      lines.push(b.mode === '802.3ad' ? `802.3ad LACP ${b.lacpRate ?? 'slow'}` : b.mode);
      break;
    }
    case 'failover': {
      const g = f.stack.failovers[name]!;
      lines.push(g.primary ? `failover, primary ${g.primary}` : 'failover');
      break;
    }
    case 'vlan':
      lines.push(`VLAN ${vlanId(name) ?? '?'}`);
      break;
    case 'alias': {
      const a = f.addresses[name];
      lines.push(a ?? (name.startsWith('data') ? 'virtual servers' : 'alias'));
      break;
    }
  }
  const mtu = m.mtuOf(name);
  if (mtu !== DEFAULT_MTU && kind !== 'alias' && kind !== 'vlan') lines.push(`MTU ${mtu}`);
  else if (mtu !== DEFAULT_MTU && f.stack.mtu[name] !== undefined) lines.push(`MTU ${mtu}`);
  return lines;
}

function stackGraph(f: ResolvedFiler, m: StackModel): Pick<FilerSheet, 'nodes' | 'edges'> {
  const names = [...Object.keys(f.nics), ...m.names()];
  const level = new Map<string, number>();
  const levelOf = (n: string, seen: Set<string>): number => {
    const known = level.get(n);
    if (known !== undefined) return known;
    if (seen.has(n)) return 0;
    const below = m.below(n).filter((b) => m.declared(b) !== undefined);
    const l = m.declared(n) === 'nic' || below.length === 0 ? 0 : 1 + Math.max(...below.map((b) => levelOf(b, new Set(seen).add(n))));
    level.set(n, l);
    return l;
  };
  const nodes: StackNode[] = [];
  const edges: Array<{ from: string; to: string }> = [];
  for (const n of names) {
    const kind = m.declared(n);
    if (kind === undefined) continue;
    nodes.push({ name: n, kind, detail: detailOf(f, m, n, kind), level: levelOf(n, new Set()) });
    for (const b of m.below(n)) if (m.declared(b) !== undefined) edges.push({ from: b, to: n });
  }
  // Addresses live on the top row: an alias nothing sits on is lifted to the highest level, so
  // every address of the filer reads along one line of the drawing.
  const top = Math.max(0, ...nodes.map((n) => n.level));
  const hasParent = new Set(edges.map((e) => e.from));
  for (const n of nodes) if (isAddressable(n.name) && !hasParent.has(n.name)) n.level = top;
  nodes.sort((a, b) => a.level - b.level || naturalCompare(a.name, b.name));
  edges.sort((a, b) => naturalCompare(a.to, b.to) || naturalCompare(a.from, b.from));
  return { nodes, edges };
}

function identifierRow(r: AddressEntry): IdentifierRow {
  return { identifier: r.identifier, address: r.address, subnet: r.subnet.prefix, purpose: purposeOf(r) };
}

/** The home filer of a virtual server or MySQL address, as declared in the description. */
function homeOf(model: GenModel, r: AddressEntry): string | undefined {
  if (r.kind === 'filer') return r.filer;
  const home = r.home;
  if (home === undefined) return undefined;
  const lower = home.toLowerCase();
  return [...model.loaded.filers.keys()].find((n) => n.toLowerCase() === lower);
}

export function buildWorksheet(model: GenModel): Worksheet {
  const byHome = new Map<string, AddressEntry[]>();
  const floating: IdentifierRow[] = [];
  for (const r of model.allAddresses) {
    const home = homeOf(model, r);
    if (home === undefined) floating.push(identifierRow(r));
    else {
      const list = byHome.get(home) ?? [];
      list.push(r);
      byHome.set(home, list);
    }
  }
  const bootstrap = model.bootstrapSubnets.map((s) => `${s.bootstrap!.start}–${s.bootstrap!.end} (${s.prefix})`).join(', ');
  const facts = vlanFacts(model);
  const filers = model.filers.map((ft): FilerSheet => {
    const f = model.loaded.filers.get(ft.filer)!;
    const m = buildStackModel(filerStackView(f));
    const own = byHome.get(ft.filer) ?? [];
    const firstBoot = firstBootNic(f, m, model, facts);
    return {
      filer: ft.filer,
      baseMac: ft.baseMac,
      baseMacFrom:
        f.baseMacNic !== undefined
          ? `the MAC of ${f.baseMacNic}, which its agent reads from the hardware`
          : `set in the description: this filer's agent.yaml must say baseMac: ${ft.baseMac}`,
      template: f.template,
      topologyKey: ft.topologyKey,
      ports: portRows(f, m).map((row) => ({ ...row, native: nativeOf(row, facts, firstBoot) })),
      firstBoot,
      identifiers: [
        { identifier: ft.topologyKey, address: bootstrap ? `offer from ${bootstrap}` : 'no bootstrap range', subnet: '', purpose: `topology request of ${ft.filer} (option 43)` },
        ...own.map(identifierRow),
      ],
      ...stackGraph(f, m),
    };
  });
  return {
    source: model.source,
    cluster: model.cluster,
    subnets: model.allSubnets.map((s) => ({
      prefix: s.prefix,
      routers: s.routers,
      dns: s.dns,
      bootstrap: s.bootstrap ? `${s.bootstrap.start}–${s.bootstrap.end}` : undefined,
    })),
    filers,
    floating,
  };
}
