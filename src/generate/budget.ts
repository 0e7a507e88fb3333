// The option 43 budget of a description: each filer's topology size against the room each DHCP
// server has for it on the subnets that answer topology requests. For dhcpd, Kea and dnsmasq the
// room is the measured figure `gen` uses (limits.ts); for `rackstrap serve` it is computed with
// the project's own codec: the largest option 43 that fits, with the options serve puts in a
// topology OFFER, in a 1500-byte datagram (the agent's option 57, and the link MTU), overloading
// sname/file as serve does. validate warns when a target would not deliver a topology, and it is
// an error when serve would not; explain prints the table. Pure.
import { OP } from '../dhcp-packet/constants.js';
import { createMessage, encodeMessage } from '../dhcp-packet/message.js';
import { OPTION, type AnyOptionValue } from '../dhcp-packet/option-table.js';
import type { Problem } from '../errors.js';
import type { LoadedCluster } from '../options/load.js';
import type { ResolvedSubnet } from '../options/resolve.js';
import { buildGenModel } from './model.js';
import { option43Limit, SERVER_LIMITS, SERVER_TARGETS, type ServerTarget } from './limits.js';

export type BudgetTarget = ServerTarget | 'serve';
export const BUDGET_TARGETS: readonly BudgetTarget[] = ['serve', ...SERVER_TARGETS];

/** What the agent sends as option 57 (dhcp-client/messages.ts), and the Ethernet MTU. */
export const SERVE_MAX_MESSAGE = 1500;

export interface TargetFit {
  target: BudgetTarget;
  label: string;
  /** Largest option 43 payload delivered intact, on the tightest bootstrap subnet. */
  limit: number;
  subnet: string;
}

export interface FilerBudget {
  filer: string;
  /** Bytes of option 43 the filer's topology takes. */
  size: number;
  fits: TargetFit[];
}

/**
 * The largest option 43 payload `rackstrap serve` sends intact in a topology OFFER on `subnet`:
 * the reply respond.ts builds (type, server id, lease and T1/T2, mask, broadcast, routers, DNS,
 * domain, NTP, the echoed vendor class and client identifier), encoded by the codec with
 * maxSize 1500. Binary search over the payload size.
 */
export function serveOption43Limit(subnet: ResolvedSubnet, vendorClass: string, identifierLength: number): number {
  const fits = (n: number): boolean => {
    const msg = createMessage({
      op: OP.BOOTREPLY,
      xid: 1,
      type: 2, // OFFER
      yiaddr: subnet.network,
      options: replyOptions(subnet, vendorClass, identifierLength, n),
    });
    try {
      encodeMessage(msg, { maxSize: SERVE_MAX_MESSAGE });
      return true;
    } catch {
      return false;
    }
  };
  let lo = 0;
  let hi = SERVE_MAX_MESSAGE;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

type OptionPair = readonly [number, AnyOptionValue];

function replyOptions(subnet: ResolvedSubnet, vendorClass: string, identifierLength: number, option43: number): OptionPair[] {
  const v4 = (list: string[]) => list.filter((a) => !a.includes(':'));
  const out: OptionPair[] = [
    [OPTION.SERVER_ID, subnet.network],
    [OPTION.LEASE_TIME, subnet.leaseTime],
    [OPTION.RENEWAL_TIME, Math.floor(subnet.leaseTime / 2)],
    [OPTION.REBINDING_TIME, Math.floor((subnet.leaseTime * 7) / 8)],
    [OPTION.SUBNET_MASK, subnet.netmask ?? '255.255.255.0'],
    [OPTION.BROADCAST_ADDRESS, subnet.network],
  ];
  if (subnet.routers.length) out.push([OPTION.ROUTERS, v4(subnet.routers)]);
  if (v4(subnet.dns).length) out.push([OPTION.DNS_SERVERS, v4(subnet.dns)]);
  if (subnet.domain !== undefined) out.push([OPTION.DOMAIN_NAME, subnet.domain]);
  if (v4(subnet.ntp).length) out.push([OPTION.NTP_SERVERS, v4(subnet.ntp)]);
  out.push([OPTION.VENDOR_CLASS, vendorClass], [OPTION.VENDOR_SPECIFIC, Buffer.alloc(option43, 0x41)], [OPTION.CLIENT_ID, Buffer.alloc(identifierLength + 1, 0x41)]);
  return out;
}

/** Every filer's topology size and, per target, the tightest limit over the bootstrap subnets. */
export function topologyBudget(loaded: LoadedCluster, opts: { key?: Buffer } = {}): FilerBudget[] {
  // With the cluster's key the topology carries its signature and address tags: count them.
  const model = buildGenModel(loaded, opts.key === undefined ? {} : { key: opts.key });
  const out: FilerBudget[] = [];
  for (const f of model.filers) {
    const fits: TargetFit[] = [];
    for (const target of BUDGET_TARGETS) {
      let tightest: TargetFit | undefined;
      for (const s of model.bootstrapSubnets) {
        const limit = target === 'serve' ? serveOption43Limit(s, model.cluster.vendorClass, f.topologyKey.length) : option43Limit(target, s, f.topologyKey.length);
        if (tightest === undefined || limit < tightest.limit) tightest = { target, label: target === 'serve' ? 'rackstrap serve' : SERVER_LIMITS[target].label, limit, subnet: s.prefix };
      }
      if (tightest) fits.push(tightest);
    }
    out.push({ filer: f.filer, size: f.wireSize, fits });
  }
  return out;
}

/**
 * validate's findings: a warning per filer and target whose topology would not arrive intact, an
 * error when `rackstrap serve` (the project's own server) could not deliver it.
 */
export function budgetProblems(budgets: FilerBudget[]): Problem[] {
  const out: Problem[] = [];
  for (const b of budgets) {
    for (const f of b.fits) {
      if (b.size <= f.limit) continue;
      const what = `${b.filer}'s topology is ${b.size} bytes of option 43, over the ${f.limit} bytes ${f.label} delivers intact on ${f.subnet}`;
      const fix = 'bring up fewer virtual servers or MySQL roles there at bootstrap (home), use shorter names, or fewer DHCP options on that subnet';
      out.push({
        field: `filers.${b.filer}`,
        rule: f.target === 'serve' ? `${what}: rackstrap serve cannot answer its topology request; ${fix}` : `${what} (gen ${f.target} refuses it); ${fix}`,
        severity: f.target === 'serve' ? 'error' : 'warning',
      });
    }
  }
  return out;
}
