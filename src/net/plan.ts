// plan(desired, observed, features) -> the steps that turn what the kernel holds into what the
// topology asks, and nothing more. Pure: no kernel access, no clock.
//
// Rules:
//  - What exists and matches is left alone; what rackstrap owns (ownership.ts) and is no longer
//    wanted is removed; what exists, is not rackstrap's and is in the way is a conflict, reported
//    by name (PlanConflictError) — an admin's configuration is never changed.
//  - Every step carries its undo, computed from what was observed, so apply() can return the host
//    to exactly where it was when a later step fails.
//  - Order (seed 000's disable operation, then its enable operation):
//      iptables del, rule del, route del, addr del (on links going away), link release/del (top-down),
//      per link bottom-up: add, mtu, members down and enslaved, up (see the build below),
//      addr add, addr del (the rest),
//      route add, rule add, route flush cache, iptables add.
//    Addresses are added before old ones are deleted so that a device never passes through zero
//    addresses, which would make the kernel flush every route through it.
import { PlanConflictError } from '../errors.js';
import { isAddressable } from '../options/names.js';
import {
  addrAdd,
  addrAddOwned,
  addrDel,
  COUNTING_CHAINS,
  COUNTED_PROTOCOLS,
  counterSpec,
  ipt,
  jumpSpec,
  linkAdd,
  linkDel,
  linkDown,
  linkMaster,
  linkMtu,
  linkNomaster,
  linkRecreate,
  linkSetAlias,
  linkUp,
  promoteSecondaries,
  route,
  routeFlushCache,
  routeOwned,
  rule,
  type Argv,
} from './commands.js';
import { EMPTY_DESIRED, linkFeature, linkRole, naturalCompare, type DesiredLink, type DesiredRoute, type DesiredState } from './desired.js';
import { ALL_FEATURES, FEATURE_FLAG, type Feature, type Features } from './features.js';
import { isOwnedJump, type IptablesRule, type ObservedAddress, type ObservedLink, type ObservedRoute, type ObservedState } from './observe.js';
import { RS_ADDR_METRIC, RS_CHAIN_IN, RS_CHAIN_OUT, RS_LINK_ALIAS_PREFIX, RS_ROUTE_PROTO, RT_TABLE_MAIN } from './ownership.js';

export type StepKind =
  | 'link-add'
  | 'link-mark'
  | 'link-down'
  | 'link-enslave'
  | 'link-release'
  | 'link-mtu'
  | 'link-sysctl'
  | 'link-up'
  | 'link-del'
  | 'addr-add'
  | 'addr-del'
  | 'route-add'
  | 'route-del'
  | 'rule-add'
  | 'rule-del'
  | 'route-flush'
  | 'acct-add'
  | 'acct-del';

export interface Step {
  kind: StepKind;
  /** What the step acts on, for messages: an interface, "10.2.2.1/24 on data0", "table 1 default". */
  target: string;
  /** The switch that governs it; none for physical NICs (brought up, MTU) which every layer needs. */
  feature: Feature | undefined;
  argv: readonly string[];
  /** Commands that reverse this step, in order; empty when there is nothing to reverse. */
  undo: ReadonlyArray<readonly string[]>;
  reason: string;
}

export interface Skip {
  feature: Feature;
  target: string;
  reason: string;
}

export interface Plan {
  steps: Step[];
  /** Work not done because a feature is switched off or unavailable; each says why. */
  skipped: Skip[];
}

type LinkAction = 'physical' | 'external' | 'create' | 'recreate' | 'keep';

/** A new bond's MTU before anything sets it (ether_setup, include/uapi/linux/if_ether.h). */
const ETH_DATA_LEN = 1500;

export interface PlanOptions {
  /**
   * 'links': plan the interface stack only — for the bootstrap's first apply, before DHCP has
   * given the aliases their addresses. Addresses, routes, rules and counters are left as they are,
   * except those on links that must go (removed explicitly, so that undo can restore them).
   */
  scope?: 'all' | 'links';
}

