// Option 43 sub-options -> Topology (docs/wire-format.md). Strict: anything not exactly in the
// format is refused with a specific WireDecodeError, and the caller keeps the configuration it has.
// Order of checks: framing, version (so an older reader refuses a newer major before reading
// anything else), count, signature (so nothing unauthenticated is interpreted), objects, schema.
import { z } from 'zod';
import { parseInterfaceName, type InterfaceKind } from '../names.js';
import { Topology, type Bond, type Failover, type Stack, type TopologyMysql, type TopologyVserver } from '../schema.js';
import { FORMAT_MAJOR, FORMAT_NAME, HEADER_CODE, LAST_OBJECT_CODE, MAX_OBJECT_BYTES, SIGNATURE_ALGORITHM, SIGNATURE_CODE } from './constants.js';
import { WireDecodeError, WireKeyError, WireVersionError } from './errors.js';
import { describe, grammarError, OPTIONAL_MARK, parseList, parseNumber, parseObject, takeAttributes, type ObjectRef } from './grammar.js';
import { compareMysqlRoles, naturalCompare } from './normalize.js';
import {
  HEADER_ATTRS,
  HEADER_OPTIONAL_ATTRS,
  impliedVlans,
  INSTANCE_SEPARATOR,
  INTERFACE_ATTRS,
  INTERFACE_REQUIRED,
  isCanonicalInterfaceName,
  MYSQL_ATTRS,
  MYSQL_KEYWORD,
  NAME_RE,
  SIGNATURE_ATTRS,
  SIGNATURE_REQUIRED,
  VSERVER_ATTRS,
  VSERVER_KEYWORD,
  VSERVER_REQUIRED,
} from './objects.js';
import { ADDRESS_KEYWORD, splitAddressTags } from './address-tags.js';
import { verifyBinding, verifySignature, type RequestBinding } from './signature.js';
import { parseSubOptions, type SubOption } from './sub-options.js';

export interface DecodeOptions {
  /** The cluster's key: a signature present is verified (wrong key id or MAC rejects). */
  key?: Buffer;
  /** Refuse a topology without a signature. Needs `key`. */
  requireSignature?: boolean;
  /** Refuse a topology addressed to another filer (a replayed, validly signed one included). */
  expectFiler?: string;
  /**
   * With `key`: the request this answer must be bound to (format 1.1). A topology signed without
   * a binding is then refused (RS_WIRE_NOT_BOUND: a 1.0 signer, or a binding stripped on the way),
   * one bound to another request too (RS_WIRE_WRONG_REQUEST).
   */
  binding?: RequestBinding;
  /** With `binding`: refuse answers bound only to the filer (`~to=`), not to this exchange (`~xid=`). */
  requireExchangeBinding?: boolean;
}

export interface DecodedTopology {
  topology: Topology;
  /** True only when a signature was present and verified with `key`. */
  signed: boolean;
  version: { major: number; minor: number };
  /** Optional (`~`) attributes and objects this reader does not know and skipped. */
  skipped: string[];
  /**
   * What the verified signature binds the answer to: `exchange` (cluster ID, base MAC and the
   * xid), `request` (cluster ID and base MAC), or `none` (unsigned, unverified or unbound).
   */
  binding: 'exchange' | 'request' | 'none';
  /** Address tags of a verified signed topology (format 1.1; empty otherwise): check offers with hasAddressTag. */
  addressTags: string[];
}

/** Option 43 payload, its instances in message order (RFC 3396), or already-split sub-options. */
export type DecodeInput = Buffer | readonly Buffer[] | readonly SubOption[];

const VERSION_RE = new RegExp(`^${FORMAT_NAME}/(0|[1-9][0-9]{0,4})\\.(0|[1-9][0-9]{0,4})$`);

function toSubOptions(input: DecodeInput): SubOption[] {
  if (Buffer.isBuffer(input)) return parseSubOptions(input);
  if (input.length > 0 && Buffer.isBuffer(input[0])) return parseSubOptions(input as readonly Buffer[]);
  const objs = input as readonly SubOption[];
  const seen = new Set<number>();
  for (const o of objs) {
    if (!Number.isInteger(o.code) || o.code < HEADER_CODE || o.code > LAST_OBJECT_CODE) {
      throw new WireDecodeError('RS_WIRE_GRAMMAR', `sub-option code ${o.code} is outside ${HEADER_CODE}-${LAST_OBJECT_CODE}`);
    }
    if (seen.has(o.code)) throw new WireDecodeError('RS_WIRE_DUPLICATE_CODE', `sub-option ${o.code} appears twice`);
    seen.add(o.code);
    if (o.text.length > MAX_OBJECT_BYTES) {
      throw new WireDecodeError('RS_WIRE_OVERLONG', `sub-option ${o.code}: ${o.text.length} bytes is over the ${MAX_OBJECT_BYTES}-byte object limit`);
    }
  }
  return [...objs];
}

