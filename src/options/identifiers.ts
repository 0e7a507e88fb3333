// The DHCP client identifiers of seed 003 (sent as raw text in option 61, RFC 2132 §9.14):
//   <CID>:<alias>:<filer>              filer-private address (mgmt#, san#)        §5.2.6.3
//   <CID>:<alias>:<vserver>:<n>        virtual server address instance n (data#; vs_mgmt also mgmt#) §5.2.6.3
//   <CID>:<alias>:<MySQL role>         MySQL node address (mgmt#)                 §5.11
//   <CID>:<base MAC>                   topology request of one filer              §5.2.6.2
// DHCP servers compare identifiers byte for byte, so there is exactly one spelling: MACs in
// upper-case colon hex as the seed prints them, alias lower-case, names as declared.
import { RackstrapError } from '../errors.js';
import { MANAGEMENT_VSERVER, MYSQL_ROLE, parseInterfaceName, vlanBase, type AliasRole } from './names.js';

export type Identifier =
  | { kind: 'filer'; clusterId: string; alias: string; filer: string }
  | { kind: 'vserver'; clusterId: string; alias: string; vserver: string; instance: number }
  | { kind: 'mysql'; clusterId: string; alias: string; role: string }
  | { kind: 'topology'; clusterId: string; baseMac: string };

export type IdentifierResult = { ok: true; value: Identifier } | { ok: false; reason: string };

/** Option 61's length octet bounds the text (RFC 2132 §9.14). */
export const MAX_IDENTIFIER_LENGTH = 255;

const MAC_CANONICAL = /^[0-9A-F]{2}(:[0-9A-F]{2}){5}$/;
const MAC_ANY_CASE = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;
/** Filer and virtual server names, as schema.ts accepts them. */
const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
const INSTANCE = /^(0|[1-9][0-9]{0,3})$/;

/** Which alias roles each kind of identifier uses. */
const ROLES: Record<'filer' | 'vserver' | 'mysql', readonly AliasRole[]> = {
  filer: ['mgmt', 'san'],
  vserver: ['data'],
  mysql: ['mgmt'],
};

function checkMac(text: string, what: string): string | undefined {
  if (MAC_CANONICAL.test(text)) return undefined;
  if (MAC_ANY_CASE.test(text)) return `${what} ${text} must be upper-case hex (identifiers are compared byte for byte)`;
  return `${what} "${text}" is not a MAC address like 00:07:34:04:12:0E`;
}

/** Why `alias` cannot appear in an identifier of this kind, if it cannot. */
function checkAlias(alias: string, kind: 'filer' | 'vserver' | 'mysql', roles: readonly AliasRole[] = ROLES[kind]): string | undefined {
  if (alias !== alias.toLowerCase()) return `alias "${alias}" must be lower-case`;
  const r = parseInterfaceName(alias);
  if (!r.ok) return `alias "${alias}": ${r.reason}`;
  const base = parseInterfaceName(vlanBase(alias));
  if (!base.ok || base.value.kind !== 'alias') return `"${alias}" is not an alias (mgmt#, data#, san#, or a VLAN of one)`;
  if (kind === 'mysql' && r.value.kind !== 'alias') return `MySQL identifiers use a mgmt# alias, not the VLAN ${alias}`;
  if (!roles.includes(base.value.role)) {
    const what = kind === 'filer' ? 'filer identifiers use mgmt# or san#' : kind === 'vserver' ? `virtual server identifiers use ${roles.map((r) => `${r}#`).join(' or ')}` : 'MySQL identifiers use mgmt#';
    return `${what}, not ${alias}`;
  }
  return undefined;
}

