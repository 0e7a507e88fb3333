// DNS-SD names of rackstrap's service (RFC 6763 §4.1: <Instance>.<Service>.<Domain>) and the rule
// that renames one after a conflict (RFC 6762 §9). The rule is deterministic, so every host
// reaches the same name for the same conflict: "X" -> "X (2)" -> "X (3)", host "h" -> "h-2".
export const SERVICE_TYPE = '_rackstrap._tcp';
export const DOMAIN = 'local';
export const SERVICE_NAME = `${SERVICE_TYPE}.${DOMAIN}`;
/** RFC 6763 §9: the meta-query that lists every service type on the link. */
export const SERVICES_META = `_services._dns-sd._udp.${DOMAIN}`;

/** RFC 6763 §4.1.1: an instance name is one label of at most 63 bytes. */
const LABEL_MAX = 63;

function cutToBytes(s: string, max: number): string {
  let out = s;
  while (Buffer.byteLength(out, 'utf8') > max) out = out.slice(0, -1);
  return out;
}

/** The instance name a member advertises: `<member> @ <cluster>`, unique across clusters on one segment. Dots are
 *  replaced (dns-packet does not escape them in labels). */
export function instanceName(member: string, cluster: string): string {
  return cutToBytes(`${member} @ ${cluster}`.replace(/[.\\]/g, '-'), LABEL_MAX);
}

/** The host label a member's records point at: `<member>-<last 3 bytes of the cluster ID>`, DNS-safe. */
export function hostLabel(member: string, clusterId: string): string {
  const suffix = clusterId.toLowerCase().replace(/[^0-9a-f]/g, '').slice(-6);
  const base = member.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '') || 'filer';
  return cutToBytes(`${base}-${suffix}`, LABEL_MAX);
}

export const instanceFqdn = (instance: string) => `${instance}.${SERVICE_NAME}`;
export const hostFqdn = (host: string) => `${host}.${DOMAIN}`;

/** The next name after a conflict on `instance` (RFC 6763 §9 style numbering). */
export function nextInstanceName(instance: string): string {
  const m = / \((\d+)\)$/.exec(instance);
  const n = m === null ? 2 : Number(m[1]) + 1;
  const base = m === null ? instance : instance.slice(0, m.index);
  const tail = ` (${n})`;
  return cutToBytes(base, LABEL_MAX - tail.length) + tail;
}

/** The next host label after a conflict on `host`. */
export function nextHostLabel(host: string): string {
  const m = /-(\d+)$/.exec(host);
  // A host label ending in digits that are our own suffix (hex) is not a counter; only "-N" added by us counts,
  // which we recognise as a decimal N ≥ 2 after the 6-hex cluster suffix.
  const counted = m !== null && /-[0-9a-f]{6}-\d+$/.test(host);
  const n = counted ? Number(m![1]) + 1 : 2;
  const base = counted ? host.slice(0, m!.index) : host;
  const tail = `-${n}`;
  return cutToBytes(base, LABEL_MAX - tail.length) + tail;
}

/** Case-insensitive DNS name equality (RFC 6762 §16: names are compared case-insensitively in ASCII). */
export const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The instance label of a full instance name under our service, or undefined. */
export function instanceOf(fqdn: string): string | undefined {
  const suffix = `.${SERVICE_NAME}`;
  if (fqdn.length <= suffix.length || !sameName(fqdn.slice(-suffix.length), suffix)) return undefined;
  return fqdn.slice(0, -suffix.length);
}
