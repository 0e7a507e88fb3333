// The browser's members grouped into clusters (by cluster ID), for `rackstrap discover`: pure.
import type { Member } from './browser.js';

export interface ClusterView {
  name: string;
  id: string;
  /** From the members' TXT; when members disagree (a change in flight), the most common value. */
  ca: string | undefined;
  version: string;
  memberCount: number;
  /** Where joins are served: members whose TXT names a join port. */
  join: Array<{ address: string; port: number; instance: string; ifname: string }>;
  advertisers: Array<{ instance: string; host: string; addresses: string[]; ifname: string }>;
}

const mostCommon = <T>(xs: T[]): T | undefined => {
  const counts = new Map<T, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
};

export function groupClusters(members: readonly Member[]): ClusterView[] {
  const byId = new Map<string, Member[]>();
  for (const m of members) byId.set(m.txt.id, [...(byId.get(m.txt.id) ?? []), m]);
  return [...byId.entries()]
    .map(([id, ms]) => {
      const sorted = [...ms].sort((a, b) => a.instance.localeCompare(b.instance) || a.ifname.localeCompare(b.ifname));
      return {
        name: mostCommon(ms.map((m) => m.txt.cluster)) ?? '',
        id,
        ca: mostCommon(ms.flatMap((m) => (m.txt.ca === undefined ? [] : [m.txt.ca]))),
        version: mostCommon(ms.map((m) => m.txt.version)) ?? '',
        memberCount: Math.max(...ms.map((m) => m.txt.members)),
        join: sorted.flatMap((m) => (m.txt.joinPort === undefined ? [] : m.addresses.map((address) => ({ address, port: m.txt.joinPort!, instance: m.instance, ifname: m.ifname })))),
        advertisers: sorted.map((m) => ({ instance: m.instance, host: m.host, addresses: m.addresses, ifname: m.ifname })),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

export function renderClusters(clusters: readonly ClusterView[]): string {
  const lines: string[] = [];
  for (const c of clusters) {
    lines.push(`${c.name}  cluster ID ${c.id}  ${c.memberCount} member${c.memberCount === 1 ? '' : 's'}  rackstrap ${c.version}`);
    lines.push(`  CA ${c.ca ?? '(none advertised)'}`);
    lines.push(c.join.length === 0 ? '  join: not served by any member heard' : `  join: ${c.join.map((j) => `${j.address}:${j.port}`).join(', ')}`);
    for (const a of c.advertisers) lines.push(`  ${a.instance}  ${a.host}  ${a.addresses.join(', ')}  (${a.ifname})`);
  }
  return lines.join('\n');
}
