// The corpus uses every construct a cluster description allows: each one is looked for in the
// loaded descriptions (the model, after templates and patches), and the lists of values come from
// the schema itself, so a bond mode added to the schema fails this test until a corpus file uses it.
import t from 'tap';
import type { LoadedCluster } from '../../src/options/load.js';
import { loadClusterFile } from '../../src/options/load.js';
import { parseInterfaceName } from '../../src/options/names.js';
import { placementsOf, reservationsOf, subnetsOf } from '../../src/options/resolve.js';
import { BondMode, HashPolicy, LacpRate } from '../../src/options/schema.js';
import type { ResolvedFiler } from '../../src/options/normalize.js';
import { corpusFiles } from './helpers/corpus.js';

const kindOf = (name: string) => {
  const p = parseInterfaceName(name);
  return p.ok ? p.value : undefined;
};

interface Use {
  file: string;
  loaded: LoadedCluster;
  filer: ResolvedFiler;
}

t.test('the corpus covers every construct', async (t) => {
  const uses: Use[] = [];
  const clusters: Array<{ file: string; loaded: LoadedCluster }> = [];
  for (const file of corpusFiles()) {
    const loaded = await loadClusterFile(file);
    clusters.push({ file, loaded });
    for (const filer of loaded.filers.values()) uses.push({ file, loaded, filer });
  }
  const found = (what: string, pred: (u: Use) => boolean) => {
    const where = [...new Set(uses.filter(pred).map((u) => u.file))];
    t.ok(where.length > 0, `${what}${where.length ? `: ${where.join(', ')}` : ''}`);
  };
  const vlanOn = (u: Use, lowerKind: string) =>
    u.filer.stack.vlans.some((v) => {
      const p = kindOf(v);
      return p?.kind === 'vlan' && kindOf(p.parent)?.kind === lowerKind;
    });
  const failoverOver = (u: Use, pred: (member: string) => boolean) => Object.values(u.filer.stack.failovers).some((f) => f.members.every(pred));

  found('a VLAN on a NIC (eth0.5)', (u) => vlanOn(u, 'ethernet'));
  found('a VLAN on a bond (bond0.5)', (u) => vlanOn(u, 'bond'));
  found('a VLAN on a failover group (fail0.5)', (u) => vlanOn(u, 'failover'));
  found('a VLAN on an alias (data0.5)', (u) => vlanOn(u, 'alias'));
  found('a failover group over NICs', (u) => failoverOver(u, (m) => kindOf(m)?.kind === 'ethernet'));
  found('a failover group over bonds', (u) => failoverOver(u, (m) => kindOf(m)?.kind === 'bond'));
  found('a failover group over VLANs of bonds', (u) =>
    failoverOver(u, (m) => {
      const p = kindOf(m);
      return p?.kind === 'vlan' && kindOf(p.parent)?.kind === 'bond';
    }),
  );
  for (const mode of BondMode.options) found(`bond mode ${mode}`, (u) => Object.values(u.filer.stack.bonds).some((b) => b.mode === mode));
  for (const rate of LacpRate.options) found(`lacpRate ${rate}`, (u) => Object.values(u.filer.stack.bonds).some((b) => b.lacpRate === rate));
  found('a hash policy other than the default', (u) => Object.values(u.filer.stack.bonds).some((b) => b.hashPolicy !== undefined && HashPolicy.options.includes(b.hashPolicy)));
  found('a single-NIC filer carrying mgmt#, data# and san#', (u) => {
    if (Object.keys(u.filer.nics).length !== 1) return false;
    const roles = new Set(Object.keys(u.filer.stack.aliases).map((a) => (kindOf(a) as { role?: string } | undefined)?.role));
    return roles.has('mgmt') && roles.has('data') && roles.has('san');
  });
  found('virtual servers sharing a routing table on one filer', (u) => {
    const tables = Object.values(u.loaded.description.vservers).filter((v) => v.home === u.filer.name).map((v) => v.table);
    return new Set(tables).size < tables.length;
  });
  found('a virtual server with several addresses on one alias', (u) =>
    Object.values(u.loaded.description.vservers).some((v) => v.home === u.filer.name && Object.values(v.addresses).some((inst) => Object.keys(inst).length > 1)),
  );
  found('a virtual server with addresses on several aliases', (u) =>
    Object.values(u.loaded.description.vservers).some((v) => v.home === u.filer.name && Object.keys(v.addresses).length > 1),
  );
  found('per-alias MTUs on the same NICs (an alias set lower than its lower device)', (u) => {
    const mtu = u.filer.stack.mtu;
    return Object.entries(u.filer.stack.aliases).some(([a, on]) => mtu[a] !== undefined && Object.entries(mtu).some(([dev, m]) => dev !== a && m > mtu[a]! && (on === dev || on.startsWith(`${dev}.`))));
  });
  found('MySQL roles homed on a filer', (u) => Object.values(u.loaded.description.mysql).some((m) => m.home === u.filer.name));
  found('a filer that may run 64 virtual servers', (u) => [...placementsOf(u.loaded).values()].filter((p) => p.hosts.includes(u.filer.name)).length >= 64);
  found("a virtual server whose gateway is not its subnet's first router", (u) =>
    Object.values(u.loaded.description.vservers).some((v) => {
      if (v.home !== u.filer.name || v.gateway === undefined) return false;
      const s = subnetsOf(u.loaded).find((x) => x.routers.includes(v.gateway!));
      return s !== undefined && s.routers[0] !== v.gateway;
    }),
  );
  found('a filer built from a template', (u) => u.filer.template !== undefined);
  found('IPv6 addresses of a filer (not served by DHCPv4: the agent says so and does not wait)', (u) =>
    reservationsOf(u.loaded).some((r) => r.kind !== 'topology' && r.family === 6 && (r.kind === 'filer' ? r.filer : r.home) === u.filer.name),
  );
  const counts = clusters.filter((c) => new Set([...c.loaded.filers.values()].map((f) => Object.keys(f.nics).length)).size > 1);
  t.ok(counts.length > 0, `filers with different NIC counts in one cluster: ${counts.map((c) => c.file).join(', ')}`);
});
