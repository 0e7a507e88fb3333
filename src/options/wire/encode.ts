// Topology -> option 43 sub-options (docs/wire-format.md). The writer refuses anything a reader
// would refuse or read back differently, so for every topology it accepts,
// decodeTopology(encodeTopology(x)) deep-equals normalizeTopology(x).
import { z } from 'zod';
import { Topology, type Bond, type Failover } from '../schema.js';
import { interfaceKind, parseInterfaceName } from '../names.js';
import {
  FIRST_OBJECT_CODE,
  FORMAT_MAJOR,
  FORMAT_MINOR,
  FORMAT_NAME,
  HEADER_CODE,
  LAST_OBJECT_CODE,
  MAX_OBJECT_BYTES,
  SIGNATURE_CODE,
} from './constants.js';
import { ObjectTooLongError, WireEncodeError } from './errors.js';
import { formatObject, LIST_SEPARATOR, OPTIONAL_MARK } from './grammar.js';
import { compareMysqlRoles, normalizeTopology } from './normalize.js';
import {
  impliedVlans,
  INSTANCE_SEPARATOR,
  isCanonicalInterfaceName,
  KIND_ORDER,
  MYSQL_KEYWORD,
  NAME_RE,
  VSERVER_KEYWORD,
  vlanAncestors,
} from './objects.js';
import { addressTag, addressTagObjects, type AddressFacts } from './address-tags.js';
import { bindingKeyOf, signatureText, checkKey, signedDigest, type RequestBinding } from './signature.js';
import { subOptionSize, subOptionsToBytes, type SubOption } from './sub-options.js';

export interface EncodeOptions {
  /** The cluster's key: adds the signature object (sub-option 2). */
  key?: Buffer;
  /**
   * With a key: what a genuine server offers for each identifier this filer asks for. Each becomes
   * an address tag in `~addr` objects (format 1.1), so a keyed agent takes no other address.
   */
  addresses?: readonly AddressFacts[];
  /** With a key: bind the signature to the request it answers (`~to=`, or `~xid=` with an xid). */
  binding?: RequestBinding;
}

type Attrs = Array<readonly [string, string]>;

const unrepresentable = (msg: string) => new WireEncodeError('RS_WIRE_UNREPRESENTABLE', msg);

/** An object's text plus the name used in error messages. */
interface Draft {
  name: string;
  text: string;
}

function draft(names: string[], attrs: Attrs): Draft {
  const text = formatObject(names, attrs);
  if (text.length > MAX_OBJECT_BYTES) throw new ObjectTooLongError(names.join(' '), text.length, MAX_OBJECT_BYTES);
  return { name: names.join(' '), text };
}

const SPELLING: Record<string, string> = { bond: 'bond#', failover: 'fail#', vlan: '<parent>.<vlan>', alias: 'mgmt#/data#/san#' };

function requireInterface(where: string, name: string, kind?: string): void {
  const r = parseInterfaceName(name);
  if (!r.ok) throw unrepresentable(`${where}: ${r.reason}`);
  if (!isCanonicalInterfaceName(name)) throw unrepresentable(`${where}: "${name}" is not in canonical spelling`);
  if (kind !== undefined && r.value.kind !== kind) throw unrepresentable(`${where}: "${name}" is not a ${SPELLING[kind]} name`);
}

function joinList(where: string, names: readonly string[]): string {
  for (const n of names) requireInterface(where, n);
  return names.join(LIST_SEPARATOR);
}

function bondAttrs(name: string, b: Bond, mtu: number | undefined): Attrs {
  const a: Attrs = [['mode', b.mode], ['members', joinList(`bond ${name} members`, b.members)]];
  if (b.primary !== undefined) a.push(['primary', joinList(`bond ${name} primary`, [b.primary])]);
  if (b.lacpRate !== undefined) a.push(['lacp_rate', b.lacpRate]);
  if (b.hashPolicy !== undefined) a.push(['xmit_hash_policy', b.hashPolicy]);
  if (b.miimon !== undefined) a.push(['miimon', String(b.miimon)]);
  if (mtu !== undefined) a.push(['mtu', String(mtu)]);
  return a;
}

