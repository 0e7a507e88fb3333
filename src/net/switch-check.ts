// Switch configuration mistakes, told from what the kernel already knows (no access to the switch):
// the bonding driver's per-member LACP view (/proc/net/bonding/<bond>), carrier, speed and duplex,
// and the receive counters of VLAN devices. Pure parsers and checks; each finding names the likely
// fix for whoever runs the switch.
//
//   lacp-no-partner   an 802.3ad member with carrier hears no LACPDU (partner MAC all zeros): the
//                     switch port is not in an LACP group
//   lacp-split        members of one bond see different partner systems, or one system under keys
//                     their speeds do not explain: cabled to two LAGs
//   not-distributing  a member with carrier and a partner stays out of distributing (at another
//                     speed than the distributing members: LACP keys ports by speed)
//   speed-mismatch    members of one bond at different speeds or duplex
//   vlan-silent       a VLAN that has received nothing while a sibling on the same lower device has
import type { ObservedState } from './observe.js';

/** A device's receive count (from `ip -s -j link`). */
export interface DeviceRx {
  ifname: string;
  rx: { packets: number };
}

export interface SwitchProblem {
  kind: 'lacp-no-partner' | 'lacp-split' | 'not-distributing' | 'speed-mismatch' | 'vlan-silent';
  ifname: string;
  message: string;
  fix: string;
}

export interface BondMember {
  ifname: string;
  miiStatus?: string;
  /** Mb/s; undefined when the driver says "Unknown". */
  speed?: number;
  duplex?: string;
  aggregatorId?: number;
  /** LACP actor port state bits (IEEE 802.1AX: 0x20 distributing). */
  actorState?: number;
  partnerMac?: string;
  partnerKey?: number;
}

export interface BondInfo {
  mode: string;
  members: BondMember[];
}

const ZERO_MAC = '00:00:00:00:00:00';
const LACP_DISTRIBUTING = 0x20;

/** /proc/net/bonding/<bond> → mode and members. Unknown lines are ignored. */
export function parseProcBonding(text: string): BondInfo {
  const info: BondInfo = { mode: 'unknown', members: [] };
  let member: BondMember | undefined;
  let section: 'actor' | 'partner' | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const kv = /^([^:]+):\s*(.*)$/.exec(line);
    if (line.startsWith('Bonding Mode:')) info.mode = /802\.3ad/.test(line) ? '802.3ad' : line.slice('Bonding Mode:'.length).trim();
    if (line.startsWith('Slave Interface:')) {
      member = { ifname: line.slice('Slave Interface:'.length).trim() };
      info.members.push(member);
      section = undefined;
      continue;
    }
    if (member === undefined || kv === null) {
      if (line.startsWith('details actor')) section = 'actor';
      else if (line.startsWith('details partner')) section = 'partner';
      continue;
    }
    if (line.startsWith('details actor')) {
      section = 'actor';
      continue;
    }
    if (line.startsWith('details partner')) {
      section = 'partner';
      continue;
    }
    const key = kv[1]!.trim().toLowerCase();
    const value = kv[2]!.trim();
    if (section === undefined) {
      if (key === 'mii status') member.miiStatus = value;
      else if (key === 'speed') {
        const n = Number.parseInt(value, 10);
        if (Number.isFinite(n)) member.speed = n;
      } else if (key === 'duplex') member.duplex = value;
      else if (key === 'aggregator id') member.aggregatorId = Number(value);
    } else if (section === 'actor') {
      if (key === 'port state') member.actorState = Number(value);
    } else if (key === 'system mac address') member.partnerMac = value.toLowerCase();
    else if (key === 'oper key') member.partnerKey = Number(value);
  }
  return info;
}

export interface SwitchCheckInput {
  observed: ObservedState;
  /** Bond name → its /proc/net/bonding view. */
  bonds: ReadonlyMap<string, BondInfo>;
  devices: readonly DeviceRx[];
}

