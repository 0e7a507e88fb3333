// The rule families, run together. Stack rules judge one filer's stack (and serve the agent on a
// topology decoded from DHCP, via checkStack); cluster rules judge the whole description.
import type { Problem } from '../../errors.js';
import type { ClusterDescription, Stack } from '../schema.js';
import type { ResolvedFiler } from '../normalize.js';
import { bareStackView, formatPath, type Finding, type StackView } from './context.js';
import { buildStackModel, type StackModel } from './stack-model.js';
import { checkStackNames } from './stack-names.js';
import { checkStackReferences } from './stack-references.js';
import { checkCycles } from './stack-cycles.js';
import { checkExclusiveUse } from './stack-exclusive.js';
import { checkBondOptions } from './bond-options.js';
import { checkMtu } from './mtu.js';
import { checkUnused } from './stack-unused.js';
import { buildClusterContext, type ClusterContext } from './cluster-context.js';
import { checkClusterNames } from './cluster-names.js';
import { checkMacs } from './macs.js';
import { checkAddressPlacement } from './addresses.js';
import { checkSubnets } from './subnets.js';
import { checkVservers } from './vservers.js';
import { checkConnectivity } from './connectivity.js';
import { checkPair } from './pair.js';

export type StackRule = (m: StackModel) => Finding[];
export type ClusterRule = (ctx: ClusterContext) => Finding[];

export const STACK_RULES: readonly StackRule[] = [
  checkStackNames,
  checkStackReferences,
  checkCycles,
  checkExclusiveUse,
  checkBondOptions,
  checkMtu,
  checkUnused,
];

export const CLUSTER_RULES: readonly ClusterRule[] = [
  checkClusterNames,
  checkMacs,
  checkAddressPlacement,
  checkSubnets,
  checkVservers,
  checkConnectivity,
  checkPair,
];

export function runStackRules(view: StackView): Finding[] {
  const m = buildStackModel(view);
  return STACK_RULES.flatMap((rule) => rule(m));
}

/**
 * The stack-only rules on a stack without a cluster description, e.g. a topology that arrived over
 * DHCP: names per section, references, loops, exclusive use, bond options, MTU. `nics`: the NICs
 * the stack may use (all eth# names are accepted as NICs without it). Fields are relative to the
 * stack (`bonds.bond0.members[1]`).
 */
export function checkStack(stack: Stack, opts: { nics?: string[] } = {}): Problem[] {
  return runStackRules(bareStackView(stack, opts.nics)).map((f) => ({ field: formatPath(f.path), rule: f.rule, severity: f.severity }));
}

/**
 * Every rule on a normalized description. A problem in a template is found once per filer that
 * uses it; those are merged into one finding naming the filers.
 */
export function checkCluster(description: ClusterDescription, filers: ReadonlyMap<string, ResolvedFiler>): Finding[] {
  const ctx = buildClusterContext(description, filers);
  const out: Finding[] = [];
  const merged = new Map<string, { finding: Finding; filers: string[] }>();
  for (const [name, m] of ctx.models) {
    for (const rule of STACK_RULES) {
      for (const f of rule(m)) {
        if (f.path[0] !== 'templates') {
          out.push(f);
          continue;
        }
        const key = `${f.severity} ${formatPath(f.path)} ${f.rule}`;
        const seen = merged.get(key);
        if (seen) seen.filers.push(name);
        else {
          const entry = { finding: { ...f }, filers: [name] };
          merged.set(key, entry);
          out.push(entry.finding);
        }
      }
    }
  }
  for (const { finding, filers: names } of merged.values()) {
    finding.rule = `${finding.rule} (on ${names.join(', ')}, via template ${String(finding.path[1])})`;
  }
  // Templates no filer uses are still checked on their own (their NICs unknown).
  const used = new Set(Object.values(description.filers).map((f) => f.template));
  for (const [t, stack] of Object.entries(description.templates)) {
    if (used.has(t)) continue;
    const view = bareStackView(stack);
    out.push(...runStackRules({ ...view, at: (s, n) => ['templates', t, ...view.at(s, n)], subject: `template ${t}` }));
  }
  for (const rule of CLUSTER_RULES) out.push(...rule(ctx));
  return out;
}
