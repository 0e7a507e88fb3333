// What the cluster-wide rules see: the normalized description, each filer's resolved stack and its
// graph, and where each virtual server can run. Built once, shared by every rule.
import type { ClusterDescription } from '../schema.js';
import type { ResolvedFiler } from '../normalize.js';
import type { Path, StackView } from './context.js';
import { buildStackModel, type StackModel } from './stack-model.js';
import { placeVservers, type Placement } from './placement.js';

export interface ClusterContext {
  description: ClusterDescription;
  filers: ReadonlyMap<string, ResolvedFiler>;
  models: ReadonlyMap<string, StackModel>;
  placement: ReadonlyMap<string, Placement>;
}

/** A filer's stack as the stack rules see it: entries located where they were written. */
export function filerStackView(f: ResolvedFiler): StackView {
  return {
    stack: f.stack,
    nics: new Set(Object.keys(f.nics)),
    at: (section, name): Path => f.origins[section][name] ?? ['filers', f.name, 'stack', section, name],
    atNic: (name) => ['filers', f.name, 'nics', name],
    subject: 'this filer',
  };
}

export function buildClusterContext(description: ClusterDescription, filers: ReadonlyMap<string, ResolvedFiler>): ClusterContext {
  const models = new Map<string, StackModel>();
  for (const [name, f] of filers) models.set(name, buildStackModel(filerStackView(f)));
  return { description, filers, models, placement: placeVservers(description, filers) };
}