export function plan(desired: DesiredState, observed: ObservedState, features: Features = ALL_FEATURES, opts: PlanOptions = {}): Plan {
  const linksOnly = opts.scope === 'links';
  const conflicts: string[] = [];
  const skipped: Skip[] = [];
  const skip = (feature: Feature, target: string, reason: string) => skipped.push({ feature, target, reason });

  const ph = {
    acctDel: [] as Step[],
    ruleDel: [] as Step[],
    routeDel: [] as Step[],
    addrDelEarly: [] as Step[],
    linkRemove: [] as Step[],
    linkMtuDown: [] as Step[],
    linkBuild: [] as Step[],
    linkUp: [] as Step[],
    addrAdd: [] as Step[],
    addrDelLate: [] as Step[],
    routeAdd: [] as Step[],
    ruleAdd: [] as Step[],
    flush: [] as Step[],
    acctAdd: [] as Step[],
  };
  const step = (
    phase: Step[],
    kind: StepKind,
    target: string,
    feature: Feature | undefined,
    argv: Argv,
    undo: Argv[],
    reason: string,
  ) => phase.push({ kind, target, feature, argv, undo, reason });

  // ---- links: classify -------------------------------------------------------------------------
  const obsLink = new Map(observed.links.map((l) => [l.ifname, l]));
  const desiredLink = new Map(desired.links.map((l) => [l.ifname, l]));
  const action = new Map<string, LinkAction>();
  const recreateWhy = new Map<string, string>();

  for (const d of desired.links) {
    const o = obsLink.get(d.ifname);
    if (d.kind === 'ethernet') {
      if (o === undefined) {
        conflicts.push(`${d.name}: no interface named ${d.ifname} on this host${d.name === d.ifname ? '' : ` (NIC map ${d.name} -> ${d.ifname})`}`);
      }
      action.set(d.ifname, 'physical');
      continue;
    }
    const f = linkFeature(d)!;
    if (!features[f]) {
      skip(f, d.ifname, `${FEATURE_FLAG[f]}: ${d.ifname} is managed outside rackstrap; it is neither created, changed nor removed`);
      if (o === undefined) conflicts.push(`${d.ifname} is part of the topology but missing, and ${FEATURE_FLAG[f]} says it is managed outside rackstrap`);
      action.set(d.ifname, 'external');
      continue;
    }
    if (o === undefined) {
      action.set(d.ifname, 'create');
      continue;
    }
    if (!o.owned) {
      conflicts.push(
        `${d.ifname} exists and was not created by rackstrap (${o.ifalias === undefined ? 'no' : `alias "${o.ifalias}", not a`} "${RS_LINK_ALIAS_PREFIX}" mark); ` +
          `remove or rename it, or pass ${FEATURE_FLAG[f]} to manage it yourself`,
      );
      action.set(d.ifname, 'external');
      continue;
    }
    const mismatch = linkMismatch(d, o);
    const parentAct = d.kind === 'vlan' || d.kind === 'macvlan' ? action.get(d.parent) : undefined;
    if (mismatch !== undefined) {
      action.set(d.ifname, 'recreate');
      recreateWhy.set(d.ifname, mismatch);
    } else if (parentAct === 'recreate') {
      action.set(d.ifname, 'recreate');
      recreateWhy.set(d.ifname, `it sits on ${(d as { parent: string }).parent}, which is recreated`);
    } else {
      action.set(d.ifname, 'keep');
    }
  }

  // ---- links: what goes away --------------------------------------------------------------------
  const removing = new Map<string, string>();
  for (const o of observed.links) {
    if (!o.owned) continue;
    const d = desiredLink.get(o.ifname);
    const f = featureOfMark(o.ifalias);
    if (d === undefined) {
      if (f !== undefined && !features[f]) {
        skip(f, o.ifname, `${FEATURE_FLAG[f]}: rackstrap's ${o.ifname} is no longer in the topology but is left in place`);
        continue;
      }
      removing.set(o.ifname, 'no longer in the topology');
    } else if (action.get(o.ifname) === 'recreate') {
      removing.set(o.ifname, `recreated: ${recreateWhy.get(o.ifname)}`);
    }
  }
  // Stacked links die with their lower device: remove (and rebuild) them explicitly so undo can too.
  for (let changed = true; changed; ) {
    changed = false;
    for (const o of observed.links) {
      if (removing.has(o.ifname) || o.parent === undefined || !removing.has(o.parent)) continue;
      if (!o.owned) {
        conflicts.push(`${o.ifname} (not rackstrap's) sits on ${o.parent}, which rackstrap must remove or recreate`);
        continue;
      }
      removing.set(o.ifname, `it sits on ${o.parent}, which is removed`);
      if (action.get(o.ifname) === 'keep') {
        action.set(o.ifname, 'recreate');
        recreateWhy.set(o.ifname, `it sits on ${o.parent}, which is recreated`);
      }
      changed = true;
    }
  }
  const gone = (dev: string | undefined) => dev !== undefined && removing.has(dev);

  // ---- addresses ---------------------------------------------------------------------------------
  const keptAddr = new Set<ObservedAddress>();
  const refreshDevs = new Set<string>(); // a same-key address replace may leave a device briefly bare
  if (!linksOnly && !features.address && (desired.addresses.length > 0 || observed.addresses.some((a) => a.owned))) {
    skip('address', 'addresses', `${FEATURE_FLAG.address}: ${desired.addresses.length} address(es) are managed outside rackstrap`);
  }
  if (linksOnly) {
    for (const x of observed.addresses) {
      if (x.owned && gone(x.dev)) step(ph.addrDelEarly, 'addr-del', `${x.local}/${x.prefixlen} on ${x.dev}`, 'address', addrDel(x), [addrAdd(x)], `${x.dev} is removed`);
    }
  } else if (features.address) {
    for (const a of desired.addresses) {
      const same = observed.addresses.filter((x) => x.local === a.local);
      const foreign = same.find((x) => !x.owned);
      if (foreign !== undefined) {
        conflicts.push(`${a.local} (for ${a.owner} on ${a.dev}) is already on ${foreign.dev}, not added by rackstrap`);
        continue;
      }
      const here = same.find((x) => x.dev === a.dev && !gone(x.dev));
      const spec = { dev: a.dev, local: a.local, prefixlen: a.prefixlen, broadcast: a.broadcast, noprefixroute: !a.prefixRoute };
      if (here !== undefined && addrMatches(here, spec)) {
        keptAddr.add(here);
        continue;
      }
      if (here !== undefined && here.prefixlen === a.prefixlen) {
        // Same kernel key (local/prefixlen): the old one must go first.
        keptAddr.add(here);
        step(ph.addrDelEarly, 'addr-del', `${here.local}/${here.prefixlen} on ${here.dev}`, 'address', addrDel(here), [addrAdd(here)], `replaced by ${a.local}/${a.prefixlen} with other attributes`);
        refreshDevs.add(a.dev);
      }
      step(ph.addrAdd, 'addr-add', `${a.local}/${a.prefixlen} on ${a.dev}`, 'address', addrAddOwned(spec), [addrDel(spec)], `${a.owner}'s address on ${a.dev}`);
    }
    for (const x of observed.addresses) {
      if (!x.owned || keptAddr.has(x)) continue;
      const early = gone(x.dev);
      step(early ? ph.addrDelEarly : ph.addrDelLate, 'addr-del', `${x.local}/${x.prefixlen} on ${x.dev}`, 'address', addrDel(x), [addrAdd(x)],
        early ? `${x.dev} is removed` : 'no longer wanted here');
    }
  }
  // Foreign addresses would silently vanish with a link rackstrap removes.
  for (const x of observed.addresses) {
    if (!x.owned && gone(x.dev)) conflicts.push(`${x.local}/${x.prefixlen} on ${x.dev} was not added by rackstrap, and ${x.dev} must be removed or recreated`);
  }

  // ---- links: removal steps, top-down -------------------------------------------------------------
  const released = new Set<string>();
  const slavesOf = (master: string) => observed.links.filter((l) => l.master === master);
  const release = (l: ObservedLink, master: string, why: string) => {
    if (released.has(l.ifname)) return;
    released.add(l.ifname);
    step(ph.linkRemove, 'link-release', l.ifname, featureOfMark(obsLink.get(master)?.ifalias), linkNomaster(l.ifname), [linkMaster(l.ifname, master)], why);
  };
  // Members a kept bond no longer wants leave it first, so they can join another.
  for (const d of desired.links) {
    if (d.kind !== 'bond' || action.get(d.ifname) !== 'keep') continue;
    for (const s of slavesOf(d.ifname)) if (!d.members.includes(s.ifname)) release(s, d.ifname, `no longer a member of ${d.ifname}`);
  }
  for (const name of removalOrder(observed.links, removing)) {
    const o = obsLink.get(name)!;
    for (const s of slavesOf(name)) release(s, name, `${name} is removed`);
    if (o.master !== undefined) release(o, o.master, `${name} is removed`);
    const undo = linkRecreate(o);
    if (undo === undefined) {
      conflicts.push(`${name} carries a rackstrap mark but is a ${o.kind ?? 'plain'} link rackstrap cannot rebuild; remove it by hand`);
      continue;
    }
    step(ph.linkRemove, 'link-del', name, featureOfMark(o.ifalias), linkDel(name), undo, removing.get(name)!);
  }

  // ---- links: build, bottom-up ------------------------------------------------------------------
  const activeMember = new Set<string>(); // enslaved by a bond this plan manages: the bond opens it
  const externalMember = new Set<string>();
  for (const d of desired.links) {
    if (d.kind !== 'bond') continue;
    for (const m of d.members) (action.get(d.ifname) === 'external' ? externalMember : activeMember).add(m);
  }
  // The MTU each link ends with: its own, else what a new one inherits (a bond: the Ethernet default
  // the driver starts with; a VLAN or macvlan: its lower device's). Existing links are held to it
  // too, so a live change ends like a fresh build (the kernel lowers uppers with their lower device
  // but never raises them). Lowering goes top-down and raising bottom-up, because an upper device
  // may not exceed its lower one; undo then runs in the safe order as well.
  const effMtu = new Map<string, number | undefined>();
  for (const d of desired.links) {
    const act = action.get(d.ifname);
    const o = obsLink.get(d.ifname);
    let m = d.mtu;
    if (m === undefined) {
      if (d.kind === 'ethernet' || act === 'external') m = o?.mtu;
      else if (d.kind === 'bond') m = ETH_DATA_LEN;
      else m = effMtu.get(d.parent);
    }
    effMtu.set(d.ifname, m);
  }
  // One link at a time, bottom-up, each finished (created, members enslaved, up) before anything
  // stacked on it is touched. The kernel's rules decide this order, for any depth of stack:
  //  - a VLAN cannot be opened while its lower device is down ("Network is down"), and enslaving
  //    opens the new member: so a lower device is up before anything on it is created or enslaved;
  //  - a device cannot be enslaved while up ("Device can not be enslaved while up"), and a lower
  //    device going up opens its VLANs with it: so a VLAN that is to join a bond (fail0 over
  //    bond0.10 and bond1.10) is created only after its lower device is up, and stays down until
  //    the bond takes it; one that existed already is taken down first.
  const upInPlan = new Set<string>();
  const isUpBy = (name: string): boolean => {
    const o = obsLink.get(name);
    const d = desiredLink.get(name);
    if (upInPlan.has(name)) return true;
    // A lower device opened in this plan opens the VLANs already on it.
    if (d?.kind === 'vlan' && upInPlan.has(d.parent)) return true;
    return o !== undefined && o.up && !released.has(name);
  };
  for (const d of desired.links) {
    const act = action.get(d.ifname)!;
    const o = obsLink.get(d.ifname);
    const fresh = act === 'create' || act === 'recreate';
    if (act === 'external' || (act === 'physical' && (o === undefined || externalMember.has(d.ifname)))) continue;
    const mtu = effMtu.get(d.ifname);
    if (fresh && d.kind !== 'ethernet') {
      const role = linkRole(d)!;
      const f = linkFeature(d);
      step(ph.linkBuild, 'link-add', d.ifname, f, linkAdd(d), [linkDel(d.ifname)], act === 'create' ? describeLink(d) : `${describeLink(d)} (recreated: ${recreateWhy.get(d.ifname)})`);
      step(ph.linkBuild, 'link-mark', d.ifname, f, linkSetAlias(d.ifname, role), [], 'mark it as rackstrap\'s');
    } else if (o !== undefined && mtu !== undefined && o.mtu !== mtu && !activeMember.has(d.ifname)) {
      const lower = mtu < o.mtu;
      step(lower ? ph.linkMtuDown : ph.linkBuild, 'link-mtu', d.ifname, linkFeature(d), linkMtu(d.ifname, mtu), [linkMtu(d.ifname, o.mtu)],
        `MTU ${o.mtu} -> ${mtu}${d.mtu === undefined ? ' (inherited)' : ''}`);
    }
    if (d.kind === 'bond') {
      const bondFresh = fresh;
      for (const m of d.members) {
        const mo = obsLink.get(m);
        const mAct = action.get(m);
        const mFresh = mAct === 'create' || mAct === 'recreate';
        if (!bondFresh && !mFresh && !released.has(m) && mo?.master === d.ifname) continue; // already in
        if (mo === undefined && !mFresh) continue; // missing member: reported above
        if (!mFresh && mo !== undefined && mo.master !== undefined && !released.has(m) && mo.master !== d.ifname) {
          conflicts.push(`${m} should join ${d.ifname} but is enslaved to ${mo.master}, which is not rackstrap's`);
          continue;
        }
        if (!mFresh && mo !== undefined && isUpBy(m)) {
          step(ph.linkBuild, 'link-down', m, d.role, linkDown(m), [linkUp(m)], `${m} must be down to join ${d.ifname}`);
        }
        step(ph.linkBuild, 'link-enslave', m, d.role, linkMaster(m, d.ifname), [linkNomaster(m)], `${m} joins ${d.ifname}`);
      }
    }
    if (activeMember.has(d.ifname) || externalMember.has(d.ifname)) continue; // its bond opens it
    if (fresh || !o!.up || released.has(d.ifname)) {
      step(ph.linkBuild, 'link-up', d.ifname, linkFeature(d), linkUp(d.ifname), [linkDown(d.ifname)],
        'bring it up before anything is stacked on it');
      upInPlan.add(d.ifname);
    }
  }
  // Links that will carry addresses get promote_secondaries before any address arrives.
  for (const f of ['alias', 'vlan'] as const) {
    const fresh = desired.links.filter(
      (d) => ['create', 'recreate'].includes(action.get(d.ifname)!) && linkFeature(d) === f && isAddressable(d.name),
    );
    if (fresh.length === 0) continue;
    const names = fresh.map((d) => d.ifname);
    step(ph.linkBuild, 'link-sysctl', names.join(' '), f, promoteSecondaries(names), [], 'one server leaving must not take the others\' addresses in its subnet with it');
  }
  // NICs rackstrap releases and no bond takes back: rackstrap took them down to enslave them.
  for (const name of released) {
    const o = obsLink.get(name)!;
    if (activeMember.has(name) || o.owned || removing.has(name) || !o.up) continue;
    step(ph.linkUp, 'link-up', name, undefined, linkUp(name), [linkDown(name)], 'released from its bond: up again, as before it joined');
  }

  // ---- routes ----------------------------------------------------------------------------------
  const rebuilt = (dev: string | undefined) =>
    dev !== undefined && (gone(dev) || refreshDevs.has(dev) || ['create', 'recreate'].includes(action.get(dev) ?? ''));
  if (!linksOnly && !features.routing && (desired.routes.length + desired.rules.length > 0 || observed.routes.some((r) => r.owned) || observed.rules.some((r) => r.owned))) {
    skip('routing', 'routes and rules', `${FEATURE_FLAG.routing}: ${desired.routes.length} route(s) and ${desired.rules.length} rule(s) are managed outside rackstrap`);
  }
  if (linksOnly) {
    for (const o of observed.routes) {
      if (o.owned && gone(o.dev)) step(ph.routeDel, 'route-del', `table ${tableName(o.table)} ${o.dst} dev ${o.dev}`, 'routing', route('del', o), [route('add', o)], `${o.dev} is removed`);
    }
    ph.routeDel.sort((a, b) => Number(b.argv.includes('via')) - Number(a.argv.includes('via')));
    if (ph.routeDel.length > 0) step(ph.flush, 'route-flush', 'route cache', 'routing', routeFlushCache(), [], 'flush the route cache to commit the changes');
  } else if (features.routing) {
    const keptRoute = new Set<ObservedRoute>();
    const shared = new Map<string, number>();
    for (const r of desired.routes) shared.set(routeSlot(r), (shared.get(routeSlot(r)) ?? 0) + 1);
    for (const r of desired.routes) {
      const target = `table ${tableName(r.table)} ${r.dst} dev ${r.dev}`;
      if (r.prefsrc !== undefined && !features.address && !observed.addresses.some((x) => x.local === r.prefsrc && x.dev === r.dev)) {
        conflicts.push(`${target} needs ${r.prefsrc} on ${r.dev}; addresses are managed outside rackstrap (${FEATURE_FLAG.address}) and it is not there`);
        continue;
      }
      const match = observed.routes.find((o) => o.owned && !keptRoute.has(o) && !rebuilt(o.dev) && routeMatches(o, r));
      if (match !== undefined) {
        keptRoute.add(match);
        continue;
      }
      const clash = observed.routes.find((o) => !o.owned && o.table === r.table && o.dst === r.dst && o.metric === 0 && o.type === 1);
      if (clash !== undefined) {
        conflicts.push(`${target}: table ${tableName(r.table)} already has ${clash.dst}${clash.gateway ? ` via ${clash.gateway}` : ''}${clash.dev ? ` dev ${clash.dev}` : ''} (protocol ${clash.protocol}), not rackstrap's`);
        continue;
      }
      // Two of our routes to one prefix in one table (one subnet on two aliases): the kernel
      // refuses a second `add` (EEXIST) but keeps both on `append`; the first listed is used.
      const verb = (shared.get(routeSlot(r)) ?? 0) > 1 ? 'append' : 'add';
      step(ph.routeAdd, 'route-add', target, 'routing', routeOwned(verb, r), [routeOwned('del', r)], routeReason(r));
    }
    const stale = observed.routes.filter((o) => o.owned && !keptRoute.has(o));
    // Gateway routes go before the connected routes that make their gateway reachable.
    stale.sort((a, b) => Number(b.gateway !== undefined) - Number(a.gateway !== undefined));
    for (const o of stale) {
      step(ph.routeDel, 'route-del', `table ${tableName(o.table)} ${o.dst}${o.dev ? ` dev ${o.dev}` : ''}`, 'routing', route('del', o), [route('add', o)],
        rebuilt(o.dev) ? `${o.dev} is rebuilt` : 'no longer wanted');
    }

    const keptRule = new Set<ObservedState['rules'][number]>();
    for (const r of desired.rules) {
      const match = observed.rules.find((o) => o.owned && !keptRule.has(o) && ruleMatches(o, r));
      if (match !== undefined) {
        keptRule.add(match);
        continue;
      }
      step(ph.ruleAdd, 'rule-add', `from ${r.src} table ${r.table}`, 'routing', rule('add', { ...r, protocol: RS_ROUTE_PROTO }), [rule('del', { ...r, protocol: RS_ROUTE_PROTO })],
        `${r.owner}'s traffic from ${r.src} uses table ${r.table} (realm ${r.realmTo})`);
    }
    for (const o of observed.rules) {
      if (!o.owned || keptRule.has(o)) continue;
      step(ph.ruleDel, 'rule-del', `${o.src ? `from ${o.src}` : 'rule'} table ${o.table ?? '?'}`, 'routing', rule('del', o), [rule('add', o)], 'no longer wanted');
    }
    if (ph.routeAdd.length + ph.routeDel.length + ph.ruleAdd.length + ph.ruleDel.length > 0) {
      step(ph.flush, 'route-flush', 'route cache', 'routing', routeFlushCache(), [], 'flush the route cache to commit the changes');
    }
  }

  // ---- accounting ----------------------------------------------------------------------------------
  if (!linksOnly) planAccounting(desired, observed, features, ph.acctDel, ph.acctAdd, skip);

  if (conflicts.length > 0) throw new PlanConflictError(conflicts);
  const steps = [
    ...ph.acctDel, ...ph.ruleDel, ...ph.routeDel, ...ph.addrDelEarly, ...ph.linkRemove, ...ph.linkMtuDown.reverse(), ...ph.linkBuild, ...ph.linkUp,
    ...ph.addrAdd, ...ph.addrDelLate, ...ph.routeAdd, ...ph.ruleAdd, ...ph.flush, ...ph.acctAdd,
  ];
  return { steps, skipped };
}