/** Reads only the header's first token: the one thing every major version keeps. */
function readVersion(header: SubOption | undefined, total: number): { major: number; minor: number } {
  if (header === undefined) {
    throw new WireDecodeError('RS_WIRE_NO_HEADER', total === 0 ? 'option 43 holds no sub-options' : 'no sub-option 1 (header): not a rackstrap topology');
  }
  const first = header.text.split(' ', 1)[0]!;
  if (!first.startsWith(`${FORMAT_NAME}/`)) {
    throw new WireDecodeError('RS_WIRE_NO_HEADER', `sub-option 1 is not a ${FORMAT_NAME} header: not a rackstrap topology`);
  }
  const m = VERSION_RE.exec(first);
  if (!m) throw grammarError({ code: HEADER_CODE, name: 'header' }, `version must be ${FORMAT_NAME}/<major>.<minor>`);
  const version = { major: Number(m[1]), minor: Number(m[2]) };
  if (version.major !== FORMAT_MAJOR) throw new WireVersionError(version.major, version.minor, FORMAT_MAJOR);
  return version;
}

const asInterface = (ref: ObjectRef, key: string, name: string): string => {
  if (!isCanonicalInterfaceName(name)) {
    const r = parseInterfaceName(name);
    throw grammarError(ref, `${key}=: ${r.ok ? `"${name}" is not lower-case canonical spelling` : r.reason}`);
  }
  return name;
};

/** Collects the decoded pieces; `names` catches two objects describing one thing. */
class Builder {
  readonly stack = {
    bonds: {} as Record<string, Bond>,
    failovers: {} as Record<string, Failover>,
    vlans: [] as string[],
    aliases: {} as Record<string, string>,
    mtu: {} as Record<string, number>,
  };
  readonly vservers: TopologyVserver[] = [];
  readonly mysql: TopologyMysql[] = [];
  readonly references: string[] = [];
  readonly tags: string[] = [];
  private readonly names = new Map<string, number>();

  claim(ref: ObjectRef, what: string): void {
    const first = this.names.get(what);
    if (first !== undefined) {
      throw new WireDecodeError('RS_WIRE_DUPLICATE_NAME', `${describe(ref)}: ${what} is already described by sub-option ${first}`);
    }
    this.names.set(what, ref.code);
  }

  list(ref: ObjectRef, key: string, value: string): string[] {
    const items = parseList(ref, key, value).map((n) => asInterface(ref, key, n));
    this.references.push(...items);
    return items;
  }
}

// Raw values go into the stack as read; ranges and enums are the schema's job (RS_WIRE_SCHEMA).
function readInterface(b: Builder, ref: ObjectRef, kind: InterfaceKind, name: string, a: Map<string, string>): void {
  const num = (key: string): number | undefined => (a.has(key) ? parseNumber(ref, key, a.get(key)!) : undefined);
  const mtu = num('mtu');
  if (mtu !== undefined) b.stack.mtu[name] = mtu;
  const single = (key: string): string | undefined => {
    if (!a.has(key)) return undefined;
    const items = b.list(ref, key, a.get(key)!);
    if (items.length !== 1) throw grammarError(ref, `${key}= takes one interface`);
    return items[0];
  };
  switch (kind) {
    case 'ethernet':
      return;
    case 'vlan':
      b.stack.vlans.push(name);
      return;
    case 'alias':
      b.stack.aliases[name] = single('on')!;
      return;
    case 'bond': {
      const bond: Record<string, unknown> = { mode: a.get('mode'), members: b.list(ref, 'members', a.get('members')!) };
      const primary = single('primary');
      if (primary !== undefined) bond.primary = primary;
      if (a.has('lacp_rate')) bond.lacpRate = a.get('lacp_rate');
      if (a.has('xmit_hash_policy')) bond.hashPolicy = a.get('xmit_hash_policy');
      const miimon = num('miimon');
      if (miimon !== undefined) bond.miimon = miimon;
      b.stack.bonds[name] = bond as Bond;
      return;
    }
    case 'failover': {
      const fail: Record<string, unknown> = { members: b.list(ref, 'members', a.get('members')!) };
      const primary = single('primary');
      if (primary !== undefined) fail.primary = primary;
      const miimon = num('miimon');
      if (miimon !== undefined) fail.miimon = miimon;
      b.stack.failovers[name] = fail as Failover;
      return;
    }
    default: {
      const never: never = kind;
      throw new Error(`unhandled interface kind ${String(never)}`);
    }
  }
}

