// The two settings whose defaults come from the host: the NIC map (every kernel link named eth<N>,
// as itself) and the base MAC: the permanent MAC of the lowest-numbered eth#, the MAC on the
// filer's label and the one the cluster description defaults a filer's base MAC to (its eth0's,
// options/normalize.ts baseMacOf). The permanent MAC, because a NIC enslaved to a bond carries the
// bond's MAC: the kernel's permanent address when it has one, else the one the bonding driver
// kept for a member (a veth has no permanent address of its own).
import { z } from 'zod';
import { RackstrapError } from '../errors.js';
import { naturalCompare } from '../net/desired.js';
import type { Runner } from '../net/runner.js';
import { parseInterfaceName } from '../options/names.js';

export const LINK_LIST_COMMAND = ['ip', '-j', '-d', 'link', 'show'] as const;

const IpLink = z.object({
  ifname: z.string(),
  address: z.string().optional(),
  /** iproute2 prints it when the current MAC differs from the permanent one (bond members). */
  permaddr: z.string().optional(),
  link_type: z.string().optional(),
  flags: z.array(z.string()).optional(),
  /** -d: a bond member's own MAC, kept by the bonding driver while the member carries the bond's. */
  linkinfo: z.object({ info_slave_data: z.object({ perm_hwaddr: z.string().optional() }).optional() }).optional(),
});
export type HostLink = { ifname: string; mac: string | undefined; up: boolean };

export class NicDiscoveryError extends RackstrapError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RS_NICS', message, options);
  }
}

/** Every link of the host with its permanent MAC (upper-case colon form). */
export async function listHostLinks(runner: Runner): Promise<HostLink[]> {
  const r = await runner.run(LINK_LIST_COMMAND);
  if (r.exitCode !== 0) throw new NicDiscoveryError(`${LINK_LIST_COMMAND.join(' ')} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  let raw: unknown;
  try {
    raw = JSON.parse(r.stdout);
  } catch (cause) {
    throw new NicDiscoveryError(`${LINK_LIST_COMMAND.join(' ')} printed no JSON`, { cause });
  }
  const parsed = z.array(IpLink).safeParse(raw);
  if (!parsed.success) throw new NicDiscoveryError(`${LINK_LIST_COMMAND.join(' ')}: unexpected output: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data.map((l) => {
    const mac = l.permaddr ?? l.linkinfo?.info_slave_data?.perm_hwaddr ?? (l.link_type === 'ether' || l.link_type === undefined ? l.address : undefined);
    return { ifname: l.ifname, mac: mac?.toUpperCase(), up: l.flags?.includes('UP') ?? false };
  });
}

/** Default NIC map: each kernel link named eth<N> stands for itself. */
export function defaultNicMap(links: readonly HostLink[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of [...links].sort((a, b) => naturalCompare(a.ifname, b.ifname))) {
    const r = parseInterfaceName(l.ifname);
    if (r.ok && r.value.kind === 'ethernet' && r.value.name === l.ifname) out[l.ifname] = l.ifname;
  }
  return out;
}

/** The permanent MAC of the lowest-numbered eth# of the map, or why there is none. */
export function defaultBaseMac(nics: Readonly<Record<string, string>>, links: readonly HostLink[]): { mac: string } | { why: string } {
  const first = Object.keys(nics).sort(naturalCompare)[0];
  if (first === undefined) return { why: 'no NIC named eth<N> on this host and no NIC map' };
  const kernel = nics[first]!;
  const mac = links.find((l) => l.ifname === kernel)?.mac;
  if (mac === undefined) return { why: `${first} (${kernel}) has no Ethernet MAC on this host` };
  return { mac };
}

export interface NicIdentity {
  nics: Record<string, string>;
  baseMac: string;
  /** Where each came from, for the start-up log. */
  derived: { nics: boolean; baseMac: boolean };
}

/** The NIC map and base MAC to use: configured ones, else the host's defaults. */
export async function resolveNicIdentity(
  configured: { nics?: Record<string, string> | undefined; baseMac?: string | undefined },
  runner: Runner,
): Promise<NicIdentity> {
  if (configured.nics !== undefined && Object.keys(configured.nics).length > 0 && configured.baseMac !== undefined) {
    return { nics: configured.nics, baseMac: configured.baseMac, derived: { nics: false, baseMac: false } };
  }
  const links = await listHostLinks(runner);
  const nics = configured.nics !== undefined && Object.keys(configured.nics).length > 0 ? configured.nics : defaultNicMap(links);
  if (Object.keys(nics).length === 0) {
    throw new NicDiscoveryError('no NIC named eth<N> on this host: give the NIC map (nics in agent.yaml, RACKSTRAP_NICS or --nic eth0=<kernel name>)');
  }
  let baseMac = configured.baseMac;
  if (baseMac === undefined) {
    const found = defaultBaseMac(nics, links);
    if ('why' in found) throw new NicDiscoveryError(`cannot derive the base MAC: ${found.why}; set baseMac (agent.yaml, RACKSTRAP_BASE_MAC or --base-mac)`);
    baseMac = found.mac;
  }
  return { nics, baseMac, derived: { nics: configured.nics === undefined || Object.keys(configured.nics).length === 0, baseMac: configured.baseMac === undefined } };
}
