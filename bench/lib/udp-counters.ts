// Kernel UDP counters of a namespace (/proc/net/snmp, "Udp:" lines). Read before and after each
// load: receive-buffer errors on the *client* side mean perfdhcp itself lost answers, so the drops
// of that run are partly the load generator's, not the server's.
import { execFileSync } from 'node:child_process';

export interface UdpCounters {
  InDatagrams: number;
  NoPorts: number;
  InErrors: number;
  OutDatagrams: number;
  RcvbufErrors: number;
  SndbufErrors: number;
}

const FIELDS: Array<keyof UdpCounters> = ['InDatagrams', 'NoPorts', 'InErrors', 'OutDatagrams', 'RcvbufErrors', 'SndbufErrors'];

/** Parses /proc/net/snmp text: the first "Udp:" line names the columns, the second holds values. */
export function parseUdpCounters(snmp: string): UdpCounters | null {
  const lines = snmp.split('\n').filter((l) => l.startsWith('Udp: '));
  const names = lines[0]?.split(/\s+/).slice(1);
  const values = lines[1]?.split(/\s+/).slice(1).map(Number);
  if (!names || !values) return null;
  const out = {} as UdpCounters;
  for (const field of FIELDS) {
    const i = names.indexOf(field);
    const v = values[i];
    if (i < 0 || v === undefined || !Number.isFinite(v)) return null;
    out[field] = v;
  }
  return out;
}

export function readUdpCounters(netns: string): UdpCounters | null {
  try {
    return parseUdpCounters(execFileSync('ip', ['netns', 'exec', netns, 'cat', '/proc/net/snmp'], { encoding: 'utf8' }));
  } catch {
    return null;
  }
}

export function diffUdpCounters(before: UdpCounters | null, after: UdpCounters | null): UdpCounters | null {
  if (!before || !after) return null;
  const out = {} as UdpCounters;
  for (const field of FIELDS) out[field] = after[field] - before[field];
  return out;
}
