// Interface naming rules of seed 003 §5.2.2: names are not chosen freely; the name says the kind.
//   eth#   physical NIC            bond#  bond (802.3ad, balance-rr, ...)
//   fail#  failover group          <parent>.<vlan>  802.1Q VLAN on any level (eth0.5, bond0.10, data0.5)
//   mgmt# / data# / san#  aliases that carry addresses (§5.2.2.1)
// Names are case-insensitive and stored lower-case. Numbers have no leading zeros (eth01 would
// otherwise be a second spelling of eth1). Linux limits names to 15 bytes (IFNAMSIZ - 1).

export type InterfaceKind = 'ethernet' | 'bond' | 'failover' | 'vlan' | 'alias';
export type AliasRole = 'mgmt' | 'data' | 'san';

/** Linux IFNAMSIZ is 16 including the terminating NUL. */
export const MAX_IFNAME_LENGTH = 15;
/** IEEE 802.1Q: 0 and 4095 are reserved. */
export const MIN_VLAN_ID = 1;
export const MAX_VLAN_ID = 4094;

/** MySQL node roles (§5.11). Here rather than in the schema, so that code that only reads identifiers (the server) loads no schema code. */
export const MYSQL_ROLE = /^MySQL(MgmtNode|DataNode[1-9][0-9]?|AppNode[1-9][0-9]?)$/;

const NUMBER = '(0|[1-9][0-9]{0,5})';
const BASE_NAME = new RegExp(`^(eth|bond|fail|mgmt|data|san)${NUMBER}$`);
const KIND_BY_PREFIX: Record<string, InterfaceKind> = {
  eth: 'ethernet',
  bond: 'bond',
  fail: 'failover',
  mgmt: 'alias',
  data: 'alias',
  san: 'alias',
};

export type ParsedName =
  | { kind: 'ethernet' | 'bond' | 'failover'; name: string; index: number }
  | { kind: 'alias'; name: string; role: AliasRole; index: number }
  | { kind: 'vlan'; name: string; parent: string; vlanId: number };

export type NameResult = { ok: true; value: ParsedName } | { ok: false; reason: string };

export function normalizeName(name: string): string {
  return name.toLowerCase();
}

/** Parses an interface name (any case) into its kind, or says which rule it breaks. */
export function parseInterfaceName(raw: string): NameResult {
  const name = normalizeName(raw);
  if (name.length === 0) return { ok: false, reason: 'interface name is empty' };
  if (name.length > MAX_IFNAME_LENGTH) {
    return { ok: false, reason: `interface name "${name}" is longer than ${MAX_IFNAME_LENGTH} characters (Linux IFNAMSIZ)` };
  }
  const dot = name.lastIndexOf('.');
  if (dot >= 0) {
    const parent = name.slice(0, dot);
    const tag = name.slice(dot + 1);
    if (!/^(0|[1-9][0-9]*)$/.test(tag)) {
      return { ok: false, reason: `VLAN name "${name}" must end in .<vlan id> with digits and no leading zero` };
    }
    const vlanId = Number(tag);
    if (vlanId < MIN_VLAN_ID || vlanId > MAX_VLAN_ID) {
      return { ok: false, reason: `VLAN id ${vlanId} in "${name}" is outside ${MIN_VLAN_ID}-${MAX_VLAN_ID}` };
    }
    const parentResult = parseInterfaceName(parent);
    if (!parentResult.ok) return { ok: false, reason: `VLAN "${name}": ${parentResult.reason}` };
    return { ok: true, value: { kind: 'vlan', name, parent, vlanId } };
  }
  const m = BASE_NAME.exec(name);
  if (!m) {
    return {
      ok: false,
      reason: `"${name}" is not an allowed interface name (eth#, bond#, fail#, <parent>.<vlan>, mgmt#, data#, san#)`,
    };
  }
  const prefix = m[1]!;
  const index = Number(m[2]);
  const kind = KIND_BY_PREFIX[prefix]!;
  if (kind === 'alias') return { ok: true, value: { kind, name, role: prefix as AliasRole, index } };
  return { ok: true, value: { kind, name, index } as ParsedName };
}

export function interfaceKind(name: string): InterfaceKind | undefined {
  const r = parseInterfaceName(name);
  return r.ok ? r.value.kind : undefined;
}

/** The chain of VLAN parents down to the first non-VLAN name: "bond0.10.20" -> "bond0". */
export function vlanBase(name: string): string {
  let n = normalizeName(name);
  for (;;) {
    const r = parseInterfaceName(n);
    if (!r.ok || r.value.kind !== 'vlan') return n;
    n = r.value.parent;
  }
}

/** The VLAN ids on a name, outermost last: "data0.5" -> [5], "bond0.10.20" -> [10, 20]. */
export function vlanPath(name: string): number[] {
  const ids: number[] = [];
  let n = normalizeName(name);
  for (;;) {
    const r = parseInterfaceName(n);
    if (!r.ok || r.value.kind !== 'vlan') return ids.reverse();
    ids.push(r.value.vlanId);
    n = r.value.parent;
  }
}

/** Names that carry addresses: an alias, or a VLAN whose base is an alias (data0.5). */
export function isAddressable(name: string): boolean {
  return interfaceKind(vlanBase(name)) === 'alias';
}

/** §5.3: `vs_mgmt` is reserved, also as a prefix, for the cluster's management virtual server. */
export const RESERVED_VSERVER_PREFIX = 'vs_mgmt';
/** The management virtual server itself: exactly this name (it carries the cluster's own services). */
export const MANAGEMENT_VSERVER = 'vs_mgmt';
/** A name only the management virtual server may have: anything starting with vs_mgmt, in any case. */
export function isReservedVserverName(name: string): boolean {
  return name.toLowerCase().startsWith(RESERVED_VSERVER_PREFIX);
}
