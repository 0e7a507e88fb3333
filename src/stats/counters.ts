// Per-virtual-server and per-device counters, read from the kernel.
//
// Per server and per address: the counting rules rackstrap already keeps (per address, in
// RACKSTRAP-IN matched on destination and in RACKSTRAP-OUT matched on source, commented with the
// server's name: one rule for the total and one each for TCP, UDP and ICMP), read with
// `iptables -v -S` (packets and bytes of every rule). They count what the filer receives and sends
// for each address exactly, locally generated traffic included; what is neither TCP, UDP nor ICMP
// (say GRE or SCTP) is in the total only. Four rules per address and direction keep the chain
// linear in the number of addresses (an nftables map would make it constant; iptables-nft is
// what the plan and its rollback already speak).
// Realms (`/proc/net/rt_acct`) were the other choice and are not used for counting: they classify
// by route lookup, so a reply sent from a virtual server's address is counted under whatever realm
// the route it leaves by carries, and locally generated traffic has been miscounted that way for
// years. Per device: `ip -s -j link` (the kernel's stats64).
import type { Runner } from '../net/runner.js';

export interface Counter {
  packets: number;
  bytes: number;
}

export interface AddressCounter {
  server: string;
  address: string;
  dir: 'in' | 'out';
  /** The protocol this rule counts on its own; undefined for the address's total. */
  proto?: 'tcp' | 'udp' | 'icmp';
  packets: number;
  bytes: number;
}

export interface DeviceCounter {
  ifname: string;
  rx: Counter;
  tx: Counter;
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
}

const COUNTER_RULE = /^-A (RACKSTRAP-IN|RACKSTRAP-OUT) (-d|-s) (\d+\.\d+\.\d+\.\d+)\/32 (?:-p (tcp|udp|icmp) )?-m comment --comment "?vs\.([^"\s]+)"? -c (\d+) (\d+)$/;

/** `iptables -w -v -S` → one counter per rackstrap counting rule. Other rules are ignored. */
export function parseIptablesCounters(stdout: string): AddressCounter[] {
  const out: AddressCounter[] = [];
  for (const line of stdout.split('\n')) {
    const m = COUNTER_RULE.exec(line.trim());
    if (m === null) continue;
    const proto = m[4] as AddressCounter['proto'];
    out.push({ server: m[5]!, address: m[3]!, dir: m[1] === 'RACKSTRAP-IN' ? 'in' : 'out', ...(proto === undefined ? {} : { proto }), packets: Number(m[6]), bytes: Number(m[7]) });
  }
  return out;
}

/** `ip -s -j link` → per-device counters. */
export function parseDeviceStats(json: unknown): DeviceCounter[] {
  if (!Array.isArray(json)) return [];
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return json.flatMap((l: { ifname?: unknown; stats64?: { rx?: Record<string, unknown>; tx?: Record<string, unknown> } }) => {
    if (typeof l?.ifname !== 'string' || l.stats64 === undefined) return [];
    const rx = l.stats64.rx ?? {};
    const tx = l.stats64.tx ?? {};
    return [
      {
        ifname: l.ifname,
        rx: { packets: n(rx.packets), bytes: n(rx.bytes) },
        tx: { packets: n(tx.packets), bytes: n(tx.bytes) },
        rxErrors: n(rx.errors),
        txErrors: n(tx.errors),
        rxDropped: n(rx.dropped),
        txDropped: n(tx.dropped),
      },
    ];
  });
}

export interface KernelCounters {
  addresses: AddressCounter[];
  devices: DeviceCounter[];
  /** Why the per-address counters could not be read, when they could not. */
  note: string | null;
}

export async function readKernelCounters(runner: Runner): Promise<KernelCounters> {
  const [ipt, link] = await Promise.all([runner.run(['iptables', '-w', '-v', '-S']), runner.run(['ip', '-s', '-j', 'link', 'show'])]);
  let devices: DeviceCounter[] = [];
  if (link.exitCode === 0) {
    try {
      devices = parseDeviceStats(JSON.parse(link.stdout));
    } catch {
      devices = [];
    }
  }
  if (ipt.exitCode !== 0) return { addresses: [], devices, note: `iptables cannot be read: ${ipt.stderr.trim().split('\n')[0] || `exit ${ipt.exitCode}`}` };
  return { addresses: parseIptablesCounters(ipt.stdout), devices, note: null };
}
