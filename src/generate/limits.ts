// What each real DHCP server carries intact in option 43, measured (shared/notes/dhcp-servers.md,
// and the figures below, re-measured for this generator with Debian 12's dhcpd 4.4.3-P1, Kea 2.2.0
// and dnsmasq 2.90, dhclient 4.4.3-P1 sending option 57 = 1500, in network namespaces).
//
// Two limits matter:
//  - one sub-option value: dhcpd silently corrupts a value over 255 bytes (length mod 256, and
//    `dhcpd -t` passes), Kea splits it into repeated codes that clients truncate, dnsmasq refuses
//    a value over 253 at load. The wire format never writes more than 253 (MAX_OBJECT_BYTES).
//  - the whole option 43: it shares the reply with the subnet's options, and each server fails
//    differently when the reply is full: dhcpd drops option 43 entirely with no log, Kea sends no
//    reply at all (EMSGSIZE), dnsmasq cuts option 43 at a sub-option boundary and, since it sends
//    sub-options in reverse order, loses the header.
// So the room for option 43 is the server's measured room for the reply's variable part, minus
// what the subnet's options take there. Measured with two scopes (1 DNS server and an 11-byte
// domain; 3 DNS servers and a 32-byte domain): the largest intact option 43 moved by the size of
// the extra options to within 10 bytes on all three servers, which is what this model predicts.
import type { ResolvedSubnet } from '../options/resolve.js';
import { TopologyTooBigError } from './errors.js';
import type { GenModel } from './model.js';

export type ServerTarget = 'dhcpd' | 'kea' | 'dnsmasq';
export const SERVER_TARGETS: readonly ServerTarget[] = ['dhcpd', 'kea', 'dnsmasq'];

export interface ServerLimits {
  label: string;
  /** Largest sub-option value the server sends intact. */
  maxSubOption: number;
  /** What the server does with a longer one. */
  subOptionFailure: string;
  /** Largest option 43 payload delivered intact with the reference scope (REFERENCE_SCOPE). */
  measuredOption43: number;
  /** Bytes the server adds inside option 43 (dnsmasq appends an end byte). */
  endByte: number;
  /** What the server does when option 43 does not fit the reply. */
  option43Failure: string;
}

export const SERVER_LIMITS: Readonly<Record<ServerTarget, ServerLimits>> = {
  dhcpd: {
    label: 'ISC dhcpd 4.4',
    maxSubOption: 255,
    subOptionFailure: 'corrupts the value silently (its length byte wraps), and dhcpd -t still passes',
    // 1350 delivered (dhcpd moves options into sname/file with option 52), 1360 dropped.
    measuredOption43: 1350,
    endByte: 0,
    option43Failure: 'drops option 43 entirely, without a log line',
  },
  kea: {
    label: 'Kea 2.2 kea-dhcp4',
    maxSubOption: 255,
    subOptionFailure: 'splits the value into repeated sub-options, which clients truncate',
    // 1130 delivered, 1132 gave no reply at all: Kea never overloads and the frame passed 1500.
    measuredOption43: 1130,
    endByte: 0,
    option43Failure: 'sends no reply at all (the reply would not fit a 1500-byte frame)',
  },
  dnsmasq: {
    label: 'dnsmasq 2.90',
    maxSubOption: 253,
    subOptionFailure: 'refuses to load the configuration',
    // 1144 delivered (plus dnsmasq's end byte), 1148 cut to 946 bytes without the header.
    measuredOption43: 1144,
    endByte: 1,
    option43Failure: 'cuts option 43 short and the header is lost',
  },
};

/** The scope the figures above were measured with: the mgmt subnet of examples/cluster.yaml. */
export const REFERENCE_SCOPE = { routers: 1, dns: 1, ntp: 1, domainLength: 'lab.example'.length, identifierLength: 35 } as const;

/**
 * Kept free below the measured room: a relay agent's option 82 (circuit and remote id, echoed by
 * the server, RFC 3046 §2.2) and the options a site adds on its own side take some of the reply.
 */
