// What the agent knows about drift (checks, findings, repairs), as the status file and the control
// socket carry it. Apart from drift-check.ts so that readers of the status (`rackstrap status`,
// `show`) load the schema without the planner that checks and repairs.
import { z } from 'zod';
import type { DriftPolicy } from '../net/drift.js';

const Instant = z.iso.datetime({ offset: true });

export const DriftState = z.object({
  policy: z.enum(['repair', 'report', 'off']),
  /** Comparisons made since the agent started. */
  checks: z.int(),
  lastCheckAt: Instant.nullable(),
  /** What asked for the last check: kernel event, resync reason, timer, command. */
  lastTrigger: z.string().nullable(),
  /** Differences found by the last check (before its repair). */
  items: z.array(z.object({ kind: z.string(), target: z.string(), reason: z.string() })),
  conflicts: z.array(z.string()),
  health: z.array(z.object({ ifname: z.string(), role: z.string(), problem: z.string(), message: z.string() })),
  /** Repairs done since the agent started, and the last one. */
  repairs: z.int(),
  lastRepair: z.object({ at: Instant, steps: z.int(), what: z.array(z.string()) }).nullable(),
  lastError: z.string().nullable(),
});
export type DriftState = z.infer<typeof DriftState>;

export function initialDriftState(policy: DriftPolicy): DriftState {
  return { policy, checks: 0, lastCheckAt: null, lastTrigger: null, items: [], conflicts: [], health: [], repairs: 0, lastRepair: null, lastError: null };
}

