// ISC dhcpd 4.4 configuration: the rackstrap option space, the cluster's vendor class, the
// cluster's subnets (scope options and the bootstrap pool), one host per topology key carrying
// that filer's objects, and one host line per identifier with its fixed address. The syntax is
// the one measured to serve option 43 intact (shared/notes/dhcp-servers.md).
import { dhcpdString, safeName } from './quote.js';
import { checkServerLimits, SERVER_LIMITS } from './limits.js';
import { describeOwner, FIRST_CODE, groupByOwner, headerLines, LAST_CODE, optionName, OPTION_SPACE, requireBootstrap, type AddressEntry, type GenModel } from './model.js';
import type { ResolvedSubnet } from '../options/resolve.js';

/** The class filers fall in by their option 60; pools for topology requests allow only it. */
export function dhcpdClassName(model: GenModel): string {
  return `rackstrap-${safeName(model.cluster.name)}`;
}

/** Host names must be unique in dhcpd.conf; the identifier parts make them so, the suffix is a guard. */
class HostNames {
  readonly #used = new Set<string>();
  take(base: string): string {
    let name = safeName(base);
    for (let i = 2; this.#used.has(name.toLowerCase()); i++) name = `${safeName(base)}-${i}`;
    this.#used.add(name.toLowerCase());
    return name;
  }
}

function addressHostName(cluster: string, r: AddressEntry): string {
  switch (r.kind) {
    case 'filer':
      return `${cluster}-${r.alias}-${r.filer}`;
    case 'vserver':
      return `${cluster}-${r.alias}-${r.vserver}-${r.instance}`;
    case 'mysql':
      return `${cluster}-${r.alias}-${r.role}`;
  }
}

function subnetBlock(model: GenModel, s: ResolvedSubnet): string[] {
  const out: string[] = [];
  out.push(`subnet ${s.network} netmask ${s.netmask} {`);
  if (s.routers.length) out.push(`  option routers ${s.routers.join(', ')};`);
  if (s.dns.length) out.push(`  option domain-name-servers ${s.dns.join(', ')};`);
  if (s.ntp.length) out.push(`  option ntp-servers ${s.ntp.join(', ')};`);
  if (s.domain !== undefined) out.push(`  option domain-name ${dhcpdString('domain', s.domain)};`);
  out.push(`  default-lease-time ${s.leaseTime};`, `  max-lease-time ${s.leaseTime};`);
  if (s.bootstrap) {
    out.push(
      `  # Topology requests of cluster ${model.cluster.name}: offered from here, never committed.`,
      '  pool {',
      `    range ${s.bootstrap.start} ${s.bootstrap.end};`,
      `    allow members of ${dhcpdString('class', dhcpdClassName(model))};`,
      '  }',
    );
  }
  out.push('}');
  return out;
}

/** The dhcpd.conf text. Throws TopologyTooBigError when a filer's topology would not arrive intact. */
export function renderDhcpd(model: GenModel): string {
  requireBootstrap(model, 'dhcpd');
  const fits = new Map(checkServerLimits(model, 'dhcpd').map((f) => [f.filer, f]));
  const names = new HostNames();
  const cluster = safeName(model.cluster.name);
  const out: string[] = headerLines(model, 'dhcpd').map((l) => `# ${l}`);
  out.push(
    '# Paste into dhcpd.conf (or `include` this file). If dhcpd.conf already declares one of the subnets',
    '# below, move that subnet\'s contents into the existing declaration instead (dhcpd needs one per subnet).',
  );

  out.push('', '# ---- 1. option space: once per dhcpd, shared by every rackstrap cluster ----');
  out.push(`option space ${OPTION_SPACE} code width 1 length width 1;`);
  for (let code = FIRST_CODE; code <= LAST_CODE; code++) out.push(`option ${OPTION_SPACE}.${optionName(code)} code ${code} = text;`);

  out.push('', `# ---- 2. vendor class of cluster ${model.cluster.name}: its option 43 comes from the ${OPTION_SPACE} space ----`);
  out.push(
    `class ${dhcpdString('class', dhcpdClassName(model))} {`,
    `  match if option vendor-class-identifier = ${dhcpdString('vendor class', model.cluster.vendorClass)};`,
    `  vendor-option-space ${OPTION_SPACE};`,
    '}',
  );

  out.push('', '# ---- 3. subnets: scope options, lease time, the bootstrap pool for topology requests ----');
  for (const s of model.subnets) out.push(`# ${s.prefix}`, ...subnetBlock(model, s));

  out.push('', '# ---- 4. topology requests: one host per filer, client id <cluster ID>:<base MAC> ----');
  out.push(`# The address comes from the bootstrap pool; option 43 carries the filer's interface stack.`);
  for (const f of model.filers) {
    const fit = fits.get(f.filer);
    const size = fit ? `${f.wireSize} of ${fit.limit} bytes dhcpd delivers on ${fit.subnet}` : `${f.wireSize} bytes`;
    out.push(`# ${f.filer}: base MAC ${f.baseMac}, ${f.objects.length} objects, ${size}`);
    out.push(`host ${names.take(`${cluster}-topology-${f.filer}`)} {`);
    out.push(`  option dhcp-client-identifier ${dhcpdString('identifier', f.topologyKey)};`);
    for (const o of f.objects) out.push(`  option ${OPTION_SPACE}.${optionName(o.code)} ${dhcpdString(`${f.filer} sub-option ${o.code}`, o.text)};`);
    out.push('}');
  }

  out.push('', '# ---- 5. addresses: one host per identifier; the address may be edited here ----');
  for (const g of groupByOwner(model.addresses)) {
    out.push(`# ${describeOwner(model, g.kind, g.owner)}`);
    const rows = g.entries.map((r) => [`host ${names.take(addressHostName(cluster, r))}`, `{ option dhcp-client-identifier ${dhcpdString('identifier', r.identifier)};`, r] as const);
    const w1 = Math.max(...rows.map(([h]) => h.length));
    const w2 = Math.max(...rows.map(([, id]) => id.length));
    for (const [host, id, r] of rows) out.push(`${host.padEnd(w1)} ${id.padEnd(w2)} fixed-address ${r.address}; }`);
  }
  if (model.skipped.length) {
    out.push('', '# ---- not served by dhcpd (DHCPv4) ----');
    for (const s of model.skipped) out.push(`# ${s.identifier} ${s.address}: ${s.reason}`);
  }
  out.push('', `# Every topology above was checked against what ${SERVER_LIMITS.dhcpd.label} delivers intact: past that it ${SERVER_LIMITS.dhcpd.option43Failure}.`);
  return `${out.join('\n')}\n`;
}
