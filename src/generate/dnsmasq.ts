// dnsmasq configuration lines: a tag for the cluster's vendor class, per subnet a static range
// (reserved addresses only) with the scope options and the bootstrap range open only to that tag,
// per filer a tag set by its topology key with the objects as `vendor:` sub-options of option 43,
// and one dhcp-host line per identifier. Identifiers are quoted: unquoted, dnsmasq reads
// `id:00:07:...` as hex (dhcp-servers.md).
import { dnsmasqString, dnsmasqToken, safeName } from './quote.js';
import { checkServerLimits } from './limits.js';
import { describeOwner, groupByOwner, headerLines, requireBootstrap, type GenModel } from './model.js';
import type { ResolvedSubnet } from '../options/resolve.js';

/** dnsmasq(8) --dhcp-lease-max default: leases past it are refused. */
const DNSMASQ_DEFAULT_LEASE_MAX = 1000;

export function dnsmasqVendorTag(model: GenModel): string {
  return `rackstrap-${safeName(model.cluster.name)}`;
}
function subnetTag(model: GenModel, s: ResolvedSubnet): string {
  return `rackstrap-${safeName(model.cluster.name)}-${safeName(`${s.network}-${s.prefixLength}`)}`;
}
function filerTag(model: GenModel, filer: string): string {
  return `rackstrap-${safeName(model.cluster.name)}-${safeName(filer)}`;
}

function subnetLines(model: GenModel, s: ResolvedSubnet): string[] {
  const tag = subnetTag(model, s);
  const out = [`# ${s.prefix}`];
  // `static`: only hosts with a dhcp-host line get an address from this range.
  out.push(`dhcp-range=set:${tag},${s.network},static,${s.netmask},${s.leaseTime}`);
  if (s.bootstrap) {
    out.push(`# topology requests of cluster ${model.cluster.name}: offered from here, never committed`);
    out.push(`dhcp-range=tag:${dnsmasqVendorTag(model)},set:${tag},${s.bootstrap.start},${s.bootstrap.end},${s.netmask},${s.leaseTime}`);
  }
  if (s.routers.length) out.push(`dhcp-option=tag:${tag},option:router,${s.routers.join(',')}`);
  if (s.dns.length) out.push(`dhcp-option=tag:${tag},option:dns-server,${s.dns.join(',')}`);
  if (s.ntp.length) out.push(`dhcp-option=tag:${tag},option:ntp-server,${s.ntp.join(',')}`);
  if (s.domain !== undefined) out.push(`dhcp-option=tag:${tag},option:domain-name,${dnsmasqString('domain', s.domain)}`);
  return out;
}

/** The dnsmasq.conf lines. Throws TopologyTooBigError when a filer's topology would not arrive intact. */
export function renderDnsmasq(model: GenModel): string {
  requireBootstrap(model, 'dnsmasq');
  const fits = new Map(checkServerLimits(model, 'dnsmasq').map((f) => [f.filer, f]));
  const vendor = dnsmasqToken('vendor class', model.cluster.vendorClass);
  const out: string[] = headerLines(model, 'dnsmasq').map((l) => `# ${l}`);
  out.push('# Add to dnsmasq.conf (or put in a file under conf-dir). Needs DHCP enabled on the interfaces of these subnets.');
  const leases = model.addresses.length + model.filers.length * model.bootstrapSubnets.length;
  if (leases > DNSMASQ_DEFAULT_LEASE_MAX) {
    out.push(`# This cluster can hold ${leases} leases at once: raise dhcp-lease-max (default ${DNSMASQ_DEFAULT_LEASE_MAX}) above that plus the site's own.`);
  }

  out.push('', `# ---- 1. vendor class of cluster ${model.cluster.name} (dnsmasq matches it as a substring of option 60) ----`);
  out.push(`dhcp-vendorclass=set:${dnsmasqVendorTag(model)},${vendor}`);

  out.push('', '# ---- 2. subnets: reserved addresses only, scope options, the bootstrap range for topology requests ----');
  for (const s of model.subnets) out.push(...subnetLines(model, s));

  out.push('', '# ---- 3. topology requests: client id <cluster ID>:<base MAC> tags the filer; its objects are option 43 sub-options ----');
  for (const f of model.filers) {
    const fit = fits.get(f.filer);
    const tag = filerTag(model, f.filer);
    out.push(`# ${f.filer}: base MAC ${f.baseMac}, ${f.objects.length} objects, ${f.wireSize}${fit ? ` of ${fit.limit}` : ''} bytes`);
    out.push(`dhcp-host=id:${dnsmasqString('identifier', f.topologyKey)},set:${tag}`);
    for (const o of f.objects) out.push(`dhcp-option=tag:${tag},vendor:${vendor},${o.code},${dnsmasqString(`${f.filer} sub-option ${o.code}`, o.text)}`);
  }

  out.push('', '# ---- 4. addresses: one dhcp-host per identifier; the address may be edited here ----');
  for (const g of groupByOwner(model.addresses)) {
    out.push(`# ${describeOwner(model, g.kind, g.owner)}`);
    for (const r of g.entries) out.push(`dhcp-host=id:${dnsmasqString('identifier', r.identifier)},${r.address}`);
  }
  if (model.skipped.length) {
    out.push('', '# ---- not served by dnsmasq here (DHCPv4 only) ----');
    for (const s of model.skipped) out.push(`# ${s.identifier} ${s.address}: ${s.reason}`);
  }
  return `${out.join('\n')}\n`;
}
