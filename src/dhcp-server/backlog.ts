// Overload control. When requests arrive faster than the server answers them, they queue in the
// sockets' receive buffers, every answer comes later, clients (and perfdhcp) give up waiting, and
// the server ends up spending its time on requests nobody waits for any more: throughput
// collapses. The server counts what waits (each socket's receive queue as the kernel tells it,
// SO_MEMINFO, plus the requests it has read but not answered yet) at every batch it reads, and
// sheds new exchanges (DISCOVERs, which clients retransmit: RFC 2131 §4.1) while that backlog is
// high, and keeps finishing the ones under way (REQUESTs). Pure decision here; readUdpBacklog
// reads the kernel's part from /proc/net/udp for tools and tests.

import { readFileSync } from 'node:fs';

/**
 * Queued bytes (kernel accounting, ~1 KB per small datagram) above which DISCOVERs are shed: about
 * 3,000 requests, a few hundred ms of work. A short stall (GC, a busy machine) stays well under it
 * and is simply caught up; only a backlog that would make answers later than clients (and
 * perfdhcp, 1 s) wait sheds anything.
 */
export const SHED_ABOVE_BYTES = 3 * 1024 * 1024;
/** …until the backlog is back under this (hysteresis, so shedding does not flap). */
export const SHED_UNTIL_BYTES = 1024 * 1024;

/** Sum of rx_queue of the UDP sockets bound to local `port`, from /proc/net/udp text (proc(5)). */
export function udpBacklogBytes(procText: string, port: number): number {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let total = 0;
  for (const line of procText.split('\n')) {
    const f = line.trim().split(/\s+/);
    // f[1] local_address "0100007F:0043", f[4] "tx_queue:rx_queue" in hex
    if (!f[1]?.endsWith(hexPort)) continue;
    const rx = f[4]?.split(':')[1];
    if (rx !== undefined) total += parseInt(rx, 16) || 0;
  }
  return total;
}

/** Reads this network namespace's UDP table; 0 when it cannot (then nothing is shed). */
export function readUdpBacklog(port: number): number {
  try {
    return udpBacklogBytes(readFileSync('/proc/net/udp', 'latin1'), port);
  } catch {
    return 0;
  }
}

/** Shedding state with hysteresis: on above SHED_ABOVE_BYTES, off again under SHED_UNTIL_BYTES. */
export function nextShedding(shedding: boolean, backlogBytes: number): boolean {
  return shedding ? backlogBytes > SHED_UNTIL_BYTES : backlogBytes > SHED_ABOVE_BYTES;
}
