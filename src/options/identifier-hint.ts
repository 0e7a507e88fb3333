// What an identifier of this cluster that the description does not declare most likely is, and
// the fix, for the server's `unknown-identifier` warning: a filer asking for its topology with
// another NIC's MAC or a base MAC set apart from the description's, a known name with an alias or
// instance the description lacks, a name spelt in another case. Built once per description (maps
// by MAC and by name), so a lookup costs a few map reads and, for a MAC no filer has, one pass over
// the filers. Never echoes the asker's text beyond a MAC it has checked: the answer goes to logs.
import type { LoadedCluster } from './load.js';
import { lowestNic } from './normalize.js';
import { reservationsOf } from './resolve.js';

interface HintFiler {
  name: string;
  baseMac: string;
  /** The NIC whose MAC is the base MAC, or undefined when the description sets baseMac. */
  baseMacNic: string | undefined;
  firstNic: string | undefined;
}

export interface IdentifierHints {
  clusterId: string;
  filers: HintFiler[];
  byNicMac: Map<string, { filer: HintFiler; nic: string }>;
  byBaseMac: Map<string, HintFiler>;
  /** Lower-case name of a filer, virtual server or MySQL role -> its spelling and identifiers (after the cluster ID). */
  byName: Map<string, { name: string; what: string; suffixes: string[] }>;
  /** IPv6 identifiers: a DHCPv4 server holds none of them. */
  ipv6: Map<string, string>;
}

const MAC = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;
/** How far (as a 48-bit number) a MAC may be from a filer's base MAC to be called close. */
const NEAR = 16;

export function buildIdentifierHints(loaded: LoadedCluster): IdentifierHints {
  const clusterId = loaded.description.cluster.id;
  const filers: HintFiler[] = [];
  const byNicMac = new Map<string, { filer: HintFiler; nic: string }>();
  const byBaseMac = new Map<string, HintFiler>();
  for (const f of loaded.filers.values()) {
    const h: HintFiler = { name: f.name, baseMac: f.baseMac, baseMacNic: f.baseMacNic, firstNic: lowestNic(f.nics) };
    filers.push(h);
    if (f.baseMac !== '') byBaseMac.set(f.baseMac, h);
    for (const [nic, mac] of Object.entries(f.nics)) byNicMac.set(mac.toUpperCase(), { filer: h, nic });
  }
  const byName = new Map<string, { name: string; what: string; suffixes: string[] }>();
  const ipv6 = new Map<string, string>();
  const prefix = `${clusterId}:`;
  for (const r of reservationsOf(loaded)) {
    if (r.kind === 'topology') continue;
    const name = r.kind === 'filer' ? r.filer : r.kind === 'vserver' ? r.vserver : r.role;
    const what = r.kind === 'filer' ? 'filer' : r.kind === 'vserver' ? 'virtual server' : 'MySQL role';
    const entry = byName.get(name.toLowerCase()) ?? { name, what, suffixes: [] };
    entry.suffixes.push(r.identifier.startsWith(prefix) ? r.identifier.slice(prefix.length) : r.identifier);
    byName.set(name.toLowerCase(), entry);
    if (r.family === 6) ipv6.set(r.identifier, r.address);
  }
  return { clusterId, filers, byNicMac, byBaseMac, byName, ipv6 };
}

/**
 * A topology request of a filer of this description sent with another cluster ID
 * (`<other ID>:<its base MAC>`): the fix, or undefined when `identifier` is not one.
 */
export function explainForeignCluster(identifier: string, hints: IdentifierHints): string | undefined {
  if (identifier.length !== 35 || identifier[17] !== ':') return undefined;
  const f = hints.byBaseMac.get(identifier.slice(18));
  const cid = identifier.slice(0, 17);
  if (f === undefined || !MAC.test(cid)) return undefined;
  return `${f.name}'s topology request (base MAC ${f.baseMac}) with cluster ID ${cid}, not this cluster's ${hints.clusterId}: fix clusterId in that filer's agent.yaml`;
}

/** Hints for a cluster with nothing declared (synthetic configs). */
export function noIdentifierHints(clusterId: string): IdentifierHints {
  return { clusterId, filers: [], byNicMac: new Map(), byBaseMac: new Map(), byName: new Map(), ipv6: new Map() };
}

