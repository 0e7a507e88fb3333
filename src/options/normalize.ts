// From the description as parsed to the description the rest of rackstrap uses:
//  - interface names lower-cased everywhere (seed 003 §5.2.2: "case insensitive but will be
//    converted to lower case"); two spellings of one name in the same place are an error;
//  - each filer's stack resolved from its template plus its own patch (an entry replaces, null
//    removes, "-name" removes a VLAN; removing what is not there is an error), remembering where
//    every entry was written so problems point at the right line.
import type { Bond, ClusterDescription, Failover, Filer, Stack, StackPatch } from './schema.js';
import { error, warning, type Finding, type Path, type Section } from './rules/context.js';

export type StackOrigins = Record<Section, Record<string, Path>>;

/** One filer with its stack resolved: what the generator, the server and `explain` work from. */
export interface ResolvedFiler {
  /** As written: names keep their case, they are part of the DHCP identifiers. */
  name: string;
  /** The description's baseMac, else the MAC of the lowest-numbered NIC (baseMacOf). */
  baseMac: string;
  /** The NIC whose MAC is the base MAC (eth0), or undefined when the description sets baseMac. */
  baseMacNic: string | undefined;
  /** eth# (lower-case) -> MAC (upper-case). */
  nics: Record<string, string>;
  template: string | undefined;
  /** The template with this filer's patch applied; interface names lower-case. */
  stack: Stack;
  /** mgmt#/san# alias (lower-case) -> address. */
  addresses: Record<string, string>;
  /** Where each stack entry was written (the template or the filer's patch). */
  origins: StackOrigins;
}

export interface Normalized {
  description: ClusterDescription;
  filers: Map<string, ResolvedFiler>;
  findings: Finding[];
  /** Filers whose template does not exist: their stacks are unknown, so rules on them would only echo that. */
  unresolved: string[];
}

const lower = (s: string): string => s.toLowerCase();

/** Lower-cases a record's keys; a second spelling of a key already seen is an error. */
function lowerKeys<T>(rec: Record<string, T>, path: Path, findings: Finding[], what = 'interface'): Record<string, T> {
  // Usually every key is lower-case already: the record is then used as it is (no copy per server).
  let allLower = true;
  for (const key of Object.keys(rec)) if (key !== lower(key)) allLower = false;
  if (allLower) return rec;
  const out: Record<string, T> = {};
  const firstSpelling = new Map<string, string>();
  for (const [key, value] of Object.entries(rec)) {
    const k = lower(key);
    const first = firstSpelling.get(k);
    if (first !== undefined) {
      findings.push(error([...path, key], `"${key}" and "${first}" are the same ${what} (names are case-insensitive)`));
      continue;
    }
    firstSpelling.set(k, key);
    out[k] = value;
  }
  return out;
}

function normalizeBond(b: Bond): Bond {
  return { ...b, members: b.members.map(lower), ...(b.primary !== undefined ? { primary: lower(b.primary) } : {}) };
}

function normalizeFailover(f: Failover): Failover {
  return { ...f, members: f.members.map(lower), ...(f.primary !== undefined ? { primary: lower(f.primary) } : {}) };
}

function emptyOrigins(): StackOrigins {
  return { bonds: {}, failovers: {}, vlans: {}, aliases: {}, mtu: {} };
}