/** Removes everything rackstrap owns, in the reverse order of building it (seed 000's disable operation). */
export function planTeardown(observed: ObservedState): Plan {
  return plan(EMPTY_DESIRED, observed, ALL_FEATURES);
}

// ---- accounting -------------------------------------------------------------------------------------

function planAccounting(
  desired: DesiredState,
  observed: ObservedState,
  features: Features,
  del: Step[],
  add: Step[],
  skip: (f: Feature, target: string, reason: string) => void,
) {
  const ipt4 = observed.iptables;
  const ownedRules = ipt4.available ? ipt4.rules.filter((r) => r.chain === RS_CHAIN_IN || r.chain === RS_CHAIN_OUT || isOwnedJump(r)) : [];
  const ownedChains = ipt4.available ? ipt4.chains.filter((c) => c === RS_CHAIN_IN || c === RS_CHAIN_OUT) : [];
  if (!features.accounting) {
    if (desired.counters.length > 0 || ownedChains.length > 0) {
      skip('accounting', 'iptables', `${FEATURE_FLAG.accounting}: per-server packet counters are managed outside rackstrap`);
    }
    return;
  }
  if (!ipt4.available) {
    if (desired.counters.length > 0) {
      skip('accounting', 'iptables', `warning: iptables does not work here (${ipt4.reason}); per-server packet counters are not installed`);
    }
    return;
  }
  const mk = (phase: Step[], argv: Argv, undo: Argv[], target: string, reason: string, kind: StepKind) =>
    phase.push({ kind, target, feature: 'accounting', argv, undo, reason });
  const want = desired.counters.length > 0;
  const wanted: IptablesRule[] = [];
  for (const c of desired.counters) {
    for (const { chain, dir } of COUNTING_CHAINS) {
      wanted.push({ chain, spec: counterSpec(dir, c.address, c.server) });
      for (const proto of COUNTED_PROTOCOLS) wanted.push({ chain, spec: counterSpec(dir, c.address, c.server, proto) });
    }
  }
  const key = (r: IptablesRule) => `${r.chain} ${r.spec.join(' ')}`;
  const have = new Set(ownedRules.map(key));
  const wantKeys = new Set(wanted.map(key));
  for (const r of ownedRules) {
    if (isOwnedJump(r) ? want : wantKeys.has(key(r))) continue;
    const undo = isOwnedJump(r) ? ipt('-I', r.chain, '1', ...r.spec) : ipt('-A', r.chain, ...r.spec);
    mk(del, ipt('-D', r.chain, ...r.spec), [undo], `${r.chain} ${r.spec.join(' ')}`, 'no longer wanted', 'acct-del');
  }
  if (!want) {
    for (const c of ownedChains) mk(del, ipt('-X', c), [ipt('-N', c)], c, 'no virtual server is counted any more', 'acct-del');
    return;
  }
  for (const { chain } of COUNTING_CHAINS) {
    if (!ownedChains.includes(chain)) mk(add, ipt('-N', chain), [ipt('-X', chain)], chain, 'chain for the per-server counters', 'acct-add');
  }
  for (const r of wanted) {
    if (have.has(key(r))) continue;
    const proto = r.spec[2] === '-p' ? ` ${r.spec[3]}` : '';
    mk(add, ipt('-A', r.chain, ...r.spec), [ipt('-D', r.chain, ...r.spec)], `${r.chain} ${r.spec[1]}${proto}`, `count${proto} ${r.chain === RS_CHAIN_IN ? 'input to' : 'output from'} ${r.spec[1]}`, 'acct-add');
  }
  for (const { chain, hook } of COUNTING_CHAINS) {
    const jump: IptablesRule = { chain: hook, spec: jumpSpec(chain) };
    if (have.has(key(jump))) continue;
    // First in the hook so that no earlier ACCEPT hides packets from the counters; the counting
    // rules have no verdict, so filtering is unchanged.
    mk(add, ipt('-I', hook, '1', ...jump.spec), [ipt('-D', hook, ...jump.spec)], `${hook} -> ${chain}`, 'send traffic through the counters', 'acct-add');
  }
}