function readVserver(b: Builder, ref: ObjectRef, name: string, a: Map<string, string>): void {
  if (!NAME_RE.test(name)) throw grammarError(ref, `"${name}" is not a virtual server name`);
  b.claim(ref, `virtual server ${name}`);
  const addresses = parseList(ref, 'addr', a.get('addr')!).map((item) => {
    const cut = item.lastIndexOf(INSTANCE_SEPARATOR);
    if (cut <= 0) throw grammarError(ref, `addr=: "${item}" is not <alias>:<instance>`);
    const alias = asInterface(ref, 'addr', item.slice(0, cut));
    b.references.push(alias);
    return { alias, instance: parseNumber(ref, 'addr', item.slice(cut + 1)) };
  });
  const gateway = a.get('gw');
  b.vservers.push({ name, table: parseNumber(ref, 'table', a.get('table')!), ...(gateway === undefined ? {} : { gateway }), addresses });
}

function readMysql(b: Builder, ref: ObjectRef, roles: string, a: Map<string, string>): void {
  const aliases = b.list(ref, 'on', a.get('on')!);
  for (const role of parseList(ref, 'roles', roles)) {
    b.claim(ref, `MySQL role ${role}`);
    b.mysql.push({ role, aliases });
  }
}

function readObject(b: Builder, o: SubOption, skipped: string[]): void {
  const ref: ObjectRef = { code: o.code };
  const p = parseObject(ref, o.text);
  const head = p.names[0]!;
  const named: ObjectRef = { code: o.code, name: p.names.join(' ') };
  const expectNames = (n: number): void => {
    if (p.names.length !== n) throw grammarError(named, `expected ${n === 1 ? 'one name' : `${n} names`} before the attributes`);
  };
  if (head.startsWith(`${FORMAT_NAME}/`) || head.startsWith('hmac-')) {
    throw new WireDecodeError('RS_WIRE_MISPLACED', `${describe(ref)}: headers belong at code ${HEADER_CODE} and signatures at code ${SIGNATURE_CODE}`);
  }
  if (head === VSERVER_KEYWORD) {
    expectNames(2);
    readVserver(b, named, p.names[1]!, takeAttributes(named, p.attrs, VSERVER_ATTRS, VSERVER_REQUIRED, skipped));
    return;
  }
  if (head === MYSQL_KEYWORD) {
    expectNames(2);
    readMysql(b, named, p.names[1]!, takeAttributes(named, p.attrs, MYSQL_ATTRS, MYSQL_ATTRS, skipped));
    return;
  }
  if (head === ADDRESS_KEYWORD) {
    expectNames(2);
    if (p.attrs.length > 0) throw grammarError(named, 'address tags have no attributes');
    const tags = splitAddressTags(p.names[1]!);
    if (tags === undefined) throw grammarError({ code: o.code, name: 'addr' }, 'address tags are runs of 8 base64url characters');
    b.tags.push(...tags);
    return;
  }
  const parsed = parseInterfaceName(head);
  if (parsed.ok && parsed.value.name === head) {
    expectNames(1);
    const kind = parsed.value.kind;
    b.claim(named, `interface ${head}`);
    readInterface(b, named, kind, head, takeAttributes(named, p.attrs, INTERFACE_ATTRS[kind], INTERFACE_REQUIRED[kind], skipped));
    return;
  }
  if (parsed.ok) throw grammarError(ref, `"${head}" is not in canonical spelling (${parsed.value.name})`);
  if (p.optional) {
    skipped.push(`${describe(ref)}: ${OPTIONAL_MARK}${head}`);
    return;
  }
  throw new WireDecodeError('RS_WIRE_UNKNOWN_OBJECT', `${describe(ref)}: "${head}" is no known object kind (and it is not marked optional with ${OPTIONAL_MARK})`);
}

function sortedRecord<T>(rec: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(rec).sort(([a], [b]) => naturalCompare(a, b)));
}

/**
 * Decodes one filer's topology. Throws WireDecodeError (code RS_WIRE_*) for every malformed,
 * unauthenticated or foreign input, WireVersionError for an unreadable major version, and
 * WireKeyError for a caller error (requireSignature without key, key too short).
 */
