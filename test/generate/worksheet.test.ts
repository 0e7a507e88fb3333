// The worksheet: switch settings per NIC derived from the stack, identifiers per filer, and the
// three renderings (Markdown with Mermaid, CSV, SVG) agreeing with them.
import t from 'tap';
import { join } from 'node:path';
import { loadClusterFile, loadClusterText } from '../../src/options/load.js';
import { buildGenModel } from '../../src/generate/model.js';
import { buildWorksheet } from '../../src/generate/worksheet-model.js';
import { renderWorksheetMarkdown } from '../../src/generate/worksheet-md.js';
import { CSV_COLUMNS, renderWorksheetCsv } from '../../src/generate/worksheet-csv.js';
import { renderFilerSvg, svgFileName } from '../../src/generate/worksheet-svg.js';

const example = async () => buildWorksheet(buildGenModel(await loadClusterFile(join(process.cwd(), 'examples/cluster.yaml'))));

t.test('ports of the example: LACP groups, failover pairs, VLAN trunks, MTU', async (t) => {
  const w = await example();
  const [f1, f2] = w.filers;
  t.same(f1!.ports.map((p) => [p.nic, p.mac, p.aggregation, p.untagged, p.tagged, p.mtu, p.carries]), [
    ['eth0', '00:07:34:10:00:01', 'LACP (802.3ad) group bond0: eth0 + eth1, rate fast', [], [10, 20], 9000, ['data0 (VLAN 10)', 'data1 (VLAN 20)']],
    ['eth1', '00:07:34:10:00:02', 'LACP (802.3ad) group bond0: eth0 + eth1, rate fast', [], [10, 20], 9000, ['data0 (VLAN 10)', 'data1 (VLAN 20)']],
    ['eth2', '00:07:34:10:00:03', 'none: failover fail0 with eth3; configure those ports the same', ['mgmt0'], [30, 40], 1500, ['mgmt0 (untagged)', 'mgmt1 (VLAN 30)', 'san0 (VLAN 40)']],
    ['eth3', '00:07:34:10:00:04', 'none: failover fail0 with eth2; configure those ports the same', ['mgmt0'], [30, 40], 1500, ['mgmt0 (untagged)', 'mgmt1 (VLAN 30)', 'san0 (VLAN 40)']],
  ]);
  const eth4 = f2!.ports.find((p) => p.nic === 'eth4')!;
  t.same([eth4.aggregation, eth4.untagged, eth4.tagged, eth4.mtu], ['LACP (802.3ad) group bond1: eth4 + eth5, rate fast', ['data2'], [], 1500]);
});

t.test('identifiers: topology key, own addresses, and those homed on the filer', async (t) => {
  const w = await example();
  const f1 = w.filers[0]!;
  t.same(f1.identifiers[0], {
    identifier: '00:07:34:04:12:0E:00:07:34:10:00:01',
    address: 'offer from 10.1.1.200–10.1.1.215 (10.1.1.0/24)',
    subnet: '',
    purpose: 'topology request of Filer1 (option 43)',
  });
  t.same(f1.identifiers.slice(1).map((r) => `${r.identifier.slice(18)} ${r.address}`), [
    'mgmt0:Filer1 10.1.1.2',
    'mgmt1:Filer1 10.1.1.3',
    'san0:Filer1 10.2.2.2',
    'data0:VsvrA:0 10.2.2.1',
    'data0:VsvrA:1 10.3.3.1',
    'data1:VsvrA:0 10.2.2.3',
    'mgmt0:MySQLMgmtNode 10.1.1.10',
    'mgmt1:MySQLMgmtNode 10.1.1.11',
    'mgmt0:MySQLDataNode1 10.1.1.12',
    'mgmt1:MySQLDataNode1 10.1.1.13',
    'mgmt0:MySQLAppNode1 10.1.1.16',
    'mgmt1:MySQLAppNode1 10.1.1.17',
  ]);
  t.equal(w.filers.reduce((n, f) => n + f.identifiers.length, 0) + w.floating.length, 25, 'every identifier once');
  t.same(w.floating, []);
});