export const RELAY_MARGIN = 48;

/** RFC 2132 §2: one option is code, length, then at most 255 bytes; RFC 3396 splits longer ones. */
const MAX_OPTION_VALUE = 255;

/** Option 43 payload plus the code/length pair of every instance it is split into (RFC 3396 §6). */
export function option43Footprint(payload: number): number {
  return payload + 2 * Math.max(1, Math.ceil(payload / MAX_OPTION_VALUE));
}

interface ScopeShape {
  routers: number;
  dns: number;
  ntp: number;
  domainLength: number;
  identifierLength: number;
}

/**
 * Bytes of the reply's options that vary with the subnet: routers (3), DNS (6), NTP (42), domain
 * (15) (RFC 2132 §3.5, §3.8, §8.3, §3.17), and the client identifier the servers echo back
 * (RFC 6842). Everything else in the reply is the same for every subnet and is inside the
 * measured figures.
 */
export function scopeOptionBytes(s: ScopeShape): number {
  const list = (n: number): number => (n > 0 ? 2 + 4 * n : 0);
  return list(s.routers) + list(s.dns) + list(s.ntp) + (s.domainLength > 0 ? 2 + s.domainLength : 0) + 2 + s.identifierLength;
}

export function scopeShape(subnet: ResolvedSubnet, identifierLength: number): ScopeShape {
  return {
    routers: subnet.routers.length,
    dns: subnet.dns.length,
    ntp: subnet.ntp.length,
    domainLength: subnet.domain?.length ?? 0,
    identifierLength,
  };
}

/** The room a server has for option 43 plus the subnet-dependent options, derived from its measurement. */
function replyRoom(l: ServerLimits): number {
  return option43Footprint(l.measuredOption43 + l.endByte) + scopeOptionBytes(REFERENCE_SCOPE);
}

/**
 * Largest option 43 payload (topologyWireSize) this server delivers intact in an offer on
 * `subnet` to a client sending option 57 = 1500 and an identifier of `identifierLength` bytes,
 * with RELAY_MARGIN kept free.
 */
export function option43Limit(server: ServerTarget, subnet: ResolvedSubnet, identifierLength: number): number {
  const l = SERVER_LIMITS[server];
  const room = replyRoom(l) - RELAY_MARGIN - scopeOptionBytes(scopeShape(subnet, identifierLength));
  let payload = room;
  while (payload > 0 && option43Footprint(payload + l.endByte) > room) payload--;
  return payload;
}

/** Per filer: its topology's size and the smallest limit over the subnets that answer it. */
export interface TopologyFit {
  filer: string;
  size: number;
  limit: number;
  subnet: string;
}

/**
 * Checks every filer's topology against `server` on every bootstrap subnet (a filer's NICs may
 * first reach any of them). Throws TopologyTooBigError for the first filer that would not arrive
 * intact; returns each filer's size and tightest limit for the generated comments.
 */
export function checkServerLimits(model: GenModel, server: ServerTarget): TopologyFit[] {
  const l = SERVER_LIMITS[server];
  const fits: TopologyFit[] = [];
  for (const f of model.filers) {
    for (const o of f.objects) {
      if (o.text.length > l.maxSubOption) {
        throw new TopologyTooBigError(l.label, f.filer, o.text.length, l.maxSubOption, `sub-option ${o.code}`, l.subOptionFailure);
      }
    }
    let tightest: TopologyFit | undefined;
    for (const s of model.bootstrapSubnets) {
      const limit = option43Limit(server, s, f.topologyKey.length);
      if (f.wireSize > limit) throw new TopologyTooBigError(l.label, f.filer, f.wireSize, limit, s.prefix, l.option43Failure);
      if (!tightest || limit < tightest.limit) tightest = { filer: f.filer, size: f.wireSize, limit, subnet: s.prefix };
    }
    if (tightest) fits.push(tightest);
  }
  return fits;
}