/** A whole stack (template), lower-cased, with the origin of each entry. */
function normalizeStack(stack: Stack, path: Path, findings: Finding[]): { stack: Stack; origins: StackOrigins } {
  const origins = emptyOrigins();
  const bonds = lowerKeys(stack.bonds, [...path, 'bonds'], findings);
  const failovers = lowerKeys(stack.failovers, [...path, 'failovers'], findings);
  const aliases = lowerKeys(stack.aliases, [...path, 'aliases'], findings);
  const mtu = lowerKeys(stack.mtu, [...path, 'mtu'], findings);
  const vlans: string[] = [];
  stack.vlans.forEach((raw, i) => {
    const v = lower(raw);
    if (origins.vlans[v]) {
      findings.push(error([...path, 'vlans', i], `VLAN ${v} is listed twice`));
      return;
    }
    vlans.push(v);
    origins.vlans[v] = [...path, 'vlans', i];
  });
  for (const k of Object.keys(bonds)) origins.bonds[k] = [...path, 'bonds', k];
  for (const k of Object.keys(failovers)) origins.failovers[k] = [...path, 'failovers', k];
  for (const k of Object.keys(aliases)) origins.aliases[k] = [...path, 'aliases', k];
  for (const k of Object.keys(mtu)) origins.mtu[k] = [...path, 'mtu', k];
  return {
    stack: {
      bonds: Object.fromEntries(Object.entries(bonds).map(([k, b]) => [k, normalizeBond(b)])),
      failovers: Object.fromEntries(Object.entries(failovers).map(([k, f]) => [k, normalizeFailover(f)])),
      vlans,
      aliases: Object.fromEntries(Object.entries(aliases).map(([k, t]) => [k, lower(t)])),
      mtu,
    },
    origins,
  };
}

function normalizePatch(p: StackPatch, path: Path, findings: Finding[]): StackPatch {
  const out: StackPatch = {};
  if (p.bonds) out.bonds = Object.fromEntries(Object.entries(lowerKeys(p.bonds, [...path, 'bonds'], findings)).map(([k, b]) => [k, b && normalizeBond(b)]));
  if (p.failovers) out.failovers = Object.fromEntries(Object.entries(lowerKeys(p.failovers, [...path, 'failovers'], findings)).map(([k, f]) => [k, f && normalizeFailover(f)]));
  if (p.aliases) out.aliases = Object.fromEntries(Object.entries(lowerKeys(p.aliases, [...path, 'aliases'], findings)).map(([k, t]) => [k, t && lower(t)]));
  if (p.mtu) out.mtu = lowerKeys(p.mtu, [...path, 'mtu'], findings);
  if (p.vlans) out.vlans = p.vlans.map(lower);
  return out;
}

const SECTION_NOUN: Record<Exclude<Section, 'vlans'>, string> = { bonds: 'bond', failovers: 'failover group', aliases: 'alias', mtu: 'MTU for' };

/** Applies a (normalized) patch to a (normalized) base stack. `base` undefined: no template. */
function applyPatch(
  base: { stack: Stack; origins: StackOrigins; template: string } | undefined,
  patch: StackPatch,
  path: Path,
  findings: Finding[],
): { stack: Stack; origins: StackOrigins } {
  const stack: Stack = base ? structuredClone(base.stack) : { bonds: {}, failovers: {}, vlans: [], aliases: {}, mtu: {} };
  const origins: StackOrigins = base ? structuredClone(base.origins) : emptyOrigins();
  const from = base ? `template "${base.template}"` : 'this filer (it uses no template)';
  const sections = ['bonds', 'failovers', 'aliases', 'mtu'] as const;
  for (const section of sections) {
    const entries = patch[section];
    if (!entries) continue;
    const target = stack[section] as Record<string, unknown>;
    for (const [name, value] of Object.entries(entries)) {
      const at = [...path, section, name];
      if (value === null) {
        if (!(name in target)) {
          findings.push(error(at, `nothing to remove: ${from} has no ${SECTION_NOUN[section]} ${name}`));
          continue;
        }
        delete target[name];
        delete origins[section][name];
      } else {
        target[name] = value;
        origins[section][name] = at;
      }
    }
  }
  (patch.vlans ?? []).forEach((entry, i) => {
    const at = [...path, 'vlans', i];
    if (entry.startsWith('-')) {
      const name = entry.slice(1);
      const idx = stack.vlans.indexOf(name);
      if (idx < 0) {
        findings.push(error(at, `nothing to remove: ${from} has no VLAN ${name}`));
        return;
      }
      stack.vlans.splice(idx, 1);
      delete origins.vlans[name];
      return;
    }
    if (stack.vlans.includes(entry)) {
      findings.push(
        base && origins.vlans[entry]?.[0] === 'templates'
          ? warning(at, `VLAN ${entry} is already in template "${base.template}"; listing it again changes nothing`)
          : error(at, `VLAN ${entry} is listed twice`),
      );
      return;
    }
    stack.vlans.push(entry);
    origins.vlans[entry] = at;
  });
  return { stack, origins };
}

