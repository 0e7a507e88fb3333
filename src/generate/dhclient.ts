// dhclient.conf for ISC dhclient as a reference client (shared/notes/dhcp-servers.md): the same
// option space as the servers so its script sees `new_rackstrap_o<code>`, the vendor class, a
// 1500-byte maximum message size (without it dhcpd and dnsmasq cut option 43) and option 43 in the
// parameter request list (servers send it only when asked). One dhclient runs per identifier:
// dhclientIdentifierStatement() is the line that makes it ask as that identifier.
import { dhcpdString } from './quote.js';
import { FIRST_CODE, headerLines, LAST_CODE, optionName, OPTION_SPACE, type GenModel } from './model.js';

/** RFC 2132 §9.10: the largest reply the client accepts; 1500 fits an Ethernet frame. */
export const MAX_MESSAGE_SIZE = 1500;

/** `send dhcp-client-identifier "<id>";`: the identifier as raw text in option 61 (RFC 2132 §9.14). */
export function dhclientIdentifierStatement(identifier: string): string {
  return `send dhcp-client-identifier ${dhcpdString('identifier', identifier)};`;
}

export function renderDhclient(model: GenModel): string {
  const out: string[] = headerLines(model, 'dhclient').map((l) => `# ${l}`);
  out.push('', `# ---- the ${OPTION_SPACE} option space (as on the servers) ----`);
  out.push(`option space ${OPTION_SPACE} code width 1 length width 1;`);
  for (let code = FIRST_CODE; code <= LAST_CODE; code++) out.push(`option ${OPTION_SPACE}.${optionName(code)} code ${code} = text;`);
  out.push(
    '',
    '# ---- what a filer sends ----',
    `send vendor-class-identifier ${dhcpdString('vendor class', model.cluster.vendorClass)};`,
    `send dhcp-max-message-size ${MAX_MESSAGE_SIZE};`,
    'request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers, ntp-servers, vendor-encapsulated-options;',
    `vendor option space ${OPTION_SPACE};`,
    '',
    '# One dhclient per identifier: add the identifier it asks as, e.g. the topology request of',
  );
  const f = model.filers[0];
  if (f) out.push(`# ${f.filer}:`, `#   ${dhclientIdentifierStatement(f.topologyKey)}`);
  const a = model.addresses[0];
  if (a) out.push(`# or the address ${a.address}:`, `#   ${dhclientIdentifierStatement(a.identifier)}`);
  out.push(`# Every identifier with its address is in the worksheet (rackstrap gen worksheet ${model.source}).`);
  return `${out.join('\n')}\n`;
}
