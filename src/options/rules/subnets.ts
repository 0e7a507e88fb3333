// The DHCP scope and where addresses fall in it:
//  - no address used twice anywhere in the cluster, routers included (§5.2.3: "no two interface
//    aliases should ever use the same IP address");
//  - every address inside a declared subnet of its family (a DHCP server only serves addresses of
//    subnets it knows), and not a subnet's network/broadcast address;
//  - subnets written without host bits and not overlapping; routers inside their subnet;
//  - pool and bootstrap ranges inside their subnet, start <= end, apart from each other and from
//    every fixed address and router (a dynamic lease must never hand out a reserved address).
import { error, LIST_AT_MOST, type Finding, type Path } from './context.js';
import type { ClusterContext } from './cluster-context.js';
import { assignmentsOf } from './assignments.js';
import { contains, formatIp, ipKey, lastAddress, parseCidr, parseIp, PrefixIndex, reservedInPrefix, ruleWork, type Cidr, type Ip } from './ip.js';

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
    if (c?.hostBitsSet) out.push(error(['scope', 'subnets', i, 'prefix'], `${c.text} has host bits set: the subnet is ${formatIp(c.family, c.network)}/${c.length}`));
  });
  // Overlaps: sorted by start, each prefix is compared with the one reaching furthest among those
  // before it (any overlap with an earlier-starting prefix is an overlap with that one), so the
  // check is n log n, not every pair. Reported at the later of the two in the file.
  const sorted = cidrs.flatMap((c, i) => (c ? [{ c, i, last: lastAddress(c) }] : [])).sort((a, b) => a.c.family - b.c.family || (a.c.network < b.c.network ? -1 : a.c.network > b.c.network ? 1 : a.i - b.i));
  let reach: (typeof sorted)[number] | undefined;
  const overlapsOf = new Map<number, number>();
  for (const s of sorted) {
    if (reach && reach.c.family === s.c.family && s.c.network <= reach.last) {
      const [later, earlier] = s.i > reach.i ? [s, reach] : [reach, s];
      if (!overlapsOf.has(later.i)) overlapsOf.set(later.i, earlier.i);
    }
    if (!reach || reach.c.family !== s.c.family || s.last > reach.last) reach = s;
  }
  for (const [i, j] of [...overlapsOf].sort((a, b) => a[0] - b[0])) {
    out.push(error(['scope', 'subnets', i, 'prefix'], `${cidrs[i]!.text} overlaps scope.subnets[${j}] (${cidrs[j]!.text}): an address must belong to one subnet`));
  }

  const used: Used[] = [];
  for (const a of assignmentsOf(ctx.description)) if (a.ip) used.push({ ip: a.ip, address: a.address, label: a.label, path: a.path });
  subnets.forEach((s, i) => {
    s.routers.forEach((r, j) => {
      const ip = parseIp(r);
      if (ip) used.push({ ip, address: r, label: `router of ${s.prefix}`, path: ['scope', 'subnets', i, 'routers', j] });
    });
  });

  // Duplicates: reported at every occurrence, naming the others, so the admin sees both lines.
  // Each message names at most a few of the others, so many holders of one address cost a line each.
  const byKey = new Map<string, Used[]>();
  for (const u of used) {
    const k = ipKey(u.ip);
    const group = byKey.get(k);
    if (group) group.push(u);
    else byKey.set(k, [u]);
  }
  for (const group of byKey.values()) {
    if (group.length < 2) continue;
    group.forEach((u, i) => {
      const others: string[] = [];
      for (let j = 0; j < group.length && others.length <= LIST_AT_MOST; j++) if (j !== i) others.push(group[j]!.label);
      const more = group.length - 1 - Math.min(others.length, LIST_AT_MOST);
      const named = others.slice(0, LIST_AT_MOST).join(', ') + (more > 0 ? ` and ${more} more` : '');
      out.push(error(u.path, `${u.address} is also ${named}: no two interfaces may share an IP address`));
    });
  }

  // Every fixed address inside a declared subnet, and a usable host address there.
  const index = new PrefixIndex(cidrs.map((c) => [c, c] as const));
  for (const u of used) {
    if (u.label.startsWith('router of ')) continue;
    const home = index.find(u.ip);
    if (!home) {
      const fam = u.ip.family === 6 ? 'IPv6 ' : '';
      out.push(error(u.path, `${u.address} is in no declared ${fam}subnet (scope.subnets): DHCP can only serve addresses of subnets it knows`));
      continue;
    }
    const why = reservedInPrefix(home, u.ip);
    if (why) out.push(error(u.path, `${u.address} ${why}, not a host address`));
  }

  // Fixed addresses by value, per family: what lies in a range is a binary search away.
  const byValue = [...used].sort((a, b) => a.ip.family - b.ip.family || (a.ip.value < b.ip.value ? -1 : a.ip.value > b.ip.value ? 1 : 0));
  const firstAtLeast = (family: number, value: bigint): number => {
    let lo = 0;
    let hi = byValue.length;
    while (lo < hi) {
      ruleWork.comparisons++;
      const mid = (lo + hi) >>> 1;
      const m = byValue[mid]!.ip;
      if (m.family < family || (m.family === family && m.value < value)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  /** The first few fixed addresses in [lo, hi] and how many there are. */
  const usedIn = (family: number, lo: bigint, hi: bigint): { some: Used[]; count: number } => {
    const from = firstAtLeast(family, lo);
    const count = firstAtLeast(family, hi + 1n) - from;
    return { some: byValue.slice(from, from + Math.min(count, LIST_AT_MOST)), count };
  };

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
      const inside = usedIn(c.family, lo.value, hi.value);
      if (inside.count) {
        const more = inside.count - inside.some.length;
        const list = inside.some.map((u) => `${u.address} (${u.label})`).join(', ') + (more > 0 ? ` and ${more} more` : '');
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