// ---- helpers ----------------------------------------------------------------------------------

function featureOfMark(ifalias: string | undefined): Feature | undefined {
  if (ifalias === undefined || !ifalias.startsWith(RS_LINK_ALIAS_PREFIX)) return undefined;
  const role = ifalias.slice(RS_LINK_ALIAS_PREFIX.length);
  return role === 'bond' || role === 'failover' || role === 'vlan' ? role : role === 'alias' ? 'alias' : undefined;
}

/** Why an owned link does not match what is desired, or undefined when it does (MTU aside). */
export function linkMismatch(d: DesiredLink, o: ObservedLink): string | undefined {
  switch (d.kind) {
    case 'ethernet':
      return undefined;
    case 'bond': {
      if (o.kind !== 'bond' || o.bond === undefined) return `it is a ${o.kind ?? 'plain'} link, not a bond`;
      const b = o.bond;
      if (b.mode !== d.mode) return `mode ${b.mode}, wanted ${d.mode}`;
      if (b.miimon !== d.miimon) return `miimon ${b.miimon}, wanted ${d.miimon}`;
      if (d.lacpRate !== undefined && b.lacpRate !== d.lacpRate) return `lacp_rate ${b.lacpRate}, wanted ${d.lacpRate}`;
      if (d.hashPolicy !== undefined && b.hashPolicy !== d.hashPolicy) return `xmit_hash_policy ${b.hashPolicy}, wanted ${d.hashPolicy}`;
      if (d.primary !== undefined && b.primary !== d.primary) return `primary ${b.primary ?? 'none'}, wanted ${d.primary}`;
      return undefined;
    }
    case 'vlan':
      if (o.kind !== 'vlan') return `it is a ${o.kind ?? 'plain'} link, not a VLAN`;
      if (o.parent !== d.parent) return `it sits on ${o.parent}, wanted ${d.parent}`;
      if (o.vlanId !== d.vlanId) return `VLAN id ${o.vlanId}, wanted ${d.vlanId}`;
      return undefined;
    case 'macvlan':
      if (o.kind !== 'macvlan') return `it is a ${o.kind ?? 'plain'} link, not a macvlan`;
      if (o.parent !== d.parent) return `it sits on ${o.parent}, wanted ${d.parent}`;
      if (o.macvlanMode !== 'bridge') return `macvlan mode ${o.macvlanMode}, wanted bridge`;
      if (o.mac !== d.mac.toLowerCase()) return `MAC ${o.mac}, wanted ${d.mac}`;
      return undefined;
  }
}