export function decodeTopology(input: DecodeInput, opts: DecodeOptions = {}): DecodedTopology {
  if ((opts.requireSignature || opts.binding !== undefined) && opts.key === undefined) {
    throw new WireKeyError('RS_WIRE_NO_KEY', 'a signed topology is required but no key was given to check it');
  }
  const objs = toSubOptions(input);
  const byCode = new Map(objs.map((o) => [o.code, o]));
  const version = readVersion(byCode.get(HEADER_CODE), objs.length);
  const skipped: string[] = [];

  // Header: gen, count, filer.
  const headerRef: ObjectRef = { code: HEADER_CODE, name: 'header' };
  const hp = parseObject(headerRef, byCode.get(HEADER_CODE)!.text);
  if (hp.names.length !== 1) throw grammarError(headerRef, 'expected the version token, then attributes');
  const h = takeAttributes(headerRef, hp.attrs, [...HEADER_ATTRS, ...HEADER_OPTIONAL_ATTRS], HEADER_ATTRS, skipped);
  const ipv6 = h.has('v6') ? parseNumber(headerRef, 'v6', h.get('v6')!) : undefined;
  const count = parseNumber(headerRef, 'count', h.get('count')!);
  if (count !== objs.length) {
    throw new WireDecodeError(
      'RS_WIRE_COUNT',
      `header says ${count} sub-options but ${objs.length} arrived: an object was ${count > objs.length ? 'dropped' : 'added'} on the way`,
    );
  }
  const generation = parseNumber(headerRef, 'gen', h.get('gen')!);
  const filer = h.get('filer')!;
  if (!NAME_RE.test(filer)) throw grammarError(headerRef, `filer=${filer} is not a filer name`);

  // Signature, before any object is interpreted.
  let signed = false;
  let binding: DecodedTopology['binding'] = 'none';
  const sig = byCode.get(SIGNATURE_CODE);
  if (sig !== undefined) {
    const sigRef: ObjectRef = { code: SIGNATURE_CODE, name: 'signature' };
    const sp = parseObject(sigRef, sig.text);
    if (sp.names[0] !== SIGNATURE_ALGORITHM || sp.names.length !== 1) {
      if (!sp.names[0]!.startsWith('hmac-')) {
        throw new WireDecodeError('RS_WIRE_MISPLACED', `sub-option ${SIGNATURE_CODE} is reserved for the signature, found "${sp.names[0]}"`);
      }
      throw grammarError(sigRef, `unknown signature algorithm "${sp.names.join(' ')}" (expected ${SIGNATURE_ALGORITHM})`);
    }
    const s = takeAttributes(sigRef, sp.attrs, SIGNATURE_ATTRS, SIGNATURE_REQUIRED, skipped);
    if (s.has('to') && s.has('xid')) throw grammarError(sigRef, 'a signature binds to the request (to=) or to the exchange (xid=), not both');
    if (opts.key !== undefined) {
      verifySignature(sigRef, s.get('key')!, s.get('mac')!, objs, opts.key);
      signed = true;
      if (opts.binding !== undefined) {
        const kind = s.has('xid') ? 'xid' : s.has('to') ? 'to' : undefined;
        if (kind === undefined) {
          throw new WireDecodeError('RS_WIRE_NOT_BOUND', 'topology is signed but not bound to the request it answers (written by a server older than format 1.1, or the binding was removed on the way)');
        }
        if (kind === 'to' && opts.requireExchangeBinding) {
          throw new WireDecodeError('RS_WIRE_NOT_BOUND', 'topology is bound to this filer but not to this exchange, and this filer requires an answer signed for the exchange');
        }
        verifyBinding(sigRef, kind, s.get(kind)!, objs, opts.key, opts.binding);
        binding = kind === 'xid' ? 'exchange' : 'request';
      }
    }
  } else if (opts.requireSignature) {
    throw new WireDecodeError('RS_WIRE_UNSIGNED', 'topology is not signed, and this cluster requires a signature');
  }

  const b = new Builder();
  for (const o of [...objs].sort((x, y) => x.code - y.code)) {
    if (o.code === HEADER_CODE || o.code === SIGNATURE_CODE) continue;
    readObject(b, o, skipped);
  }
  for (const v of impliedVlans(b.references, b.stack.vlans)) if (!b.stack.vlans.includes(v)) b.stack.vlans.push(v);

  const stack: Stack = {
    bonds: sortedRecord(b.stack.bonds),
    failovers: sortedRecord(b.stack.failovers),
    vlans: b.stack.vlans.sort(naturalCompare),
    aliases: sortedRecord(b.stack.aliases),
    mtu: sortedRecord(b.stack.mtu),
  };
  const parsed = Topology.safeParse({
    filer,
    generation,
    stack,
    vservers: b.vservers.sort((x, y) => naturalCompare(x.name, y.name)),
    mysql: b.mysql.sort((x, y) => compareMysqlRoles(x.role, y.role)),
    ...(ipv6 === undefined || ipv6 === 0 ? {} : { ipv6 }),
  });
  if (!parsed.success) {
    throw new WireDecodeError('RS_WIRE_SCHEMA', `decoded topology breaks the schema:\n${z.prettifyError(parsed.error)}`, undefined, { cause: parsed.error });
  }
  if (opts.expectFiler !== undefined && parsed.data.filer !== opts.expectFiler) {
    throw new WireDecodeError('RS_WIRE_WRONG_FILER', `topology is for filer ${parsed.data.filer}, not for ${opts.expectFiler}`);
  }
  return { topology: parsed.data, signed, version, skipped, binding, addressTags: signed ? [...new Set(b.tags)].sort() : [] };
}