/** Checks an identifier's parts; the reason if one is wrong. */
export function checkIdentifier(id: Identifier): string | undefined {
  const cid = checkMac(id.clusterId, 'cluster ID');
  if (cid) return cid;
  switch (id.kind) {
    case 'topology':
      return checkMac(id.baseMac, 'base MAC');
    case 'filer':
      return checkAlias(id.alias, 'filer') ?? (NAME.test(id.filer) ? undefined : `"${id.filer}" is not a filer name`) ??
        (MYSQL_ROLE.test(id.filer) ? `"${id.filer}" is a MySQL role, not a filer name` : undefined);
    case 'vserver':
      // The management virtual server carries the cluster's own services, on the management network too.
      return checkAlias(id.alias, 'vserver', id.vserver === MANAGEMENT_VSERVER ? ['data', 'mgmt'] : ROLES.vserver) ?? (NAME.test(id.vserver) ? undefined : `"${id.vserver}" is not a virtual server name`) ??
        (Number.isInteger(id.instance) && INSTANCE.test(String(id.instance)) ? undefined : `instance ${id.instance} is not a number 0-9999`);
    case 'mysql':
      return checkAlias(id.alias, 'mysql') ?? (MYSQL_ROLE.test(id.role) ? undefined : `"${id.role}" is not a MySQL role (MySQLMgmtNode, MySQLDataNode<n>, MySQLAppNode<n>)`);
  }
}

/** The identifier's text. Throws RS_IDENTIFIER for parts no DHCP server could match. */
export function formatIdentifier(id: Identifier): string {
  const why = checkIdentifier(id);
  if (why) throw new RackstrapError('RS_IDENTIFIER', `cannot build identifier: ${why}`);
  switch (id.kind) {
    case 'topology':
      return `${id.clusterId}:${id.baseMac}`;
    case 'filer':
      return `${id.clusterId}:${id.alias}:${id.filer}`;
    case 'vserver':
      return `${id.clusterId}:${id.alias}:${id.vserver}:${id.instance}`;
    case 'mysql':
      return `${id.clusterId}:${id.alias}:${id.role}`;
  }
}

// Builders take MACs in any case and aliases in any case, and spell them canonically.
export function filerIdentifier(clusterId: string, alias: string, filer: string): string {
  return formatIdentifier({ kind: 'filer', clusterId: clusterId.toUpperCase(), alias: alias.toLowerCase(), filer });
}
export function vserverIdentifier(clusterId: string, alias: string, vserver: string, instance: number): string {
  return formatIdentifier({ kind: 'vserver', clusterId: clusterId.toUpperCase(), alias: alias.toLowerCase(), vserver, instance });
}
export function mysqlIdentifier(clusterId: string, alias: string, role: string): string {
  return formatIdentifier({ kind: 'mysql', clusterId: clusterId.toUpperCase(), alias: alias.toLowerCase(), role });
}
export function topologyKey(clusterId: string, baseMac: string): string {
  return formatIdentifier({ kind: 'topology', clusterId: clusterId.toUpperCase(), baseMac: baseMac.toUpperCase() });
}

/** Parses identifier text (exact spelling, as a DHCP server sees it), or says why it is not one. */
export function parseIdentifier(text: string): IdentifierResult {
  const fail = (reason: string): IdentifierResult => ({ ok: false, reason });
  if (text.length === 0) return fail('identifier is empty');
  if (text.length > MAX_IDENTIFIER_LENGTH) return fail(`identifier is ${text.length} bytes; option 61 holds at most ${MAX_IDENTIFIER_LENGTH}`);
  if (!/^[\x21-\x7e]+$/.test(text)) return fail('identifier must be printable ASCII without spaces');
  const parts = text.split(':');
  if (parts.length < 7) return fail('identifier must start with the cluster ID (six colon-separated hex bytes) and have more after it');
  const clusterId = parts.slice(0, 6).join(':');
  const rest = parts.slice(6);
  let id: Identifier;
  if (rest.length === 6 && rest.every((p) => /^[0-9A-Fa-f]{2}$/.test(p))) {
    id = { kind: 'topology', clusterId, baseMac: rest.join(':') };
  } else if (rest.length === 2) {
    const [alias, name] = rest as [string, string];
    id = MYSQL_ROLE.test(name) ? { kind: 'mysql', clusterId, alias, role: name } : { kind: 'filer', clusterId, alias, filer: name };
  } else if (rest.length === 3) {
    const [alias, vserver, n] = rest as [string, string, string];
    if (!INSTANCE.test(n)) return fail(`instance "${n}" is not a number 0-9999 without leading zeros`);
    id = { kind: 'vserver', clusterId, alias, vserver, instance: Number(n) };
  } else {
    return fail(`after the cluster ID expected <alias>:<name>, <alias>:<vserver>:<n> or a base MAC, got ${rest.length} ${rest.length === 1 ? 'part' : 'parts'}`);
  }
  const why = checkIdentifier(id);
  return why ? fail(why) : { ok: true, value: id };
}