function describeLink(d: Exclude<DesiredLink, { kind: 'ethernet' }>): string {
  switch (d.kind) {
    case 'bond':
      return d.role === 'failover'
        ? `failover group ${d.name}: active-backup over ${d.members.join(', ')}`
        : `bond ${d.name}: ${d.mode} over ${d.members.join(', ')}`;
    case 'vlan':
      return `VLAN ${d.vlanId} on ${d.parent}`;
    case 'macvlan':
      return `alias ${d.name} on ${d.parent}, stable MAC ${d.mac}`;
  }
}

function addrMatches(o: ObservedAddress, a: { prefixlen: number; broadcast?: string | undefined; noprefixroute: boolean }): boolean {
  return o.prefixlen === a.prefixlen && o.broadcast === a.broadcast && o.noprefixroute === a.noprefixroute && o.metric === RS_ADDR_METRIC;
}

function routeMatches(o: ObservedRoute, r: DesiredRoute): boolean {
  return (
    o.type === 1 &&
    o.table === r.table &&
    o.dst === r.dst &&
    o.gateway === r.gateway &&
    o.dev === r.dev &&
    o.prefsrc === r.prefsrc &&
    o.realm === r.realm &&
    o.metric === 0
  );
}

function ruleMatches(o: ObservedState['rules'][number], r: DesiredState['rules'][number]): boolean {
  return (
    o.priority === r.priority &&
    o.src === r.src &&
    o.srclen === r.srclen &&
    o.dst === undefined &&
    o.iif === undefined &&
    o.oif === undefined &&
    o.table === r.table &&
    o.realmFrom === r.realmFrom &&
    o.realmTo === r.realmTo
  );
}

