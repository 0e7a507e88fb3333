// The demo's lab, decided from the cluster description (pure: no kernel access). One switch
// namespace with a bridge that forwards tagged frames as they are, one namespace per filer whose
// NICs carry the description's MACs (so the base MAC and topology key match), and one namespace for
// the embedded DHCP server, trunked into the switch with a VLAN sub-interface for every VLAN path an
// alias sits on. The same subnet may sit on several server interfaces (the example puts 10.2.2.0/24
// on VLANs 10, 20 and 40): the server's sockets are per interface (SO_BINDTODEVICE) and it picks the
// subnets of a request from the addresses of the interface it came in on, so each of those
// interfaces gets its own address in that subnet.
//
// On the switch side, each filer bond gets the partner the real switch would have: an LACP bond for
// 802.3ad, a static bond for the balance modes, plain bridge ports for active-backup (fail#) and the
// rest.
import { RackstrapError } from '../errors.js';
import type { LoadedCluster } from '../options/load.js';
import { parseInterfaceName, vlanBase } from '../options/names.js';
import { reservationsOf, subnetsOf } from '../options/resolve.js';
import type { Stack } from '../options/schema.js';
import { formatIpv4, maskOf, parseIpv4 } from '../net/ipv4.js';

export interface LabNames {
  /** Prefix of every namespace (keep it short: bond and veth names are built from indexes, not from it). */
  prefix: string;
  /** Only these filers get a namespace (names as in the description, any case); default all. */
  filers?: string[];
}

export interface LabNic {
  /** eth# in the topology and in the filer's namespace. */
  name: string;
  mac: string;
  /** The veth peer's name in the switch namespace. */
  switchPort: string;
}

export interface LabFiler {
  name: string;
  netns: string;
  baseMac: string;
  nics: LabNic[];
}

export interface ServerInterface {
  /** srv0 (untagged) or srv0.10, srv0.10.20 ... */
  ifname: string;
  /** VLAN ids from the wire up; [] for untagged. */
  vlanPath: number[];
  /** `a.b.c.d/len`: one per subnet reached on this VLAN path. */
  addresses: string[];
}

/** One `ip -batch` run: in `netns` (undefined = the current namespace). */
export interface LabBatch {
  netns: string | undefined;
  lines: string[];
}

export interface LabPlan {
  switchNetns: string;
  serverNetns: string;
  /** The server's trunk port (untagged traffic) inside serverNetns. */
  serverTrunk: string;
  serverInterfaces: ServerInterface[];
  filers: LabFiler[];
  /** Partner bonds on the switch: name -> [mode, members]. For messages and checks. */
  switchBonds: Array<{ name: string; filer: string; bond: string; mode: '802.3ad' | 'balance-xor'; members: string[] }>;
  /** Every namespace the lab creates, for teardown. */
  namespaces: string[];
  /** `ip netns add ...` first, then these batches in order. */
  batches: LabBatch[];
}

export class LabPlanError extends RackstrapError {
  constructor(message: string) {
    super('RS_LAB_LAB', message);
  }
}

const SERVER_TRUNK = 'srv0';
const BRIDGE = 'br0';

/**
 * VLAN ids a frame of `ifname` carries on the wire, outermost last. A failover group over VLAN
 * interfaces (fail0 over bond0.10 and bond1.10) inherits its first member's tags.
 */
export function wireVlanPath(stack: Stack, ifname: string, seen: Set<string> = new Set()): number[] {
  if (seen.has(ifname)) throw new LabPlanError(`interface loop at ${ifname}`);
  seen.add(ifname);
  const parsed = parseInterfaceName(ifname);
  if (!parsed.ok) throw new LabPlanError(`${ifname}: ${parsed.reason}`);
  const v = parsed.value;
  if (v.kind === 'vlan') return [...wireVlanPath(stack, v.parent, seen), v.vlanId];
  if (v.kind === 'alias') {
    const lower = stack.aliases[ifname];
    if (lower === undefined) throw new LabPlanError(`alias ${ifname} is not in the stack`);
    return wireVlanPath(stack, lower, seen);
  }
  if (v.kind === 'failover') {
    const first = stack.failovers[ifname]?.members[0];
    return first === undefined ? [] : wireVlanPath(stack, first, seen);
  }
  return [];
}