t.test('stacked VLANs, an alias VLAN, a static LAG, an unused NIC, a server without a home', async (t) => {
  const text = `
cluster: { name: nest, id: "00:07:34:04:12:0F", generation: 3 }
scope:
  subnets:
    - { prefix: 10.1.1.0/24, bootstrap: { start: 10.1.1.200, end: 10.1.1.210 } }
    - { prefix: 10.2.0.0/16 }
filers:
  F1:
    baseMac: "00:07:34:30:00:00"
    nics: { eth0: "00:07:34:30:00:01", eth1: "00:07:34:30:00:02", eth2: "00:07:34:30:00:03", eth3: "00:07:34:30:00:04" }
    stack:
      bonds: { bond0: { mode: balance-xor, members: [eth0, eth1] } }
      vlans: [bond0.10, bond0.10.20, data0.5]
      aliases: { mgmt0: eth2, data0: bond0.10.20 }
      mtu: { bond0: 9000, data0.5: 1400 }
    addresses: { mgmt0: 10.1.1.2 }
vservers:
  V1: { table: 1, home: F1, addresses: { data0.5: { 0: 10.2.0.1 } } }
  V2: { table: 2, addresses: { data0.5: { 0: 10.2.0.2 } } }
`;
  const w = buildWorksheet(buildGenModel(loadClusterText(text, 'nest.yaml')));
  const ports = w.filers[0]!.ports;
  t.same(ports[0], {
    nic: 'eth0',
    mac: '00:07:34:30:00:01',
    aggregation: 'static link aggregation, no LACP (bond0 balance-xor): eth0 + eth1',
    untagged: [],
    native: 'none needed',
    tagged: [10],
    stacked: ['10 > 20 > 5'],
    mtu: 9000,
    carries: ['data0.5 (VLANs 10 > 20 > 5, outer first)'],
  });
  t.same([ports[2]!.aggregation, ports[2]!.untagged], ['none', ['mgmt0']]);
  t.same([ports[3]!.aggregation, ports[3]!.carries], ['not used by the stack', []]);
  t.same(w.floating.map((r) => r.identifier), ['00:07:34:04:12:0F:data0.5:V2:0']);
  const md = renderWorksheetMarkdown(w);
  t.match(md, '| 10 (stacked tags, outer first: 10 > 20 > 5) | 9000 |');
  t.match(md, '## Virtual servers and MySQL roles without a home filer');
  // The drawing: data0.5 sits on data0 sits on bond0.10.20 sits on bond0.10 sits on bond0.
  const nodes = new Map(w.filers[0]!.nodes.map((n) => [n.name, n.level]));
  t.same([...nodes.entries()].filter(([, l]) => l > 0).sort((a, b) => a[1] - b[1]), [
    ['bond0', 1],
    ['bond0.10', 2],
    ['bond0.10.20', 3],
    ['data0', 4],
    ['data0.5', 5],
    ['mgmt0', 5],
  ]);
});

