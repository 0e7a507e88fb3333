// The DHCP scope and where addresses fall in it:
//  - no address used twice anywhere in the cluster, routers included (§5.2.3: "no two interface
//    aliases should ever use the same IP address");
//  - every address inside a declared subnet of its family (a DHCP server only serves addresses of
//    subnets it knows), and not a subnet's network/broadcast address;
//  - subnets written without host bits and not overlapping; routers inside their subnet;
//  - pool and bootstrap ranges inside their subnet, start <= end, apart from each other and from
//    every fixed address and router (a dynamic lease must never hand out a reserved address).
import { error, type Finding, type Path } from './context.js';
import type { ClusterContext } from './cluster-context.js';
import { assignmentsOf } from './assignments.js';
import { contains, formatIp, ipKey, lastAddress, overlaps, parseCidr, parseIp, reservedInPrefix, type Cidr, type Ip } from './ip.js';

interface Used {
  ip: Ip;
  address: string;
  label: string;
  path: Path;
}

export function checkSubnets(ctx: ClusterContext): Finding[] {
  const out: Finding[] = [];
  const subnets = ctx.description.scope.subnets;
  const cidrs: Array<Cidr | undefined> = subnets.map((s) => parseCidr(s.prefix));

  cidrs.forEach((c, i) => {
    const path: Path = ['scope', 'subnets', i, 'prefix'];
    if (!c) return;
    if (c.hostBitsSet) out.push(error(path, `${c.text} has host bits set: the subnet is ${formatIp(c.family, c.network)}/${c.length}`));
    for (let j = 0; j < i; j++) {
      const o = cidrs[j];
      if (o && overlaps(c, o)) out.push(error(path, `${c.text} overlaps scope.subnets[${j}] (${o.text}): an address must belong to one subnet`));
    }
  });

  const used: Used[] = [];
  for (const a of assignmentsOf(ctx.description)) if (a.ip) used.push({ ip: a.ip, address: a.address, label: a.label, path: a.path });
  subnets.forEach((s, i) => {
    s.routers.forEach((r, j) => {
      const ip = parseIp(r);
      if (ip) used.push({ ip, address: r, label: `router of ${s.prefix}`, path: ['scope', 'subnets', i, 'routers', j] });
    });
  });

  // Duplicates: reported at every occurrence, naming the others, so the admin sees both lines.
  const byKey = new Map<string, Used[]>();
  for (const u of used) {
    const k = ipKey(u.ip);
    byKey.set(k, [...(byKey.get(k) ?? []), u]);
  }
  for (const group of byKey.values()) {
    if (group.length < 2) continue;
    for (const u of group) {
      const others = group.filter((o) => o !== u).map((o) => o.label);
      out.push(error(u.path, `${u.address} is also ${others.join(', ')}: no two interfaces may share an IP address (§5.2.3)`));
    }
  }

  // Every fixed address inside a declared subnet, and a usable host address there.
  for (const u of used) {
    if (u.label.startsWith('router of ')) continue;
    const home = cidrs.find((c) => c && contains(c, u.ip));
    if (!home) {
      const fam = u.ip.family === 6 ? 'IPv6 ' : '';
      out.push(error(u.path, `${u.address} is in no declared ${fam}subnet (scope.subnets): DHCP can only serve addresses of subnets it knows`));
      continue;
    }
    const why = reservedInPrefix(home, u.ip);
    if (why) out.push(error(u.path, `${u.address} ${why}, not a host address`));
  }

  subnets.forEach((s, i) => {
    const c = cidrs[i];
    if (!c) return;
    s.routers.forEach((r, j) => {
      const path: Path = ['scope', 'subnets', i, 'routers', j];
      const ip = parseIp(r);
      if (!ip) return;
      if (!contains(c, ip)) out.push(error(path, `router ${r} is outside ${s.prefix}: hosts can only reach a router on their own subnet`));
      else {
        const why = reservedInPrefix(c, ip);
        if (why) out.push(error(path, `router ${r} ${why}`));
      }
    });
    const ranges: Array<['pool' | 'bootstrap', { start: string; end: string } | undefined]> = [
      ['pool', s.pool],
      ['bootstrap', s.bootstrap],
    ];
    const parsed: Array<{ kind: string; lo: bigint; hi: bigint }> = [];
    for (const [kind, range] of ranges) {
      if (!range) continue;
      const path: Path = ['scope', 'subnets', i, kind];
      const lo = parseIp(range.start);
      const hi = parseIp(range.end);
      if (!lo || !hi) continue;
      if (!contains(c, lo) || !contains(c, hi)) {
        const bad = !contains(c, lo) ? range.start : range.end;
        out.push(error(path, `${kind} ${range.start}-${range.end} is not inside ${s.prefix} (${bad} is outside)`));
        continue;
      }
      if (lo.value > hi.value) {
        out.push(error(path, `${kind} starts at ${range.start}, after its end ${range.end}`));
        continue;
      }
      for (const edge of [c.network, lastAddress(c)]) {
        const why = reservedInPrefix(c, { family: c.family, value: edge });
        if (why && edge >= lo.value && edge <= hi.value) out.push(error(path, `${kind} ${range.start}-${range.end} includes ${formatIp(c.family, edge)}, which ${why}`));
      }
      const inside = used.filter((u) => u.ip.family === c.family && u.ip.value >= lo.value && u.ip.value <= hi.value);
      if (inside.length) {
        const list = inside.map((u) => `${u.address} (${u.label})`).join(', ');
        out.push(error(path, `${kind} ${range.start}-${range.end} includes reserved ${list}: a dynamic lease could take it`));
      }
      for (const p of parsed) {
        if (lo.value <= p.hi && p.lo <= hi.value) out.push(error(path, `${kind} ${range.start}-${range.end} overlaps the ${p.kind} range of the same subnet`));
      }
      parsed.push({ kind, lo: lo.value, hi: hi.value });
    }
  });
  return out;
}
