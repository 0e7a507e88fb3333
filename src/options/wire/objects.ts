// The object vocabulary shared by writer and reader: keywords, attribute keys per kind, and the
// rule that makes plain VLAN objects implicit. Attribute names follow the Linux bonding driver's
// options (Documentation/networking/bonding.rst: mode, miimon, lacp_rate, xmit_hash_policy,
// primary) so an admin reading a capture recognises them.
import { parseInterfaceName, type InterfaceKind } from '../names.js';

/** Filer and virtual server names: the cluster description's rule (schema.ts), also a wire token. */
export const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

export const VSERVER_KEYWORD = 'vs';
export const MYSQL_KEYWORD = 'mysql';

export const HEADER_ATTRS = ['gen', 'count', 'filer'] as const;
/** `v6` (1.1, `~`-marked): how many IPv6 addresses of the filer DHCPv4 does not serve. */
export const HEADER_OPTIONAL_ATTRS = ['v6'] as const;
/** `to` / `xid` (1.1): the request binding, written `~`-marked so a 1.0 reader skips it. */
export const SIGNATURE_ATTRS = ['key', 'mac', 'to', 'xid'] as const;
export const SIGNATURE_REQUIRED = ['key', 'mac'] as const;

/** Attribute keys per interface kind, in the order the writer emits them. */
export const INTERFACE_ATTRS: Record<InterfaceKind, readonly string[]> = {
  ethernet: ['mtu'],
  bond: ['mode', 'members', 'primary', 'lacp_rate', 'xmit_hash_policy', 'miimon', 'mtu'],
  failover: ['members', 'primary', 'miimon', 'mtu'],
  vlan: ['mtu'],
  alias: ['on', 'mtu'],
};
export const INTERFACE_REQUIRED: Record<InterfaceKind, readonly string[]> = {
  ethernet: [],
  bond: ['mode', 'members'],
  failover: ['members'],
  vlan: [],
  alias: ['on'],
};
/** `gw` (1.1): the server's default route, written `~gw=` so a 1.0 reader skips it. */
export const VSERVER_ATTRS = ['table', 'addr', 'gw'] as const;
export const VSERVER_REQUIRED = ['table', 'addr'] as const;
export const MYSQL_ATTRS = ['on'] as const;

/** Object order on the wire: NICs, bonds, failover groups, VLANs, aliases (then vs, then mysql). */
export const KIND_ORDER: readonly InterfaceKind[] = ['ethernet', 'bond', 'failover', 'vlan', 'alias'];

/** Separator of an address item: addr=data0:0 is alias data0, instance 0. */
export const INSTANCE_SEPARATOR = ':';

/** True when `name` is an interface name in canonical (lower-case, no leading zero) spelling. */
export function isCanonicalInterfaceName(name: string): boolean {
  const r = parseInterfaceName(name);
  return r.ok && r.value.name === name;
}

/** The VLAN interfaces a VLAN name is built on, nearest first: bond0.10.20 -> [bond0.10]. */
export function vlanAncestors(name: string): string[] {
  const out: string[] = [];
  let r = parseInterfaceName(name);
  while (r.ok && r.value.kind === 'vlan') {
    r = parseInterfaceName(r.value.parent);
    if (r.ok && r.value.kind === 'vlan') out.push(r.value.name);
  }
  return out;
}

/**
 * VLANs a reader creates without a VLAN object of their own: every VLAN named as a value
 * (members=, primary=, on=, addr=) with the VLANs under it, and the VLANs under every VLAN object.
 * A VLAN object is only written when it has attributes or nothing else implies it.
 */
export function impliedVlans(references: Iterable<string>, vlanObjects: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const ref of references) {
    if (isVlan(ref)) out.add(ref);
    for (const a of vlanAncestors(ref)) out.add(a);
  }
  for (const v of vlanObjects) for (const a of vlanAncestors(v)) out.add(a);
  return out;
}

function isVlan(name: string): boolean {
  const r = parseInterfaceName(name);
  return r.ok && r.value.kind === 'vlan';
}
