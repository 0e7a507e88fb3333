// Kea 2.x kea-dhcp4 configuration fragment: keys to merge into the site's "Dhcp4" object.
//  - option-def: the rackstrap space, one string option per sub-option code;
//  - client-classes: the cluster's vendor class (option 60 test), which alone may use the bootstrap
//    pools, and one class per filer that redefines option 43 to encapsulate the rackstrap space and
//    carries the filer's objects. Kea allows an option-def in a client class only for option 43,
//    which is exactly this use; a reservation puts the filer's topology key in its class.
//  - subnet4: the cluster's subnets with scope options, the bootstrap pool and the reservations,
//    by client-id: the identifier text as colon hex (Kea 2.2 on Debian has no flex_id hook).
// Plain JSON (no comments): `user-context` keeps the readable identifier next to its hex.
import { formatJson, RawJson, type Json } from './json-text.js';
import { keaClientId, keaText, keaTextEquals, safeName } from './quote.js';
import { checkServerLimits } from './limits.js';
import { GenerateError } from './errors.js';
import { FIRST_CODE, headerLines, LAST_CODE, optionName, OPTION_SPACE, purposeOf, requireBootstrap, type AddressEntry, type GenModel } from './model.js';
import type { ResolvedSubnet } from '../options/resolve.js';
import { parseIp } from '../options/rules/ip.js';

/** RFC 2132 §8.4 option 43; §9.13 option 60 (the vendor class the class test reads). */
const VENDOR_ENCAPSULATED = 43;
const VENDOR_CLASS_ID = 60;

export function keaClassName(model: GenModel): string {
  return `rackstrap-${safeName(model.cluster.name)}`;
}
export function keaFilerClassName(model: GenModel, filer: string): string {
  return `rackstrap-${safeName(model.cluster.name)}-${safeName(filer)}`;
}

/**
 * Subnet id: the network address as a 32-bit number. Stable across regenerations, unique among
 * the cluster's (non-overlapping) subnets, and unlikely to collide with a site's own small ids.
 */
export function keaSubnetId(s: ResolvedSubnet): number {
  const ip = parseIp(s.network);
  if (!ip || ip.family !== 4) throw new GenerateError(`Kea subnet4 needs an IPv4 network, not ${s.network}`);
  return Number(ip.value);
}

function scopeOptionData(s: ResolvedSubnet): Json[] {
  const data: Json[] = [];
  if (s.routers.length) data.push({ name: 'routers', data: s.routers.join(', ') });
  if (s.dns.length) data.push({ name: 'domain-name-servers', data: s.dns.join(', ') });
  if (s.ntp.length) data.push({ name: 'ntp-servers', data: s.ntp.join(', ') });
  if (s.domain !== undefined) data.push({ name: 'domain-name', data: keaText('domain', s.domain) });
  return data;
}

/** The fragment as a JSON value (tests and tools may use it); renderKea prints it. */
export function keaFragment(model: GenModel): { [k: string]: Json } {
  requireBootstrap(model, 'Kea');
  const fits = new Map(checkServerLimits(model, 'kea').map((f) => [f.filer, f]));
  const optionDefs: Json[] = [];
  for (let code = FIRST_CODE; code <= LAST_CODE; code++) optionDefs.push({ space: OPTION_SPACE, name: optionName(code), code, type: 'string' });

  const classes: Json[] = [
    {
      name: keaClassName(model),
      test: keaTextEquals(VENDOR_CLASS_ID, 'vendor class', model.cluster.vendorClass),
      'user-context': { rackstrap: `filers of cluster ${model.cluster.name}: only they are offered the bootstrap pools` },
    },
  ];
  for (const f of model.filers) {
    const fit = fits.get(f.filer);
    classes.push({
      name: keaFilerClassName(model, f.filer),
      'user-context': {
        rackstrap: `topology of ${f.filer} (base MAC ${f.baseMac}): ${f.objects.length} objects, ${f.wireSize}${fit ? ` of ${fit.limit}` : ''} bytes`,
      },
      'option-def': [{ name: 'vendor-encapsulated-options', code: VENDOR_ENCAPSULATED, type: 'empty', encapsulate: OPTION_SPACE }],
      'option-data': [
        { name: 'vendor-encapsulated-options' },
        ...f.objects.map((o): Json => ({ space: OPTION_SPACE, name: optionName(o.code), data: keaText(`${f.filer} sub-option ${o.code}`, o.text) })),
      ],
    });
  }

  const bySubnet = new Map<string, AddressEntry[]>();
  for (const r of model.addresses) {
    const list = bySubnet.get(r.subnet.prefix) ?? [];
    list.push(r);
    bySubnet.set(r.subnet.prefix, list);
  }
  const subnets: Json[] = model.subnets.map((s) => {
    const reservations: Json[] = [];
    if (s.bootstrap) {
      for (const f of model.filers) {
        reservations.push({
          'user-context': { identifier: f.topologyKey, purpose: `topology request of ${f.filer}` },
          'client-id': keaClientId(f.topologyKey),
          'client-classes': [keaFilerClassName(model, f.filer)],
        });
      }
    }
    // One line each, written directly: at 30,000 reservations the generic layout is the cost.
    for (const r of bySubnet.get(s.prefix) ?? []) {
      const context = `{ "identifier": ${JSON.stringify(r.identifier)}, "purpose": ${JSON.stringify(purposeOf(r))} }`;
      reservations.push(new RawJson(`{ "user-context": ${context}, "ip-address": ${JSON.stringify(r.address)}, "client-id": "${keaClientId(r.identifier)}" }`));
    }
    const subnet: { [k: string]: Json } = {
      id: keaSubnetId(s),
      subnet: `${s.network}/${s.prefixLength}`,
      'user-context': { rackstrap: `cluster ${model.cluster.name}: ${s.prefix}` },
      'valid-lifetime': s.leaseTime,
      'option-data': scopeOptionData(s),
    };
    if (s.bootstrap) subnet.pools = [{ pool: `${s.bootstrap.start} - ${s.bootstrap.end}`, 'client-class': keaClassName(model) }];
    subnet.reservations = reservations;
    return subnet;
  });

  return {
    'user-context': {
      rackstrap: [
        ...headerLines(model, 'kea'),
        'Merge into "Dhcp4": append each list to the site\'s own (host-reservation-identifiers must keep client-id);',
        'if the site already declares one of these subnets, move the pool and reservations into it.',
      ],
    },
    'host-reservation-identifiers': ['client-id'],
    'option-def': optionDefs,
    'client-classes': classes,
    subnet4: subnets,
  };
}

/**
 * The fragment's text. Merge each key into the site's "Dhcp4" (append to its lists; if the site
 * already declares one of these subnets, move the pool and reservations into it).
 */
export function renderKea(model: GenModel): string {
  return `${formatJson(keaFragment(model), { width: 400 })}\n`;
}