function failoverAttrs(name: string, f: Failover, mtu: number | undefined): Attrs {
  const a: Attrs = [['members', joinList(`failover ${name} members`, f.members)]];
  if (f.primary !== undefined) a.push(['primary', joinList(`failover ${name} primary`, [f.primary])]);
  if (f.miimon !== undefined) a.push(['miimon', String(f.miimon)]);
  if (mtu !== undefined) a.push(['mtu', String(mtu)]);
  return a;
}

const mtuAttr = (mtu: number | undefined): Attrs => (mtu === undefined ? [] : [['mtu', String(mtu)]]);

/** The interface objects, in wire order (kind, then natural name order). */
function interfaceDrafts(t: Topology): Draft[] {
  const s = t.stack;
  const declared = new Map<string, string>();
  const declare = (section: string, name: string, kind: string): void => {
    requireInterface(section, name, kind);
    const other = declared.get(name);
    if (other !== undefined) throw unrepresentable(`${section}: "${name}" is also declared under ${other}`);
    declared.set(name, section);
  };
  for (const n of Object.keys(s.bonds)) declare('bonds', n, 'bond');
  for (const n of Object.keys(s.failovers)) declare('failovers', n, 'failover');
  for (const n of s.vlans) declare('vlans', n, 'vlan');
  for (const n of Object.keys(s.aliases)) declare('aliases', n, 'alias');
  for (const n of Object.keys(s.mtu)) {
    requireInterface('mtu', n);
    if (!declared.has(n) && interfaceKind(n) !== 'ethernet') {
      throw unrepresentable(`mtu: "${n}" is not declared in the stack, so there is no object to carry its MTU`);
    }
  }

  // Every VLAN a reader would create must be one the stack declares, or the topology changes in transit.
  const references: string[] = [
    ...Object.values(s.bonds).flatMap((b) => [...b.members, ...(b.primary ? [b.primary] : [])]),
    ...Object.values(s.failovers).flatMap((f) => [...f.members, ...(f.primary ? [f.primary] : [])]),
    ...Object.values(s.aliases),
    ...t.vservers.flatMap((v) => v.addresses.map((a) => a.alias)),
    ...t.mysql.flatMap((m) => m.aliases),
  ];
  for (const r of references) requireInterface('reference', r);
  const vlanSet = new Set(s.vlans);
  for (const v of [...references, ...s.vlans]) {
    for (const needed of [v, ...vlanAncestors(v)]) {
      if (interfaceKind(needed) === 'vlan' && !vlanSet.has(needed)) {
        throw unrepresentable(
          needed === v
            ? `VLAN "${v}" is used but not declared in vlans (a reader would create it)`
            : `"${v}" sits on VLAN "${needed}", which the stack does not declare in vlans`,
        );
      }
    }
  }
  const implied = impliedVlans(references, s.vlans);

  const byKind: Record<string, Draft[]> = { ethernet: [], bond: [], failover: [], vlan: [], alias: [] };
  for (const [n, mtu] of Object.entries(s.mtu)) if (!declared.has(n)) byKind.ethernet!.push(draft([n], mtuAttr(mtu)));
  for (const [n, b] of Object.entries(s.bonds)) byKind.bond!.push(draft([n], bondAttrs(n, b, s.mtu[n])));
  for (const [n, f] of Object.entries(s.failovers)) byKind.failover!.push(draft([n], failoverAttrs(n, f, s.mtu[n])));
  for (const n of s.vlans) if (s.mtu[n] !== undefined || !implied.has(n)) byKind.vlan!.push(draft([n], mtuAttr(s.mtu[n])));
  for (const [n, on] of Object.entries(s.aliases)) byKind.alias!.push(draft([n], [['on', on], ...mtuAttr(s.mtu[n])]));
  return KIND_ORDER.flatMap((k) => byKind[k]!);
}

