// Everything the targets render, computed once from a loaded cluster: each filer's topology as
// option 43 sub-options, every address reservation in a
// stable order, and the subnets. Pure: the caller reads the key file. Same input, same model.
import { basename } from 'node:path';
import type { LoadedCluster } from '../options/load.js';
import { addressFactsByFiler, reservationsOf, subnetsOf, topologyFor, type FilerReservation, type MysqlReservation, type ResolvedSubnet, type VserverReservation } from '../options/resolve.js';
import type { ClusterDescription, Topology } from '../options/schema.js';
import { findFiler } from '../options/rules/placement.js';
import { encodeTopology, keyFingerprint, naturalCompare, subOptionSize, type AddressFacts, type SubOption } from '../options/wire/index.js';
import { compareMysqlRoles } from '../options/wire/normalize.js';
import { RackstrapError } from '../errors.js';
import { GenerateError } from './errors.js';

/**
 * The DHCP option space of rackstrap's sub-options, on every server and in dhclient.conf. One
 * name for every cluster: the definitions are the same, so a server serving two clusters holds
 * them once; dhclient names the values `new_rackstrap_o<code>`.
 */
export const OPTION_SPACE = 'rackstrap';
/** Sub-option codes defined in the space: all the wire format may use (header 1 .. last object 254). */
export const FIRST_CODE = 1;
export const LAST_CODE = 254;
/** Option name of a code in the space (dhclient's script sees new_rackstrap_o<code>). */
export const optionName = (code: number): string => `o${code}`;

export interface FilerTopology {
  filer: string;
  baseMac: string;
  /** Client id of the topology request: `<cluster ID>:<base MAC>`. */
  topologyKey: string;
  topology: Topology;
  /** Sub-options by code (1 header, 2 signature when signed, 3.. objects). */
  objects: SubOption[];
  /** Option 43 payload bytes (codes, lengths, texts). */
  wireSize: number;
}

export type AddressEntry = FilerReservation | VserverReservation | MysqlReservation;

export interface GenModel {
  /** Base name of the description, for comments (the path would make output depend on cwd). */
  source: string;
  cluster: { name: string; id: string; vendorClass: string; generation: number };
  /** Fingerprint of the key the topology is signed with, when the cluster has one. */
  keyId: string | undefined;
  /** IPv4 subnets (what DHCPv4 servers serve), in description order. */
  subnets: ResolvedSubnet[];
  /** Subnets with a bootstrap range: where topology requests are answered. */
  bootstrapSubnets: ResolvedSubnet[];
  /** In description order. */
  filers: FilerTopology[];
  /** IPv4 addresses: by filer, then virtual servers, then MySQL roles; each in natural order. */
  addresses: AddressEntry[];
  /** Every address, IPv6 too, in the same order (the worksheet lists them all). */
  allAddresses: AddressEntry[];
  /** Every subnet, IPv6 too. */
  allSubnets: ResolvedSubnet[];
  /** Reservations a DHCPv4 server cannot hold (IPv6 addresses), with why. */
  skipped: Array<{ identifier: string; address: string; reason: string }>;
  /** The loaded description, for the worksheet (stacks, NICs). */
  loaded: LoadedCluster;
}

export interface ModelOptions {
  /** The cluster key (cluster.keyFile's bytes): topology is signed when given. */
  key?: Buffer;
}

const KIND_RANK: Record<AddressEntry['kind'], number> = { filer: 0, vserver: 1, mysql: 2 };

/** naturalCompare with each string's digit split done once (32,000 entries sort in ~500,000 compares). */
function cachedNatural(): (a: string, b: string) => number {
  const parts = new Map<string, string[]>();
  const split = (s: string): string[] => {
    let p = parts.get(s);
    if (!p) {
      p = s.split(/(\d+)/);
      parts.set(s, p);
    }
    return p;
  };
  return (a, b) => {
    if (a === b) return 0;
    const pa = split(a);
    const pb = split(b);
    const n = Math.min(pa.length, pb.length);
    for (let i = 0; i < n; i++) {
      const x = pa[i]!;
      const y = pb[i]!;
      if (x === y) continue;
      if (i % 2 === 1) {
        const d = Number(x) - Number(y);
        if (d !== 0) return d;
      }
      break;
    }
    return naturalCompare(a, b); // the reference order for everything but a plain number difference
  };
}

