// A Kea hot-standby pair in the pair lab's namespaces, for the pair benches: the two files come
// from `rackstrap gen kea --standalone --ha ... --ha-self primary|standby --ha-timing T` on the
// lab's description; the bench then adds only what a site's own Kea file would have: the lab's
// interface (raw sockets, as bench/lib/servers.ts runs Kea), the load's dynamic pool (gen kea
// emits bootstrap ranges and reservations, not the pool), a lease file and pid/lock folders of
// its own, and logging at WARN with the HA hook's state transitions at INFO (no per-packet lines).
// The peers talk over the sync link (10.9.0.1 / 10.9.0.2, port 8001), the clients' relay sends
// to both servers' client-network addresses.

import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_ADDRESS, SYNC_ADDRESS, type PairLab } from '../test/sync/helpers/pair-lab.js';
import { BIN } from '../test/dhcp-server/helpers/serve.js';

export type KeaTiming = 'default' | 'fast';
export type KeaSelf = 'primary' | 'standby';
export const KEA_NODE: Record<KeaSelf, 'a' | 'b'> = { primary: 'a', standby: 'b' };
export const KEA_ADDRESS: Record<KeaSelf, string> = { primary: NODE_ADDRESS.a, standby: NODE_ADDRESS.b };
const URLS = `primary=http://${SYNC_ADDRESS.a}:8001/,standby=http://${SYNC_ADDRESS.b}:8001/`;

function gen(config: string, self: KeaSelf, timing: KeaTiming): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [BIN, 'gen', 'kea', config, '--standalone', '--ha', URLS, '--ha-self', self, '--ha-timing', timing],
      (err, stdout, stderr) => (err ? reject(new Error(`gen kea: ${stderr}`)) : resolve(stdout))));
}

/** Writes the Kea file of `self` into `dir`; returns its path and the HA settings it has. */
export async function keaPairFile(l: PairLab, dir: string, self: KeaSelf, timing: KeaTiming, leaseTimeS = 4000): Promise<{ file: string; ha: Record<string, unknown> }> {
  const doc = JSON.parse(await gen(l.config, self, timing)) as { Dhcp4: Record<string, unknown> };
  const d = doc.Dhcp4;
  d['interfaces-config'] = { interfaces: ['lan0'], 'dhcp-socket-type': 'raw' };
  d['lease-database'] = { type: 'memfile', persist: true, name: join(dir, `kea-leases4-${self}.csv`), 'lfc-interval': 0 };
  const subnets = d.subnet4 as Array<Record<string, unknown>>;
  const lan = subnets.find((s) => s.subnet === '10.3.0.0/16');
  if (!lan) throw new Error('gen kea: the lab description has no 10.3.0.0/16 subnet');
  lan.pools = [{ pool: `${l.pool.start} - ${l.pool.end}` }];
  lan['valid-lifetime'] = leaseTimeS;
  d.loggers = [
    { name: 'kea-dhcp4', output_options: [{ output: 'stdout' }], severity: 'WARN' },
    { name: 'kea-dhcp4.ha-hooks', output_options: [{ output: 'stdout' }], severity: 'INFO' },
  ];
  const hooks = d['hooks-libraries'] as Array<{ library: string; parameters?: { 'high-availability': Array<Record<string, unknown>> } }>;
  const ha = hooks.find((h) => h.library.endsWith('libdhcp_ha.so'))!.parameters!['high-availability'][0]!;
  const file = join(dir, `kea-${self}-${timing}.json`);
  writeFileSync(file, JSON.stringify(doc, null, 2));
  const pick = ['heartbeat-delay', 'max-response-delay', 'max-ack-delay', 'max-unacked-clients'];
  return { file, ha: Object.fromEntries(pick.map((k) => [k, ha[k]])) };
}

/** One kea-dhcp4 of the pair; its HA state transitions as they are logged. */
export class KeaServer {
  readonly out: string[] = [];
  readonly transitions: Array<{ at: number; to: string }> = [];
  readonly exited: Promise<void>;
  #child: ReturnType<PairLab['lab']['spawn']>;
  #partial = '';

  constructor(l: PairLab, readonly self: KeaSelf, file: string, runDir: string) {
    mkdirSync(runDir, { recursive: true });
    const env = { ...process.env, KEA_PIDFILE_DIR: runDir, KEA_LOCKFILE_DIR: runDir } as Record<string, string>;
    this.#child = l.lab.spawn(l.ns[KEA_NODE[self]], 'kea-dhcp4', ['-c', file], { env });
    const take = (b: Buffer): void => {
      this.#partial += b.toString();
      const lines = this.#partial.split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) {
        this.out.push(line);
        if (this.out.length > 400) this.out.shift();
        // HA_STATE_TRANSITION ... server transitions from X to Y state, partner state is Z
        const m = /HA_STATE_TRANSITION.* to ([A-Z-]+) state/.exec(line);
        if (m) this.transitions.push({ at: performance.now(), to: m[1]! });
      }
    };
    this.#child.stdout?.on('data', take);
    this.#child.stderr?.on('data', take);
    this.exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
  }

  get state(): string | undefined {
    return this.transitions[this.transitions.length - 1]?.to;
  }

  kill(): void {
    this.#child.kill('SIGKILL');
  }

  stop(): void {
    this.#child.kill('SIGTERM');
  }

  /** Waits until the last logged state is `state`, reached after `since` (performance.now()). */
  async waitState(state: string, ms: number, since = -Infinity): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      const last = this.transitions[this.transitions.length - 1];
      if (last && last.to === state && last.at > since) return;
      if (Date.now() > deadline) throw new Error(`kea ${this.self}: not ${state} within ${ms} ms (last ${last?.to}):\n${this.out.slice(-15).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
