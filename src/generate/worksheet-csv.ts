// The worksheet as one CSV (RFC 4180: CRLF lines, fields with a comma, quote or line break
// quoted, quotes doubled) for a spreadsheet: a `port` row per NIC with an empty switch_port column
// to fill in, an `identifier` row per DHCP client identifier.
import type { Worksheet } from './worksheet-model.js';

export const CSV_COLUMNS = [
  'filer',
  'section',
  'nic',
  'mac',
  'switch_port',
  'link_aggregation',
  'untagged',
  'native_vlan',
  'first_boot_dhcp',
  'tagged_vlans',
  'mtu',
  'carries',
  'identifier',
  'address',
  'subnet',
  'purpose',
] as const;
type Column = (typeof CSV_COLUMNS)[number];

function field(s: string): string {
  // A leading = + - @ makes spreadsheets evaluate the cell as a formula (CSV injection).
  const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function row(values: Partial<Record<Column, string>>): string {
  return CSV_COLUMNS.map((c) => field(values[c] ?? '')).join(',');
}

export function renderWorksheetCsv(w: Worksheet): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const f of w.filers) {
    for (const p of f.ports) {
      lines.push(
        row({
          filer: f.filer,
          section: 'port',
          nic: p.nic,
          mac: p.mac,
          link_aggregation: p.aggregation,
          untagged: p.untagged.join(' '),
          native_vlan: p.native,
          first_boot_dhcp: f.firstBoot?.nic === p.nic ? 'yes' : '',
          tagged_vlans: p.tagged.join(' '),
          mtu: String(p.mtu),
          carries: p.carries.join('; '),
        }),
      );
    }
    for (const i of f.identifiers) {
      lines.push(row({ filer: f.filer, section: 'identifier', identifier: i.identifier, address: i.address, subnet: i.subnet, purpose: i.purpose }));
    }
  }
  for (const i of w.floating) lines.push(row({ section: 'identifier', identifier: i.identifier, address: i.address, subnet: i.subnet, purpose: i.purpose }));
  return spreadsheetSafe(`${lines.join('\r\n')}\r\n`);
}

/** Punctuation the worksheet's prose uses, in ASCII: spreadsheet programs read a CSV without a
 *  byte-order mark in the local code page, where UTF-8 dashes come out garbled. */
const ASCII_FOR: Readonly<Record<string, string>> = { '\u2013': '-', '\u2014': '-', '\u00b7': '-', '\u2192': '->', '\u2026': '...', '\u2018': "'", '\u2019': "'", '\u201c': '"', '\u201d': '"' };

/** ASCII when the text allows (the usual case); otherwise UTF-8 with a BOM, which they honour. */
export function spreadsheetSafe(text: string): string {
  const folded = text.replace(/[\u2013\u2014\u00b7\u2192\u2026\u2018\u2019\u201c\u201d]/g, (c) => ASCII_FOR[c] ?? c);
  return /^[\x00-\x7f]*$/.test(folded) ? folded : `\ufeff${folded}`;
}