/** Filers in file order is what the admin wrote; everything else in natural order. */
function compareAddresses(filerOrder: Map<string, number>) {
  const nat = cachedNatural();
  return (a: AddressEntry, b: AddressEntry): number => {
    const k = KIND_RANK[a.kind] - KIND_RANK[b.kind];
    if (k !== 0) return k;
    if (a.kind === 'filer' && b.kind === 'filer') return (filerOrder.get(a.filer) ?? 0) - (filerOrder.get(b.filer) ?? 0) || nat(a.alias, b.alias);
    if (a.kind === 'vserver' && b.kind === 'vserver') {
      return nat(a.vserver, b.vserver) || nat(a.alias, b.alias) || a.instance - b.instance;
    }
    if (a.kind === 'mysql' && b.kind === 'mysql') return compareMysqlRoles(a.role, b.role) || nat(a.alias, b.alias);
    return 0;
  };
}

/**
 * Per filer, a view of the description holding only the virtual servers and MySQL roles homed
 * there. topologyFor scans every server for each filer (64 x 16,000 at scale); on this view it
 * returns the same topology while the whole cluster is scanned once.
 */
function homedViews(loaded: LoadedCluster): Map<string, LoadedCluster> {
  const d = loaded.description;
  const vservers = new Map<string, ClusterDescription['vservers']>();
  const mysql = new Map<string, ClusterDescription['mysql']>();
  for (const name of loaded.filers.keys()) {
    vservers.set(name, {});
    mysql.set(name, {});
  }
  for (const [name, v] of Object.entries(d.vservers)) {
    const home = v.home === undefined ? undefined : findFiler(loaded.filers, v.home)?.name;
    if (home !== undefined) vservers.get(home)![name] = v;
  }
  for (const [role, m] of Object.entries(d.mysql)) {
    const home = m.home === undefined ? undefined : findFiler(loaded.filers, m.home)?.name;
    if (home !== undefined) mysql.get(home)![role] = m;
  }
  const out = new Map<string, LoadedCluster>();
  for (const name of loaded.filers.keys()) {
    out.set(name, { ...loaded, description: { ...d, vservers: vservers.get(name)!, mysql: mysql.get(name)! } });
  }
  return out;
}

/**
 * A static server answers every exchange with the same bytes, so the signature binds to the
 * request (cluster ID + base MAC), not to an exchange; the address tags cover each reservation.
 */
function encodeFiler(
  view: LoadedCluster,
  name: string,
  key: Buffer | undefined,
  signing: { addresses: readonly AddressFacts[]; clusterId: string; baseMac: string },
): { topology: Topology; objects: SubOption[] } {
  const topology = topologyFor(view, name);
  try {
    const objects = encodeTopology(
      topology,
      key === undefined ? {} : { key, addresses: signing.addresses, binding: { clusterId: signing.clusterId, baseMac: signing.baseMac } },
    );
    return { topology, objects };
  } catch (e) {
    if (e instanceof RackstrapError) throw new GenerateError(`${name}: topology cannot be put in option 43: ${e.message}`, { cause: e });
    throw e;
  }
}

export function buildGenModel(loaded: LoadedCluster, opts: ModelOptions = {}): GenModel {
  const d = loaded.description;
  const allSubnets = subnetsOf(loaded);
  const subnets = allSubnets.filter((s) => s.family === 4);
  const filers: FilerTopology[] = [];
  const filerOrder = new Map<string, number>();
  const reservations = reservationsOf(loaded);
  const views = homedViews(loaded);
  const facts = addressFactsByFiler(loaded, reservations);
  for (const r of reservations) {
    if (r.kind !== 'topology') continue;
    filerOrder.set(r.filer, filerOrder.size);
    const { topology, objects } = encodeFiler(views.get(r.filer) ?? loaded, r.filer, opts.key, {
      addresses: facts.get(r.filer) ?? [],
      clusterId: d.cluster.id,
      baseMac: r.baseMac,
    });
    filers.push({
      filer: r.filer,
      baseMac: r.baseMac,
      topologyKey: r.identifier,
      topology,
      objects,
      wireSize: objects.reduce((n, o) => n + subOptionSize(o.text), 0),
    });
  }
  const allAddresses: AddressEntry[] = reservations.filter((r): r is AddressEntry => r.kind !== 'topology').sort(compareAddresses(filerOrder));
  const addresses = allAddresses.filter((r) => r.family === 4);
  const skipped = allAddresses
    .filter((r) => r.family !== 4)
    .map((r) => ({ identifier: r.identifier, address: r.address, reason: 'IPv6: not served by DHCPv4 yet' }));
  return {
    source: basename(loaded.file),
    cluster: { name: d.cluster.name, id: d.cluster.id, vendorClass: d.cluster.vendorClass, generation: d.cluster.generation },
    keyId: opts.key === undefined ? undefined : keyFingerprint(opts.key),
    subnets,
    bootstrapSubnets: subnets.filter((s) => s.bootstrap !== undefined),
    filers,
    addresses,
    allAddresses,
    allSubnets,
    skipped,
    loaded,
  };
}