export function checkSwitch(x: SwitchCheckInput): SwitchProblem[] {
  const out: SwitchProblem[] = [];
  const link = new Map(x.observed.links.map((l) => [l.ifname, l]));
  for (const [bond, info] of x.bonds) {
    const live = info.members.filter((m) => link.get(m.ifname)?.carrier !== false && m.miiStatus !== 'down');
    if (info.mode === '802.3ad') {
      const heard = live.filter((m) => m.partnerMac !== undefined && m.partnerMac !== ZERO_MAC);
      for (const m of live) {
        if (m.partnerMac === undefined || m.partnerMac === ZERO_MAC) {
          out.push({
            kind: 'lacp-no-partner',
            ifname: m.ifname,
            message: `${m.ifname} (member of ${bond}) has carrier but hears no LACP from the switch (partner MAC ${ZERO_MAC})`,
            fix: `on the switch, put the port cabled to ${m.ifname} into the LACP (802.3ad, active or passive) port channel of ${bond}'s other ports`,
          });
        }
      }
      // The partner's key tells its port channels apart, and a Linux (or any 802.3ad) partner
      // also keys a port by its speed and duplex: members that see one partner system under
      // different keys are a split only when their own speed does not explain it.
      const systems = new Set(heard.map((m) => m.partnerMac));
      const rate = (m: BondMember) => `${m.speed ?? '?'} ${m.duplex ?? '?'}`;
      const keysAtOneRate = new Map<string, Set<number | undefined>>();
      for (const m of heard) keysAtOneRate.set(rate(m), (keysAtOneRate.get(rate(m)) ?? new Set()).add(m.partnerKey));
      const split = systems.size > 1 || [...keysAtOneRate.values()].some((keys) => keys.size > 1);
      if (split) {
        const groups = new Set(heard.map((m) => `${m.partnerMac} key ${m.partnerKey ?? '?'}`));
        out.push({
          kind: 'lacp-split',
          ifname: bond,
          message: `members of ${bond} see different LACP partners: ${heard.map((m) => `${m.ifname} → ${m.partnerMac} key ${m.partnerKey ?? '?'}`).join(', ')}`,
          fix:
            systems.size > 1
              ? `cable every member of ${bond} to ports of one port channel (or one MLAG pair presenting a single system ID); now they sit in ${groups.size} different groups`
              : `put the switch ports of every member of ${bond} into one port channel: the switch answers them under ${groups.size} different keys, one per port channel`,
        });
      }
      // The speed and duplex the bond aggregates at: the distributing members' (the driver chose
      // them), else most members'. A member held back at another one is the one to bring in line.
      const distributing = live.filter((m) => m.actorState !== undefined && (m.actorState & LACP_DISTRIBUTING) !== 0);
      const rates = new Map<string, number>();
      for (const m of distributing.length > 0 ? distributing : live) rates.set(rate(m), (rates.get(rate(m)) ?? 0) + 1);
      const common = [...rates.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
      for (const m of heard) {
        if (m.actorState === undefined || (m.actorState & LACP_DISTRIBUTING) !== 0 || split) continue;
        const odd = common !== undefined && rate(m) !== common;
        out.push({
          kind: 'not-distributing',
          ifname: m.ifname,
          message: `${m.ifname} (member of ${bond}) has a LACP partner but is not distributing (actor state 0x${m.actorState.toString(16)}${odd ? `, ${m.speed ?? 'unknown'} Mb/s ${m.duplex ?? 'unknown'} while the others run at ${common?.replace(' ', ' Mb/s ')}` : ''})`,
          fix: odd
            ? `set the switch port of ${m.ifname} to the speed and duplex of ${bond}'s other ports (${common?.replace(' ', ' Mb/s ')}): LACP aggregates only equal ports and holds this one back`
            : `check on the switch that the port of ${m.ifname} is an active member of ${bond}'s port channel with the same speed and LACP settings as the others`,
        });
      }
    }
    const speeds = new Set(live.map((m) => `${m.speed ?? '?'} ${m.duplex ?? '?'}`));
    if (live.length > 1 && speeds.size > 1) {
      out.push({
        kind: 'speed-mismatch',
        ifname: bond,
        message: `members of ${bond} run at different speed/duplex: ${live.map((m) => `${m.ifname} ${m.speed ?? 'unknown'} Mb/s ${m.duplex ?? 'unknown'}`).join(', ')}`,
        fix: `set the switch ports of ${bond}'s members to one speed and full duplex (a bond only aggregates equal ports)`,
      });
    }
  }
  // VLANs: silent while a sibling on the same lower device hears traffic.
  const rx = new Map(x.devices.map((d) => [d.ifname, d.rx.packets]));
  const byParent = new Map<string, Array<{ ifname: string; vlanId: number | undefined }>>();
  for (const l of x.observed.links) {
    if (l.kind !== 'vlan' || l.parent === undefined) continue;
    byParent.set(l.parent, [...(byParent.get(l.parent) ?? []), { ifname: l.ifname, vlanId: l.vlanId }]);
  }
  for (const [parent, vlans] of byParent) {
    if (vlans.length < 2 || !vlans.some((v) => (rx.get(v.ifname) ?? 0) > 0)) continue;
    for (const v of vlans) {
      if ((rx.get(v.ifname) ?? 0) > 0 || link.get(v.ifname)?.up === false) continue;
      out.push({
        kind: 'vlan-silent',
        ifname: v.ifname,
        message: `${v.ifname} (VLAN ${v.vlanId ?? '?'} on ${parent}) has received nothing while ${vlans.filter((s) => (rx.get(s.ifname) ?? 0) > 0).map((s) => s.ifname).join(', ')} have`,
        fix: `allow VLAN ${v.vlanId ?? '?'} tagged on the switch ports of ${parent}`,
      });
    }
  }
  return out;
}
