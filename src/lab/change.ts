// The demo's change to the description for the live update: the configuration generation goes up
// by one and each filer's own address on one alias moves to a free address of the same subnet.
// Only those scalars' bytes are replaced in the text (located through the YAML document's source
// ranges), so the admin's comments and layout stay as they were; the result is loaded (every rule
// checked) before it is used.
import { isScalar, parseDocument, type Document } from 'yaml';
import { RackstrapError } from '../errors.js';
import { loadClusterText, type LoadedCluster } from '../options/load.js';
import { reservationsOf, subnetsOf } from '../options/resolve.js';
import { formatIpv4, maskOf, parseIpv4 } from '../net/ipv4.js';

export interface MovedAddress {
  filer: string;
  alias: string;
  from: string;
  to: string;
}

export interface ChangedDescription {
  text: string;
  loaded: LoadedCluster;
  generation: number;
  moved: MovedAddress[];
}

/** Which alias moves: san# first (nothing else on the demo's filers depends on it), else the last one. */
function aliasToMove(addresses: Record<string, string>): string | undefined {
  const names = Object.keys(addresses).sort();
  return names.find((n) => n.startsWith('san')) ?? names.at(-1);
}

/** Where the scalar at `path` is written in the source. */
function scalarRange(doc: Document, path: string[], fileName: string): [number, number] {
  const node = doc.getIn(path, true);
  if (!isScalar(node) || node.range == null) throw new RackstrapError('RS_LAB_CHANGE', `${fileName}: ${path.join('.')} is not a plain value in the file`);
  return [node.range[0], node.range[1]];
}

export function changeDescription(text: string, loaded: LoadedCluster, fileName: string): ChangedDescription {
  const doc = parseDocument(text);
  const generation = loaded.description.cluster.generation + 1;
  const edits: Array<{ range: [number, number]; value: string }> = [];
  edits.push({ range: scalarRange(doc, ['cluster', 'generation'], fileName), value: String(generation) });

  const taken = new Set<number>();
  for (const r of reservationsOf(loaded)) if (r.kind !== 'topology') taken.add(parseIpv4(r.address) ?? -1);
  const subnets = subnetsOf(loaded).filter((s) => s.family === 4);
  for (const s of subnets) {
    for (const a of [...s.routers, ...s.dns, ...s.ntp]) taken.add(parseIpv4(a) ?? -1);
    for (const r of [s.bootstrap, s.pool]) {
      if (!r) continue;
      for (let n = parseIpv4(r.start)!; n <= parseIpv4(r.end)!; n++) taken.add(n);
    }
  }

  const moved: MovedAddress[] = [];
  for (const f of loaded.filers.values()) {
    const alias = aliasToMove(f.addresses);
    if (alias === undefined) continue;
    const from = f.addresses[alias]!;
    const n = parseIpv4(from);
    const subnet = subnets.find((s) => n !== undefined && ((n & maskOf(s.prefixLength)) >>> 0) === parseIpv4(s.network));
    if (n === undefined || subnet === undefined) continue;
    const broadcast = (parseIpv4(subnet.network)! | ~maskOf(subnet.prefixLength)) >>> 0;
    // Ten up, or the next free one after that: a visible move that stays in the subnet.
    let to = n + 10;
    while (to < broadcast && taken.has(to)) to++;
    if (to >= broadcast) continue;
    taken.add(to);
    // The alias key as written in the file (names are case-insensitive, §5.2.2).
    const written = doc.getIn(['filers', f.name, 'addresses']) as { toJSON(): Record<string, string> } | undefined;
    const key = Object.keys(written?.toJSON() ?? {}).find((k) => k.toLowerCase() === alias) ?? alias;
    edits.push({ range: scalarRange(doc, ['filers', f.name, 'addresses', key], fileName), value: formatIpv4(to) });
    moved.push({ filer: f.name, alias, from, to: formatIpv4(to) });
  }
  if (moved.length === 0) throw new RackstrapError('RS_LAB_CHANGE', `${fileName}: no filer address could be moved for the live-update step`);
  let out = text;
  for (const e of edits.sort((a, b) => b.range[0] - a.range[0])) out = `${out.slice(0, e.range[0])}${e.value}${out.slice(e.range[1])}`;
  return { text: out, loaded: loadClusterText(out, fileName), generation, moved };
}