/** Who an address belongs to, for comments: `Filer1`, `VsvrA`, `MySQLMgmtNode`. */
export function ownerOf(r: AddressEntry): string {
  switch (r.kind) {
    case 'filer':
      return r.filer;
    case 'vserver':
      return r.vserver;
    case 'mysql':
      return r.role;
  }
}

/** What an address is for, in words: `mgmt0 of Filer1`, `data0 of virtual server VsvrA, instance 0`. */
export function purposeOf(r: AddressEntry): string {
  switch (r.kind) {
    case 'filer':
      return `${r.alias} of ${r.filer}`;
    case 'vserver':
      return `${r.alias} of virtual server ${r.vserver}, instance ${r.instance}`;
    case 'mysql':
      return `${r.alias} of ${r.role}`;
  }
}

/** Consecutive runs of addresses with the same owner, in model order. */
export function groupByOwner(addresses: readonly AddressEntry[]): Array<{ owner: string; kind: AddressEntry['kind']; entries: AddressEntry[] }> {
  const out: Array<{ owner: string; kind: AddressEntry['kind']; entries: AddressEntry[] }> = [];
  for (const r of addresses) {
    const owner = ownerOf(r);
    const last = out[out.length - 1];
    if (last && last.owner === owner && last.kind === r.kind) last.entries.push(r);
    else out.push({ owner, kind: r.kind, entries: [r] });
  }
  return out;
}

/** One line describing an owner, for the comment above its reservations. */
export function describeOwner(model: GenModel, kind: AddressEntry['kind'], owner: string): string {
  const d = model.loaded.description;
  switch (kind) {
    case 'filer':
      return `${owner}: filer addresses (mgmt#, san#; they stay on ${owner})`;
    case 'vserver': {
      const v = d.vservers[owner];
      const bits = [`virtual server ${owner}`, v ? `table ${v.table}` : undefined, v?.home ? `home ${v.home}` : 'placed by HA'];
      return bits.filter(Boolean).join(', ');
    }
    case 'mysql': {
      const m = d.mysql[owner];
      return `MySQL role ${owner}${m?.home ? `, home ${m.home}` : ', placed by HA'}`;
    }
  }
}

/** The comment lines every target starts with (the prefix is the target's comment marker). */
export function headerLines(model: GenModel, target: string): string[] {
  const c = model.cluster;
  return [
    `rackstrap ${target} configuration for cluster ${c.name} (cluster ID ${c.id}), generation ${c.generation}.`,
    `Generated by \`rackstrap gen ${target} ${model.source}\`; regenerate after every change to the description.`,
    `Filers send vendor class (option 60) "${c.vendorClass}", ask for option 43 in option 55 and send option 57 = 1500.`,
    model.keyId === undefined ? 'Topology is not signed (the description has no cluster.keyFile).' : `Topology is signed with the cluster key ${model.keyId}.`,
  ];
}

/** Refuses a description no DHCP server could answer topology requests for. */
export function requireBootstrap(model: GenModel, target: string): void {
  if (model.bootstrapSubnets.length > 0 || model.filers.length === 0) return;
  throw new GenerateError(
    `${model.source}: no subnet has a bootstrap range, so ${target} could not answer the filers' topology requests ` +
      '(add scope.subnets[].bootstrap to the subnet the filers first reach)',
  );
}