function vserverDrafts(t: Topology): Draft[] {
  const seen = new Set<string>();
  return t.vservers.map((v) => {
    if (!NAME_RE.test(v.name)) throw unrepresentable(`virtual server "${v.name}": names are a letter, then letters, digits, - or _`);
    if (seen.has(v.name)) throw unrepresentable(`virtual server "${v.name}" is listed twice`);
    seen.add(v.name);
    const addr = v.addresses.map((a) => `${a.alias}${INSTANCE_SEPARATOR}${a.instance}`).join(LIST_SEPARATOR);
    const attrs: Attrs = [['table', String(v.table)], ['addr', addr]];
    // Optional: a 1.0 reader skips it (and takes its routers from the leases, as it always did).
    if (v.gateway !== undefined) attrs.push([`${OPTIONAL_MARK}gw`, v.gateway]);
    return draft([VSERVER_KEYWORD, v.name], attrs);
  });
}

/**
 * MySQL roles that sit on the same aliases share one object (`mysql A+B on=mgmt0+mgmt1`): the
 * seed's roles all run on the mgmt# pair, and one object instead of five keeps a filer under
 * dhcpd's option 43 budget. A group too long for one object continues in the next.
 */
function mysqlDrafts(t: Topology): Draft[] {
  const seen = new Set<string>();
  const groups = new Map<string, string[]>();
  for (const m of [...t.mysql].sort((a, b) => compareMysqlRoles(a.role, b.role))) {
    if (seen.has(m.role)) throw unrepresentable(`MySQL role "${m.role}" is listed twice`);
    seen.add(m.role);
    const on = joinList(`MySQL role ${m.role}`, m.aliases);
    groups.set(on, [...(groups.get(on) ?? []), m.role]);
  }
  const out: Draft[] = [];
  for (const [on, roles] of groups) {
    let batch: string[] = [];
    for (const role of roles) {
      const next = [...batch, role];
      if (batch.length > 0 && formatObject([MYSQL_KEYWORD, next.join(LIST_SEPARATOR)], [['on', on]]).length > MAX_OBJECT_BYTES) {
        out.push(draft([MYSQL_KEYWORD, batch.join(LIST_SEPARATOR)], [['on', on]]));
        batch = [role];
      } else {
        batch = next;
      }
    }
    out.push(draft([MYSQL_KEYWORD, batch.join(LIST_SEPARATOR)], [['on', on]]));
  }
  return out;
}

function headerText(t: Topology, count: number): string {
  return formatObject([`${FORMAT_NAME}/${FORMAT_MAJOR}.${FORMAT_MINOR}`], [
    ['gen', String(t.generation)],
    ['count', String(count)],
    ['filer', t.filer],
    // Optional (a 1.0 reader skips it): the IPv6 addresses not asked for over DHCPv4.
    ...(t.ipv6 === undefined ? [] : [[`${OPTIONAL_MARK}v6`, String(t.ipv6)] as [string, string]]),
  ]);
}

/**
 * One filer's topology as sub-options, sorted by code: 1 header, 2 signature (with a key), then
 * interfaces, virtual servers and MySQL roles from code 3. Throws WireEncodeError (or its
 * ObjectTooLongError subclass naming the object and its size) for anything a reader would refuse.
 */
