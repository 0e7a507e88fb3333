// The worksheet in Markdown: what the network admin needs before the filers arrive (seed 003
// §5.2.6), one section per filer with its ports (switch settings, the port to fill in), its
// identifiers and a Mermaid drawing of its stack (the SVG next to it shows the same).
import type { StackNode, Worksheet, FilerSheet, IdentifierRow } from './worksheet-model.js';
import { svgFileName } from './worksheet-svg.js';

function cell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(head: string[], rows: string[][]): string[] {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
}

const dash = (xs: readonly unknown[]): string => (xs.length ? xs.join(', ') : '—');

function identifierTable(rows: IdentifierRow[]): string[] {
  return table(
    ['DHCP client identifier', 'address', 'subnet', 'purpose'],
    rows.map((r) => [`\`${r.identifier}\``, r.address, r.subnet, r.purpose]),
  );
}

/** Mermaid node id: letters, digits and _ only (a dot would end the id). */
function mermaidId(name: string): string {
  return `n_${name.replace(/[^A-Za-z0-9]/g, '_')}`;
}

function mermaidLabel(n: StackNode): string {
  return [n.name, ...n.detail].map((s) => s.replace(/"/g, '#quot;')).join('<br/>');
}

function mermaid(f: FilerSheet): string[] {
  const out = ['```mermaid', 'graph BT'];
  for (const n of f.nodes) out.push(`  ${mermaidId(n.name)}["${mermaidLabel(n)}"]:::${n.kind}`);
  for (const e of f.edges) out.push(`  ${mermaidId(e.from)} --> ${mermaidId(e.to)}`);
  out.push(
    '  classDef nic fill:#e8eef7,stroke:#4a6fa5',
    '  classDef bond fill:#e6f4ea,stroke:#2e7d32',
    '  classDef failover fill:#fff4e5,stroke:#e08a00',
    '  classDef vlan fill:#f3e8fd,stroke:#7b3fb0',
    '  classDef alias fill:#fde8e8,stroke:#c62828',
    '```',
  );
  return out;
}

function filerSection(f: FilerSheet): string[] {
  const out: string[] = [`## ${f.filer}`, ''];
  out.push(`Base MAC \`${f.baseMac}\` (${f.baseMacFrom})${f.template ? ` · template \`${f.template}\`` : ''} · topology key \`${f.topologyKey}\``, '');
  out.push('### Ports', '');
  out.push(
    ...table(
      ['NIC', 'MAC', 'switch port', 'link aggregation', 'untagged', 'native VLAN', 'tagged VLANs', 'MTU', 'carries'],
      f.ports.map((p) => [
        p.nic,
        p.mac,
        '',
        p.aggregation,
        p.untagged.length ? p.untagged.join(', ') : 'first boot only',
        p.native,
        p.tagged.length ? p.tagged.join(', ') + (p.stacked.length ? ` (stacked tags, outer first: ${p.stacked.join('; ')})` : '') : '—',
        String(p.mtu),
        dash(p.carries),
      ]),
    ),
  );
  if (f.firstBoot !== undefined) {
    out.push('', `**First boot:** ${f.firstBoot.nic} must reach a DHCP server untagged, on ${f.firstBoot.subnet} (${f.firstBoot.why}); the other NICs need not.`);
  }
  out.push('', '### Identifiers', '', ...identifierTable(f.identifiers));
  out.push('', '### Interface stack', '', ...mermaid(f), '', `Drawing: [${svgFileName(f.filer)}](${svgFileName(f.filer)})`);
  return out;
}

export function renderWorksheetMarkdown(w: Worksheet): string {
  const c = w.cluster;
  const out: string[] = [`# Network worksheet: cluster ${c.name}`, ''];
  out.push(`Cluster ID \`${c.id}\` · generation ${c.generation} · vendor class (option 60) \`${c.vendorClass}\` · from \`${w.source}\``, '');
  out.push(
    'Before the filers arrive:',
    '',
    `1. Load the DHCP configuration from \`rackstrap gen dhcpd|kea|dnsmasq ${w.source}\`: it reserves every identifier below.`,
    '2. Cable each NIC, write its switch port in the table, and set the port as listed: LACP groups must be',
    '   configured on the switch first; trunk the tagged VLANs; allow the MTU (plus 4 bytes per tag).',
    '3. At first power-on every NIC asks DHCP for the filer\'s topology **untagged**, before any bond or VLAN exists.',
    '   One answer is enough: the NIC named under "First boot" must reach the DHCP server untagged (its port\'s',
    '   native VLAN, listed) on a subnet with a bootstrap range; let LACP member ports pass traffic before LACP is',
    '   up (LACP fallback / individual mode on the switch). The native VLAN column is derived from the description:',
    '   a subnet\'s ID is known where some port tags it. "first boot only" in the untagged column means the stack',
    '   itself sends nothing untagged there.',
    '',
    '## Subnets',
    '',
    ...table(
      ['subnet', 'routers', 'DNS', 'bootstrap range (topology requests)'],
      w.subnets.map((s) => [s.prefix, dash(s.routers), dash(s.dns), s.bootstrap ?? '—']),
    ),
  );
  for (const f of w.filers) out.push('', ...filerSection(f));
  if (w.floating.length) {
    out.push('', '## Virtual servers and MySQL roles without a home filer', '', 'The HA layer brings these up on a filer that can run them.', '', ...identifierTable(w.floating));
  }
  return `${out.join('\n')}\n`;
}