const routeSlot = (r: DesiredRoute) => `${r.table} ${r.dst}`;
const tableName = (t: number) => (t === RT_TABLE_MAIN ? 'main' : String(t));

function routeReason(r: DesiredRoute): string {
  if (r.dst === 'default') return r.table === RT_TABLE_MAIN ? `default route of ${r.owner} via its mgmt router` : `${r.owner}'s default route`;
  return `${r.owner}'s subnet in its table, source ${r.prefsrc}`;
}

/** Deepest first: a link goes before what it sits on and before its bond's members. */
function removalOrder(links: ObservedLink[], removing: Map<string, string>): string[] {
  const byName = new Map(links.map((l) => [l.ifname, l]));
  const level = new Map<string, number>();
  const levelOf = (name: string, seen: Set<string>): number => {
    const cached = level.get(name);
    if (cached !== undefined) return cached;
    if (seen.has(name)) return 0;
    seen.add(name);
    const l = byName.get(name);
    let lv = 0;
    if (l?.parent !== undefined) lv = Math.max(lv, levelOf(l.parent, seen) + 1);
    for (const s of links) if (s.master === name) lv = Math.max(lv, levelOf(s.ifname, seen) + 1);
    level.set(name, lv);
    return lv;
  };
  return [...removing.keys()].sort((a, b) => levelOf(b, new Set()) - levelOf(a, new Set()) || naturalCompare(a, b));
}
