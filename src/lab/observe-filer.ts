// Reading a filer back from its kernel: the addresses only (cheap, polled while an agent works),
// or everything `ip -j -d` says (for the tree, the results and the e2e test).
import type { Runner } from '../net/runner.js';
import { OBSERVE_COMMANDS, observeRaw, parseObservation, type ObservedState, type RawObservation } from '../net/observe.js';
import type { ExpectedFiler } from './expect.js';

export interface Snapshot {
  raw: RawObservation;
  state: ObservedState;
}

export async function snapshot(runner: Runner): Promise<Snapshot> {
  const raw = await observeRaw(runner);
  return { raw, state: parseObservation(raw) };
}

/** `dev a.b.c.d/len` of every IPv4 address, from one `ip -j addr`. */
export async function addressSet(runner: Runner): Promise<Set<string>> {
  const r = await runner.run(['ip', '-4', '-j', 'addr', 'show']);
  if (r.exitCode !== 0) return new Set();
  const links = JSON.parse(r.stdout) as Array<{ ifname: string; addr_info?: Array<{ local?: string; prefixlen?: number }> }>;
  return new Set(links.flatMap((l) => (l.addr_info ?? []).map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`)));
}

export interface WaitResult {
  /** performance.now() when the last expected address was seen, or undefined on timeout. */
  at: number | undefined;
  /** What was still missing at the end. */
  missing: string[];
  /** How many times the kernel was read (1: everything was there at once). */
  polls: number;
}

/**
 * Polls until every expected address is on its interface (and, with `absent`, these are gone).
 * `pollMs` is small: the poll is one `ip` run, and it bounds how precise the timing is.
 */
export async function waitAddressed(
  runner: Runner,
  expected: ExpectedFiler,
  opts: { timeoutMs: number; pollMs?: number; absent?: string[]; stop?: () => boolean },
): Promise<WaitResult> {
  const deadline = performance.now() + opts.timeoutMs;
  const want = expected.addresses.map((a) => `${a.dev} ${a.address}`);
  let missing = want;
  for (let polls = 1; ; polls++) {
    const have = await addressSet(runner);
    const now = performance.now();
    missing = [...want.filter((w) => !have.has(w)), ...(opts.absent ?? []).filter((a) => [...have].some((h) => h.endsWith(` ${a}`))).map((a) => `(still has ${a})`)];
    if (missing.length === 0) return { at: now, missing, polls };
    if (now > deadline || opts.stop?.()) return { at: undefined, missing, polls };
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 25));
  }
}

/** Waits until every 802.3ad bond member is distributing (LACP converged); ms waited, or undefined (timeout, or no 802.3ad bond). */
export async function waitLacp(runner: Runner, timeoutMs: number): Promise<number | undefined> {
  const t0 = performance.now();
  for (;;) {
    // One `ip -d link` per look: the agents may still be working on the same (single) CPU.
    const r = await runner.run(OBSERVE_COMMANDS.link);
    const links = r.exitCode === 0 ? parseObservation({ link: JSON.parse(r.stdout) as unknown, addr: [], route: [], rule: [], iptables: { ok: false, reason: 'not read' } }).links : [];
    const members = links.filter((l) => l.master !== undefined && links.find((b) => b.ifname === l.master)?.bond?.mode === '802.3ad');
    if (members.length === 0) return undefined;
    if (members.every((m) => m.slave?.adPortState?.includes('distributing'))) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) return undefined;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What must be the same in two runs of one filer: links, and rackstrap's addresses, routes and rules. */
export function comparable(s: ObservedState) {
  return {
    links: s.links
      .filter((l) => l.owned || l.master !== undefined)
      .map((l) => ({ ifname: l.ifname, kind: l.kind, master: l.master, parent: l.parent, mtu: l.mtu, mac: l.mac, vlanId: l.vlanId, bond: l.bond, up: l.up }))
      .sort((a, b) => a.ifname.localeCompare(b.ifname)),
    addresses: s.addresses.filter((a) => a.owned).map((a) => `${a.dev} ${a.local}/${a.prefixlen}`).sort(),
    routes: s.routes.filter((r) => r.owned).map((r) => `${r.table} ${r.dst} ${r.gateway ?? '-'} ${r.dev ?? '-'} ${r.prefsrc ?? '-'} ${r.realm ?? '-'}`).sort(),
    rules: s.rules.filter((r) => r.owned).map((r) => `${r.priority} ${r.src ?? 'all'} ${r.table ?? '-'} ${r.realmFrom ?? '-'}/${r.realmTo ?? '-'}`).sort(),
  };
}
