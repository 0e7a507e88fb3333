// Drift: how the kernel differs from what rackstrap built, and what the kernel says about the
// health of what it built. Pure: desired + observed in, a report out.
//
// The difference is exactly what plan() would do: plan() already only touches objects that carry
// rackstrap's marks (ownership.ts) and refuses, by name, anything of an admin's that is in the way.
// So a repair is a plan applied through the same transactional apply, and an admin's own address,
// route or rule never appears here. Carrier is different: a NIC that lost its cable is not
// something a command can fix, so it is reported, never "repaired".
import { PlanConflictError } from '../errors.js';
import type { DesiredLink, DesiredState } from './desired.js';
import type { Features } from './features.js';
import type { ObservedLink, ObservedState } from './observe.js';
import { plan, type Step } from './plan.js';

export type DriftPolicy = 'repair' | 'report' | 'off';
export const DRIFT_POLICIES: readonly DriftPolicy[] = ['repair', 'report', 'off'];

export interface DriftItem {
  /** The step that would bring it back (addr-add, link-add, rule-add, ...). */
  kind: string;
  target: string;
  reason: string;
}

export interface LinkHealth {
  /** Kernel interface name. */
  ifname: string;
  /** nic, bond member, bond, vlan, alias. */
  role: string;
  problem: 'no-carrier' | 'down' | 'missing';
  /** Plain words for the log and `show links`. */
  message: string;
}

export interface DriftReport {
  /** What differs from the desired state (and a repair would change). */
  items: DriftItem[];
  /** The plan's steps, ready for apply (empty when in sync or in conflict). */
  steps: Step[];
  /** Objects of someone else's in the way: reported, never touched. */
  conflicts: string[];
  /** Carrier and "every path down" findings: reported, never repaired. */
  health: LinkHealth[];
}

/** Compares the kernel with the desired state. Never throws for a conflict: it is part of the report. */
export function detectDrift(desired: DesiredState, observed: ObservedState, features: Features): DriftReport {
  let steps: Step[] = [];
  let conflicts: string[] = [];
  try {
    steps = plan(desired, observed, features, { scope: 'all' }).steps;
  } catch (err) {
    if (!(err instanceof PlanConflictError)) throw err;
    conflicts = err.conflicts;
  }
  // Flushing the route cache is a consequence of other steps, not a difference of its own.
  const items = steps.filter((s) => s.kind !== 'route-flush').map((s) => ({ kind: s.kind, target: s.target, reason: s.reason }));
  return { items, steps: items.length === 0 ? [] : steps, conflicts, health: linkHealth(desired, observed) };
}

/**
 * Carrier of the NICs and bond members rackstrap uses, and for each alias (the top of a stack),
 * whether any path to the wire is left, with the reason when none is.
 */
export function linkHealth(desired: DesiredState, observed: ObservedState): LinkHealth[] {
  const byName = new Map(observed.links.map((l) => [l.ifname, l]));
  const want = new Map(desired.links.map((l) => [l.ifname, l]));
  const out: LinkHealth[] = [];
  const members = new Set(desired.links.flatMap((l) => (l.kind === 'bond' ? l.members : [])));

  for (const d of desired.links) {
    if (d.kind !== 'ethernet') continue;
    const o = byName.get(d.ifname);
    const role = members.has(d.ifname) ? 'bond member' : 'nic';
    if (o === undefined) out.push({ ifname: d.ifname, role, problem: 'missing', message: `${d.ifname} (${d.name}) is not present on this host` });
    else if (o.carrier === false) {
      const bond = desired.links.find((l) => l.kind === 'bond' && l.members.includes(d.ifname));
      out.push({
        ifname: d.ifname,
        role,
        problem: 'no-carrier',
        message: `${d.ifname} (${d.name}) has no carrier${bond ? ` (member of ${bond.ifname})` : ''}: check its cable and the switch port`,
      });
    }
  }

  // Aliases: what addresses sit on. Every link that nothing else is stacked on.
  const lowers = new Set(desired.links.flatMap((l) => (l.kind === 'vlan' || l.kind === 'macvlan' ? [l.parent] : l.kind === 'bond' ? l.members : [])));
  for (const d of desired.links) {
    if (d.kind === 'ethernet' || lowers.has(d.ifname)) continue;
    const why = pathsDown(d, want, byName);
    if (why !== undefined) out.push({ ifname: d.ifname, role: d.kind === 'macvlan' ? 'alias' : d.kind, problem: 'down', message: `${d.ifname} is down: ${why}` });
  }
  return out;
}

/** Why no path from `d` reaches the wire, or undefined when one does. */
function pathsDown(d: DesiredLink, want: Map<string, DesiredLink>, byName: Map<string, ObservedLink>, depth = 0): string | undefined {
  const o = byName.get(d.ifname);
  if (o === undefined) return `${d.ifname} does not exist`;
  if (!o.up) return `${d.ifname} is administratively down`;
  if (depth > 8) return undefined;
  if (d.kind === 'vlan' || d.kind === 'macvlan') {
    const lower = want.get(d.parent);
    if (lower === undefined) return o.carrier === false ? `${d.parent} has no carrier` : undefined;
    const why = pathsDown(lower, want, byName, depth + 1);
    return why === undefined ? undefined : why;
  }
  if (d.kind === 'bond') {
    const reasons: string[] = [];
    for (const m of d.members) {
      const mo = byName.get(m);
      if (mo === undefined) reasons.push(`${m} is missing`);
      else if (mo.master !== d.ifname) reasons.push(`${m} is not enslaved to ${d.ifname}`);
      else if (mo.carrier === false) reasons.push(`${m} has no carrier`);
      else if (d.mode === '802.3ad' && mo.slave?.adPortState !== undefined && !mo.slave.adPortState.includes('distributing')) reasons.push(`${m} is not distributing (LACP)`);
      else return undefined;
    }
    return `every member of ${d.ifname} is down (${reasons.join(', ') || 'no members'})`;
  }
  return o.carrier === false ? `${d.ifname} has no carrier` : undefined;
}

/** One line per finding, for the log and `show drift`. */
export function describeDrift(r: DriftReport): string[] {
  return [
    ...r.items.map((i) => `${i.kind} ${i.target}: ${i.reason}`),
    ...r.conflicts.map((c) => `conflict: ${c}`),
  ];
}