/** Picks free host addresses from the top of a subnet down, skipping what the cluster uses. */
class AddressPicker {
  readonly #taken = new Set<number>();
  readonly #ranges: Array<[number, number]> = [];

  take(address: string): void {
    const n = parseIpv4(address);
    if (n !== undefined) this.#taken.add(n);
  }

  takeRange(r: { start: string; end: string } | undefined): void {
    const a = r && parseIpv4(r.start);
    const b = r && parseIpv4(r.end);
    if (a !== undefined && b !== undefined) this.#ranges.push([a, b]);
  }

  next(network: string, prefixLength: number): string {
    const net = parseIpv4(network)!;
    const broadcast = (net | ~maskOf(prefixLength)) >>> 0;
    for (let n = broadcast - 1; n > net; n--) {
      if (this.#taken.has(n) || this.#ranges.some(([a, b]) => n >= a && n <= b)) continue;
      this.#taken.add(n);
      return formatIpv4(n);
    }
    throw new LabPlanError(`no free address left in ${network}/${prefixLength} for the demo's DHCP server`);
  }
}

/** Decides the whole lab. Throws LabPlanError when the description cannot be wired (a NIC without MAC, a loop). */
export function planLab(loaded: LoadedCluster, names: LabNames): LabPlan {
  const p = names.prefix;
  const switchNetns = `${p}sw`;
  const serverNetns = `${p}srv`;
  const filers: LabFiler[] = [];
  const switchBonds: LabPlan['switchBonds'] = [];
  const swLines: string[] = [`link add ${BRIDGE} type bridge`, `link set ${BRIDGE} up`];
  const filerBatches: LabBatch[] = [];

  const only = names.filers?.map((n) => n.toLowerCase());
  if (only !== undefined) {
    const unknown = only.filter((n) => ![...loaded.filers.values()].some((f) => f.name.toLowerCase() === n));
    if (unknown.length > 0) throw new LabPlanError(`no filer ${unknown.join(', ')} in the description (it has ${[...loaded.filers.values()].map((f) => f.name).join(', ')})`);
  }
  let fi = 0;
  for (const f of loaded.filers.values()) {
    fi++;
    if (only !== undefined && !only.includes(f.name.toLowerCase())) continue;
    const netns = `${p}${f.name.toLowerCase()}`;
    // veth names in the switch: f<filer index>e<nic index>; bonds f<filer index>b<bond index>.
    const nics: LabNic[] = Object.entries(f.nics)
      .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
      .map(([name, mac]) => ({ name, mac: mac.toLowerCase(), switchPort: `f${fi}${name.replace(/^eth/, 'e')}` }));
    filers.push({ name: f.name, netns, baseMac: f.baseMac, nics });
    for (const nic of nics) swLines.push(`link add ${nic.switchPort} type veth peer name ${nic.name} address ${nic.mac} netns ${netns}`);

    const bonded = new Set<string>();
    let bi = 0;
    for (const [bondName, bond] of Object.entries(f.stack.bonds)) {
      const mode = bond.mode === '802.3ad' ? '802.3ad' : ['balance-rr', 'balance-xor', 'broadcast'].includes(bond.mode) ? 'balance-xor' : undefined;
      const ports = bond.members.map((m) => nics.find((n) => n.name === m)?.switchPort).filter((x): x is string => x !== undefined);
      if (mode === undefined || ports.length === 0) continue;
      const name = `f${fi}b${bi++}`;
      swLines.push(
        mode === '802.3ad' ? `link add ${name} type bond mode 802.3ad lacp_rate fast miimon 100` : `link add ${name} type bond mode balance-xor miimon 100`,
        ...ports.map((port) => `link set ${port} master ${name}`),
        `link set ${name} master ${BRIDGE}`,
        `link set ${name} up`,
      );
      for (const port of ports) bonded.add(port);
      switchBonds.push({ name, filer: f.name, bond: bondName, mode, members: ports });
    }
    for (const nic of nics) {
      if (!bonded.has(nic.switchPort)) swLines.push(`link set ${nic.switchPort} master ${BRIDGE}`);
      swLines.push(`link set ${nic.switchPort} up`);
    }
    // The NICs are up, as after the agent's topology request on a freshly booted filer.
    filerBatches.push({ netns, lines: ['link set lo up', ...nics.map((n) => `link set ${n.name} up`)] });
  }

  // Which subnets the server must reach on which VLAN path: every alias that gets an address.
  const reach = new Map<string, { path: number[]; subnets: Map<string, { network: string; prefixLength: number }> }>();
  const stackOf = (name: string) => [...loaded.filers.values()].find((f) => f.name === name)?.stack;
  const allStacks = [...loaded.filers.values()].map((f) => f.stack);
  for (const r of reservationsOf(loaded)) {
    if (r.kind === 'topology' || r.family !== 4) continue;
    const owner = r.kind === 'filer' ? r.filer : r.home;
    const base = vlanBase(r.alias);
    // A virtual server or role with no home is brought up by whoever has the alias: same name,
    // same connectivity (§5.2.2), so any filer's stack tells the VLAN path.
    const stacks = (owner !== undefined ? [stackOf(owner)] : allStacks).filter((s): s is Stack => s?.aliases[base] !== undefined);
    for (const stack of stacks) {
      const path = wireVlanPath(stack, r.alias);
      const key = path.join('.');
      const entry = reach.get(key) ?? { path, subnets: new Map() };
      entry.subnets.set(r.subnet.prefix, { network: r.subnet.network, prefixLength: r.subnet.prefixLength });
      reach.set(key, entry);
    }
  }
  // Topology requests arrive untagged: the trunk needs an address where a bootstrap range is.
  const subnets = subnetsOf(loaded).filter((s) => s.family === 4);
  const untagged = reach.get('') ?? { path: [], subnets: new Map() };
  for (const s of subnets) if (s.bootstrap) untagged.subnets.set(s.prefix, { network: s.network, prefixLength: s.prefixLength });
  reach.set('', untagged);

  const picker = new AddressPicker();
  for (const r of reservationsOf(loaded)) if (r.kind !== 'topology') picker.take(r.address);
  for (const s of subnets) {
    s.routers.forEach((a) => picker.take(a));
    s.dns.forEach((a) => picker.take(a));
    s.ntp.forEach((a) => picker.take(a));
    picker.takeRange(s.bootstrap);
    picker.takeRange(s.pool);
  }
  const serverInterfaces: ServerInterface[] = [...reach.values()]
    .sort((a, b) => a.path.length - b.path.length || a.path.join('.').localeCompare(b.path.join('.'), 'en', { numeric: true }))
    .map(({ path, subnets: on }) => ({
      ifname: [SERVER_TRUNK, ...path].join('.'),
      vlanPath: path,
      addresses: [...on.values()].map((s) => `${picker.next(s.network, s.prefixLength)}/${s.prefixLength}`),
    }));
  for (const i of serverInterfaces) if (i.ifname.length > 15) throw new LabPlanError(`server interface ${i.ifname}: longer than 15 characters`);

  swLines.push(`link add srv type veth peer name ${SERVER_TRUNK} netns ${serverNetns}`, `link set srv master ${BRIDGE}`, 'link set srv up', 'link set lo up');
  const srvLines = ['link set lo up', `link set ${SERVER_TRUNK} up`];
  for (const i of serverInterfaces) {
    if (i.vlanPath.length > 0) {
      const parent = [SERVER_TRUNK, ...i.vlanPath.slice(0, -1)].join('.');
      srvLines.push(`link add link ${parent} name ${i.ifname} type vlan id ${i.vlanPath.at(-1)}`, `link set ${i.ifname} up`);
    }
    for (const a of i.addresses) srvLines.push(`addr add ${a} dev ${i.ifname}`);
  }

  return {
    switchNetns,
    serverNetns,
    serverTrunk: SERVER_TRUNK,
    serverInterfaces,
    filers,
    switchBonds,
    namespaces: [switchNetns, serverNetns, ...filers.map((f) => f.netns)],
    batches: [{ netns: switchNetns, lines: swLines }, ...filerBatches, { netns: serverNetns, lines: srvLines }],
  };
}
