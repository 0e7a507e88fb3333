// The embedded DHCP server (`rackstrap serve`) in the lab's server namespace, on the trunk and
// every VLAN sub-interface the lab gave it.
import type { LabPlan } from './lab-plan.js';
import { spawnRackstrap, type Child } from './child.js';

export interface ServerReady {
  child: Child;
  /** The server's own "ready" record (generation, reservations, interfaces, startMs). */
  ready: Record<string, unknown>;
  /** From spawn to "ready", ms. */
  readyMs: number;
}

const isEvent = (event: string) => (line: string) => {
  try {
    return (JSON.parse(line) as { event?: unknown }).event === event;
  } catch {
    return false;
  }
};

export async function startServer(lab: LabPlan, configFile: string, leaseFile: string, timeoutMs = 120_000): Promise<ServerReady> {
  const args = ['serve', configFile, ...lab.serverInterfaces.flatMap((i) => ['--interface', i.ifname]), '--lease-file', leaseFile, '--log-format', 'json'];
  const child = spawnRackstrap('rackstrap serve', lab.serverNetns, args);
  try {
    const { line, at } = await child.waitLine(isEvent('ready'), timeoutMs, 'ready line');
    return { child, ready: JSON.parse(line) as Record<string, unknown>, readyMs: at - child.startedAt };
  } catch (err) {
    await child.stop(1000);
    throw err;
  }
}

/** The server's exchange records so far (one JSON object per answered or ignored request). */
export function exchanges(child: Child): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const l of child.lines) {
    try {
      const r = JSON.parse(l) as Record<string, unknown>;
      if (r.event === 'exchange') out.push(r);
    } catch {
      // not a JSON line
    }
  }
  return out;
}