/**
 * A filer's base MAC, the one definition every part uses (generators, server, validate, the
 * worksheet, the lab; the agent reads the same NIC's permanent MAC from the hardware): the
 * description's baseMac when it sets one, else the MAC of the lowest-numbered NIC, eth0.
 * '' when there is neither.
 */
export function baseMacOf(baseMac: string | undefined, nics: Readonly<Record<string, string>>): { mac: string; nic: string | undefined } {
  if (baseMac !== undefined) return { mac: baseMac, nic: undefined };
  const first = lowestNic(nics);
  return first === undefined ? { mac: '', nic: undefined } : { mac: nics[first]!, nic: first };
}

/** The lowest-numbered NIC of a NIC list (eth2 before eth10). */
export function lowestNic(nics: Readonly<Record<string, string>>): string | undefined {
  return Object.keys(nics).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))[0];
}

export function normalizeDescription(d: ClusterDescription): Normalized {
  const findings: Finding[] = [];

  const templates: Record<string, Stack> = {};
  const templateOrigins = new Map<string, StackOrigins>();
  for (const [name, stack] of Object.entries(d.templates)) {
    const n = normalizeStack(stack, ['templates', name], findings);
    templates[name] = n.stack;
    templateOrigins.set(name, n.origins);
  }

  const filers: Record<string, Filer> = {};
  const resolved = new Map<string, ResolvedFiler>();
  const unresolved: string[] = [];
  for (const [name, f] of Object.entries(d.filers)) {
    const path: Path = ['filers', name];
    const nics = lowerKeys(f.nics, [...path, 'nics'], findings, 'NIC');
    const addresses = lowerKeys(f.addresses, [...path, 'addresses'], findings);
    const patch = f.stack ? normalizePatch(f.stack, [...path, 'stack'], findings) : undefined;
    filers[name] = { ...f, nics, addresses, ...(patch ? { stack: patch } : {}) };

    let base: { stack: Stack; origins: StackOrigins; template: string } | undefined;
    if (f.template !== undefined) {
      const t = templates[f.template];
      if (t) {
        base = { stack: t, origins: templateOrigins.get(f.template)!, template: f.template };
      } else {
        unresolved.push(name);
        const known = Object.keys(templates);
        findings.push(
          error([...path, 'template'], `no template named "${f.template}" (${known.length ? `templates: ${known.join(', ')}` : 'the file defines no templates'})`),
        );
      }
    }
    const { stack, origins } = applyPatch(base, patch ?? {}, [...path, 'stack'], findings);
    const id = baseMacOf(f.baseMac, nics);
    if (id.mac === '') findings.push(error(path, `${name} lists no NIC, so it has no base MAC: list its NICs (eth0 and up, with their MACs)`));
    resolved.set(name, { name, baseMac: id.mac, baseMacNic: id.nic, nics, template: f.template, stack, addresses, origins });
  }

  // A server whose alias names are lower-case already is kept as parsed, not copied.
  const withLowerAddresses = <V extends { addresses: Record<string, unknown> }>(v: V, path: Path): V => {
    const addresses = lowerKeys(v.addresses, path, findings);
    return addresses === v.addresses ? v : { ...v, addresses };
  };
  const vservers = Object.fromEntries(Object.entries(d.vservers).map(([name, v]) => [name, withLowerAddresses(v, ['vservers', name, 'addresses'])]));
  const mysql = Object.fromEntries(Object.entries(d.mysql).map(([role, m]) => [role, withLowerAddresses(m, ['mysql', role, 'addresses'])]));

  return { description: { ...d, templates, filers, vservers, mysql }, filers: resolved, findings, unresolved };
}