const macNumber = (mac: string): number => parseInt(mac.replace(/:/g, ''), 16);

/**
 * What `identifier` (which starts with this cluster's ID and is declared nowhere) most likely is,
 * and what to change. Plain words for the server's log.
 */
export function explainUnknownIdentifier(identifier: string, hints: IdentifierHints): string {
  const rest = identifier.slice(hints.clusterId.length + 1);
  if (MAC.test(rest)) return explainTopologyRequest(rest, hints);
  const v6 = hints.ipv6.get(identifier);
  if (v6 !== undefined) return `it is the IPv6 address ${v6} of the description, which DHCPv4 does not serve yet: configure it on the host another way`;
  const parts = rest.split(':');
  const name = parts[1];
  const known = name === undefined ? undefined : hints.byName.get(name.toLowerCase());
  if (known === undefined) {
    return 'no filer, virtual server or MySQL role of the description has this name: add it to the description (and run the server on it), or fix the name where the asker is configured';
  }
  const listed = known.suffixes.slice(0, 6).join(', ') + (known.suffixes.length > 6 ? `, and ${known.suffixes.length - 6} more` : '');
  if (known.name !== name) return `the description spells ${known.what} ${known.name} so (identifiers are compared exactly): its identifiers are ${listed}`;
  return (
    `${known.what} ${known.name} has ${listed} in the description, not this alias or instance: ` +
    'the asker works from another description (an older generation, or an address that was removed); bring the description and the filer in step'
  );
}

function explainTopologyRequest(mac: string, hints: IdentifierHints): string {
  const upper = mac.toUpperCase();
  if (upper !== mac) return `a topology request with base MAC ${mac} in lower case: identifiers are compared exactly, send ${upper}`;
  const nic = hints.byNicMac.get(upper);
  if (nic !== undefined) {
    const f = nic.filer;
    if (f.baseMacNic === undefined) {
      return (
        `a topology request with the MAC of ${f.name}'s ${nic.nic}, while the description sets ${f.name}'s base MAC to ${f.baseMac}: ` +
        `its agent took ${nic.nic}'s MAC as it does by default. Remove baseMac from ${f.name} in the description` +
        `${nic.nic === f.firstNic ? '' : ` (then it is ${f.firstNic}'s MAC)`}, or set baseMac: ${f.baseMac} in that filer's agent.yaml`
      );
    }
    return (
      `a topology request with the MAC of ${f.name}'s ${nic.nic}, but its base MAC is its ${f.baseMacNic}'s (${f.baseMac}): ` +
      `its agent took ${nic.nic} for its first NIC. Check the agent's NIC map (nics in agent.yaml), and that ${f.baseMacNic} in the description is the NIC with MAC ${f.baseMac}`
    );
  }
  const n = macNumber(upper);
  let near: { f: HintFiler; d: number } | undefined;
  for (const f of hints.filers) {
    if (f.baseMac === '') continue;
    const d = n - macNumber(f.baseMac);
    if (Math.abs(d) <= NEAR && (near === undefined || Math.abs(d) < Math.abs(near.d))) near = { f, d };
  }
  if (near !== undefined) {
    const f = near.f;
    const where = f.baseMacNic === undefined ? 'set in the description' : `its ${f.baseMacNic}'s MAC`;
    return (
      `a topology request with base MAC ${upper}, ${Math.abs(near.d)} ${near.d > 0 ? 'above' : 'below'} ${f.name}'s base MAC ${f.baseMac} (${where}): ` +
      `if this is ${f.name}, its agent was given another base MAC (baseMac in agent.yaml, RACKSTRAP_BASE_MAC or --base-mac; a label MAC is not always eth0's). ` +
      `Use the same base MAC on both sides: remove the agent's setting, or set baseMac: ${upper} for ${f.name} in the description`
    );
  }
  return (
    `a topology request from a filer the description does not list (base MAC ${upper}, the MAC of its eth0 unless its agent is told another): ` +
    'add the filer to the description with its NICs, or, if it belongs to another cluster, fix the cluster ID in its agent.yaml'
  );
}