export function encodeTopology(topology: Topology, opts: EncodeOptions = {}): SubOption[] {
  if (opts.key !== undefined) checkKey(opts.key);
  const parsed = Topology.safeParse(topology);
  if (!parsed.success) {
    throw new WireEncodeError('RS_WIRE_SCHEMA', `topology breaks the schema:\n${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  }
  const t = normalizeTopology(parsed.data);
  if (!NAME_RE.test(t.filer)) throw unrepresentable(`filer "${t.filer}": names are a letter, then letters, digits, - or _`);

  const tags = opts.key === undefined ? [] : addressTagObjects((opts.addresses ?? []).map((f) => addressTag(opts.key!, f)));
  const drafts = [...interfaceDrafts(t), ...vserverDrafts(t), ...mysqlDrafts(t), ...tags.map((text) => ({ name: 'addr', text }))];
  const capacity = LAST_OBJECT_CODE - FIRST_OBJECT_CODE + 1;
  if (drafts.length > capacity) {
    throw new WireEncodeError('RS_WIRE_TOO_MANY_OBJECTS', `topology of ${t.filer} needs ${drafts.length} objects; codes ${FIRST_OBJECT_CODE}-${LAST_OBJECT_CODE} hold ${capacity}`);
  }
  const objects: SubOption[] = drafts.map((d, i) => ({ code: FIRST_OBJECT_CODE + i, text: d.text }));
  const count = objects.length + 1 + (opts.key === undefined ? 0 : 1);
  const header = { code: HEADER_CODE, text: headerText(t, count) };
  if (header.text.length > MAX_OBJECT_BYTES) throw new ObjectTooLongError('header', header.text.length, MAX_OBJECT_BYTES);
  const unsigned = [header, ...objects];
  if (opts.key === undefined) return unsigned;
  return [header, { code: SIGNATURE_CODE, text: signatureText(unsigned, opts.key, opts.binding) }, ...objects];
}

export interface WireSizeOptions extends Pick<EncodeOptions, 'addresses' | 'binding'> {
  key?: Buffer;
  /** Size as if signed, without needing the key (the signature's length does not depend on it). */
  signed?: boolean;
}

/** A stand-in key for sizing: the signature object's length is the same for every key. */
const SIZING_KEY = Buffer.alloc(32, 0x5a);

/**
 * Bytes of option 43's payload for this topology (sub-option codes, lengths and texts; without
 * option 43's own code/length bytes and without any end byte a server adds). Compare it with
 * OPTION43_BUDGET before generating a server configuration.
 */
export function topologyWireSize(topology: Topology, opts: WireSizeOptions = {}): number {
  const key = opts.key ?? (opts.signed ? SIZING_KEY : undefined);
  const signing = key === undefined ? {} : { key, ...(opts.addresses ? { addresses: opts.addresses } : {}), ...(opts.binding ? { binding: opts.binding } : {}) };
  return encodeTopology(topology, signing).reduce((n, o) => n + subOptionSize(o.text), 0);
}

import { signForExchange, type ExchangeTemplate } from './exchange.js';
export { signForExchange, type ExchangeTemplate };

export function exchangeTemplate(objs: readonly SubOption[], key: Buffer, request: { clusterId: string; baseMac: string }): ExchangeTemplate {
  checkKey(key);
  const unsigned = objs.filter((o) => o.code !== SIGNATURE_CODE).sort((a, b) => a.code - b.code);
  const header = unsigned.find((o) => o.code === HEADER_CODE);
  if (header === undefined || unsigned.length === objs.length) {
    throw new WireEncodeError('RS_WIRE_UNREPRESENTABLE', 'an exchange template needs a signed topology (header and signature)');
  }
  return {
    before: subOptionsToBytes([header]),
    after: subOptionsToBytes(unsigned.filter((o) => o.code !== HEADER_CODE)),
    signature: signatureText(unsigned, key),
    digest: signedDigest(unsigned),
    bindingKey: bindingKeyOf(key),
    clusterId: request.clusterId,
    baseMac: request.baseMac,
  };
}

/** exchangeTemplate and signForExchange in one: `(xid) => option 43 bound to that exchange`. */
export function exchangeSigner(objs: readonly SubOption[], key: Buffer, request: { clusterId: string; baseMac: string }): (xid: number) => Buffer {
  const t = exchangeTemplate(objs, key, request);
  return (xid) => signForExchange(t, xid);
}