t.test('markdown: a table per filer, the Mermaid drawing, a link to the SVG', async (t) => {
  const md = renderWorksheetMarkdown(await example());
  t.match(md, /^# Network worksheet: cluster lab\n/);
  t.match(md, '| eth0 | 00:07:34:10:00:01 |  | LACP (802.3ad) group bond0: eth0 + eth1, rate fast | first boot only | none needed | 10, 20 | 9000 | data0 (VLAN 10), data1 (VLAN 20) |');
  t.match(md, '```mermaid\ngraph BT\n');
  t.match(md, '  n_bond0_10["bond0.10<br/>VLAN 10"]:::vlan\n');
  t.match(md, '  n_bond0 --> n_bond0_10\n');
  t.match(md, `[${svgFileName('Filer2')}](${svgFileName('Filer2')})`);
  t.equal(md.match(/^## Filer\d$/gm)?.length, 2);
});

/** RFC 4180 reader, enough for our own output. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      (row = []), (cell = ''), i++;
    } else cell += c;
  }
  return rows;
}

t.test('CSV: header, a port row per NIC with an empty switch port, an identifier row per identifier', async (t) => {
  const csv = renderWorksheetCsv(await example());
  t.ok(csv.endsWith('\r\n'));
  const rows = parseCsv(csv);
  t.same(rows[0], [...CSV_COLUMNS]);
  t.ok(rows.every((r) => r.length === CSV_COLUMNS.length), 'every row has every column');
  const ports = rows.filter((r) => r[1] === 'port');
  t.equal(ports.length, 10);
  t.same(ports[0], ['Filer1', 'port', 'eth0', '00:07:34:10:00:01', '', 'LACP (802.3ad) group bond0: eth0 + eth1, rate fast', '', 'none needed', '', '10 20', '9000', 'data0 (VLAN 10); data1 (VLAN 20)', '', '', '', '']);
  t.equal(rows.filter((r) => r[1] === 'identifier').length, 25);
  t.match(csv, /^[\x00-\x7f]*$/, 'ASCII only: spreadsheet programs open it without garbling (the ranges had an en dash)');
});

t.test('CSV text that cannot be ASCII gets a byte-order mark', async (t) => {
  const { spreadsheetSafe } = await import('../../src/generate/worksheet-csv.js');
  t.equal(spreadsheetSafe('10.1.1.200\u201310.1.1.215\r\n'), '10.1.1.200-10.1.1.215\r\n');
  t.equal(spreadsheetSafe('Z\u00fcrich\r\n'), '\ufeffZ\u00fcrich\r\n');
});

t.test('SVG: one per filer, well formed, every interface drawn, text escaped', async (t) => {
  const w = await example();
  for (const f of w.filers) {
    const svg = renderFilerSvg(w, f);
    t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+(\.\d)?" height="\d+(\.\d)?"/);
    t.ok(svg.trimEnd().endsWith('</svg>'));
    t.equal((svg.match(/<g[ >]/g) ?? []).length, (svg.match(/<\/g>/g) ?? []).length, 'groups balanced');
    t.equal((svg.match(/<text /g) ?? []).length, (svg.match(/<\/text>/g) ?? []).length, 'texts balanced');
    t.notMatch(svg.replace(/&(amp|lt|gt|quot|#39);/g, ''), /&/, 'no raw ampersand');
    for (const n of f.nodes) t.match(svg, `>${n.name}</text>`, `${f.filer}: ${n.name} drawn`);
    t.equal((svg.match(/switch port: _+/g) ?? []).length, f.ports.length, 'a switch port blank per NIC');
    t.equal((svg.match(/<path /g) ?? []).length, f.edges.length, 'a line per edge');
  }
});

t.test('native VLANs and the first-boot NIC, derived from the description', async (t) => {
  const w = await example();
  const [f1, f2] = w.filers;
  const native = (f: typeof f1, nic: string) => f!.ports.find((p) => p.nic === nic)!.native;
  // data2 (untagged on Filer2's bond1) is on 10.3.0.0/16, which VsvrA's data0 address reaches on
  // bond0.10: the switch knows that subnet as VLAN 10, so bond1's ports need it native.
  t.equal(native(f2, 'eth4'), 'VLAN 10 (10.3.0.0/16)');
  t.equal(native(f2, 'eth5'), 'VLAN 10 (10.3.0.0/16)');
  // mgmt0 (untagged) and mgmt1 (VLAN 30) share 10.1.1.0/24: the native VLAN cannot be 30 there.
  t.equal(native(f1, 'eth2'), 'a VLAN of 10.1.1.0/24 other than 30 (tagged on this port too)');
  t.equal(native(f1, 'eth0'), 'none needed', 'bond0 sends nothing untagged, and first boot goes through eth2');
  t.same(f1!.firstBoot, { nic: 'eth2', subnet: '10.1.1.0/24', why: 'it carries mgmt0, on 10.1.1.0/24, which holds a bootstrap range' });
  t.match(renderWorksheetMarkdown(w), '**First boot:** eth2 must reach a DHCP server untagged, on 10.1.1.0/24');
  const csv = renderWorksheetCsv(w).split('\r\n').filter((l) => l.includes(',port,'));
  t.same(csv.filter((l) => l.includes(',yes,')).map((l) => l.split(',').slice(0, 3).join(',')), ['Filer1,port,eth2', 'Filer2,port,eth2'], 'one first-boot NIC per filer');

  // mgmt only tagged: the first-boot NIC's port needs the management VLAN native at first boot.
  const text = `
cluster: { name: tagged, id: "00:07:34:04:12:0F", generation: 1 }
scope:
  subnets:
    - { prefix: 10.1.1.0/24, bootstrap: { start: 10.1.1.200, end: 10.1.1.210 } }
filers:
  F1:
    baseMac: "00:07:34:30:00:01"
    nics: { eth0: "00:07:34:30:00:01", eth1: "00:07:34:30:00:02" }
    stack:
      vlans: [eth1.7]
      aliases: { mgmt0: eth1.7 }
    addresses: { mgmt0: 10.1.1.2 }
`;
  const t2 = buildWorksheet(buildGenModel(loadClusterText(text, 'tagged.yaml')));
  t.same(t2.filers[0]!.firstBoot?.nic, 'eth1', 'the NIC under mgmt0, not the base MAC\'s eth0');
  t.same(t2.filers[0]!.ports.map((p) => [p.nic, p.native]), [['eth0', 'none needed'], ['eth1', 'VLAN 7 (10.1.1.0/24), at first boot']]);
});
