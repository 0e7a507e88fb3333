// Plain-text views of the control replies for `rackstrap show` (pure; `--json` prints the reply
// itself). Columns are padded to the widest cell so the output reads in a terminal and diffs well.
import type { DriftState } from '../bootstrap/drift-state.js';
import type { Counter, ProtocolStats, ReplyOf } from './protocol.js';

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const count = (c: { packets: number; bytes: number } | null) => (c === null ? '-' : `${c.packets}/${c.bytes}`);

export function renderLinks(r: ReplyOf<'links'>): string {
  const rows = r.links.map((l) => [
    l.ifname,
    l.kind,
    l.role,
    l.up ? 'up' : 'down',
    l.carrier === null ? '?' : l.carrier ? 'yes' : 'NO',
    l.master ?? '-',
    String(l.mtu),
    count(l.rx),
    count(l.tx),
    l.lacp === null ? '' : l.lacp.join(','),
  ]);
  const out = [table(['LINK', 'KIND', 'ROLE', 'STATE', 'CARRIER', 'MASTER', 'MTU', 'RX pkts/bytes', 'TX pkts/bytes', 'LACP'], rows)];
  if (r.health.length > 0) out.push('', 'Link health:', ...r.health.map((h) => `  ${h.message}`));
  if (r.switchProblems.length > 0) out.push('', 'Switch configuration problems:', ...r.switchProblems.flatMap((p) => [`  ${p.message}`, `    likely fix: ${p.fix}`]));
  if (r.health.length === 0 && r.switchProblems.length === 0) out.push('', 'No carrier or switch problems seen.');
  return out.join('\n');
}

export function renderLeases(r: ReplyOf<'leases'>): string {
  if (r.leases.length === 0) return 'No leases.';
  return table(
    ['IDENTIFIER', 'KIND', 'ALIAS', 'ADDRESS', 'STATE', 'EXPIRES', 'SERVER'],
    r.leases.map((l) => [l.identifier, l.kind, l.alias, l.address ?? '-', l.state, l.expiresAt ?? '-', l.serverId ?? '-']),
  );
}

export function renderCache(r: ReplyOf<'cache'>): string {
  return r.generation === null ? `No cache in ${r.dir}.` : `Cache in ${r.dir}: generation ${r.generation}, written ${r.writtenAt ?? 'at an unknown time'}.`;
}

export function renderFeatures(r: ReplyOf<'features'>): string {
  return table(['FEATURE', 'STATE', 'SWITCH'], r.features.map((f) => [f.name, f.on ? 'on' : 'OFF', f.flag]));
}

export function renderStats(r: ReplyOf<'stats'>): string {
  const out = [`Counters since ${r.since} (epoch ${r.epoch}); per server from ${r.source}.`];
  if (r.note !== null) out.push(`Per-server counters unavailable: ${r.note}`);
  if (r.servers.length > 0) {
    const rows: string[][] = [];
    // TCP/UDP/ICMP columns: in/out packets (an older agent does not send them: '-').
    const proto = (p: ProtocolStats | undefined, k: keyof ProtocolStats) => (p === undefined ? '-' : `${p[k].in.packets}/${p[k].out.packets}`);
    const row = (name: string, address: string, x: { in: Counter; out: Counter; protocols?: ProtocolStats | undefined }) => [
      name, address, count(x.in), count(x.out), proto(x.protocols, 'tcp'), proto(x.protocols, 'udp'), proto(x.protocols, 'icmp'),
    ];
    for (const s of r.servers) {
      rows.push(row(s.server, '(all)', s));
      for (const a of s.addresses) rows.push(row('', a.address, a));
    }
    out.push('', table(['SERVER', 'ADDRESS', 'IN pkts/bytes', 'OUT pkts/bytes', 'TCP in/out', 'UDP in/out', 'ICMP in/out'], rows));
  } else if (r.note === null) out.push('', 'No virtual-server addresses are counted.');
  if (r.devices.length > 0) {
    out.push(
      '',
      table(
        ['DEVICE', 'RX pkts/bytes', 'TX pkts/bytes', 'RX err/drop', 'TX err/drop'],
        r.devices.map((d) => [d.ifname, count(d.rx), count(d.tx), `${d.rxErrors}/${d.rxDropped}`, `${d.txErrors}/${d.txDropped}`]),
      ),
    );
  }
  return out.join('\n');
}

export function renderDrift(d: DriftState): string {
  const out = [
    `Policy ${d.policy}: ${d.checks} check(s)${d.lastCheckAt === null ? '' : `, last ${d.lastCheckAt} (${d.lastTrigger ?? '?'})`}; ${d.repairs} repair(s)${d.lastRepair === null ? '' : `, last ${d.lastRepair.at}: ${d.lastRepair.what.join('; ')}`}.`,
  ];
  if (d.items.length === 0 && d.conflicts.length === 0) out.push('The host matches what rackstrap built.');
  else {
    out.push(d.policy === 'repair' ? 'Differences (not yet repaired):' : 'Differences (reported only, nothing changed):');
    out.push(...d.items.map((i) => `  ${i.kind} ${i.target}: ${i.reason}`));
    out.push(...d.conflicts.map((c) => `  conflict (someone else's object in the way, left alone): ${c}`));
  }
  if (d.health.length > 0) out.push('Link health:', ...d.health.map((h) => `  ${h.message}`));
  if (d.lastError !== null) out.push(`Last error: ${d.lastError}`);
  return out.join('\n');
}

export function renderInfo(i: ReplyOf<'info'>): string {
  return [
    `rackstrap agent ${i.agentVersion} (pid ${i.pid}, control protocol ${i.protocol}), running since ${i.startedAt}`,
    `mode ${i.mode}; ${i.filer === null ? 'no configuration in place' : `${i.filer} generation ${i.generation} from ${i.source === 'dhcp' ? 'DHCP' : 'the cache'}`}`,
    `reconcile ${i.reconcile}: ${i.drift.checks} check(s), ${i.drift.repairs} repair(s), ${i.drift.differences} difference(s), ${i.drift.conflicts} conflict(s), ${i.drift.health} link problem(s)`,
    i.watch === null ? 'kernel watch off' : `kernel watch: ${i.watch.events} event(s) in ${i.watch.batches} batch(es), ${i.watch.overflows} overflow(s), ${i.watch.resyncs} full re-read(s)`,
    `last change: ${i.lastApply === null ? 'none' : `${i.lastApply.at}, ${i.lastApply.steps} step(s), ${i.lastApply.what}`}`,
    `last error: ${i.lastError === null ? 'none' : `${i.lastError.at} ${i.lastError.message}`}`,
  ].join('\n');
}
