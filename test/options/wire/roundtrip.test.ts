// Property tests: decode(encode(x)) == x for arbitrary valid normalized topologies, signed and
// unsigned, whatever order the sub-options arrive in and however option 43 is split into
// instances; and every change to a signed payload is caught.
import t from 'tap';
import fc from 'fast-check';
import { Topology as TopologySchema, type Bond, type Failover, type Topology } from '../../../src/options/schema.js';
import {
  decodeTopology,
  encodeTopology,
  normalizeTopology,
  parseSubOptions,
  subOptionsToBytes,
  topologyWireSize,
  WireDecodeError,
  WireEncodeError,
  type SubOption,
} from '../../../src/options/wire/index.js';

const RUNS = 300;

// ---- arbitraries -------------------------------------------------------------------------------
// References are generated as indices into the pool of declared names and resolved in .map(), so
// fast-check shrinks indices and lists instead of regenerating dependent values (no chain()).

const NICS = ['eth0', 'eth1', 'eth2', 'eth3', 'eth4', 'eth5', 'eth10'];
const ALIASES = ['mgmt0', 'mgmt1', 'data0', 'data1', 'data2', 'data12', 'san0', 'san1'];
const ROLES = ['MySQLMgmtNode', 'MySQLDataNode1', 'MySQLDataNode2', 'MySQLDataNode10', 'MySQLAppNode1', 'MySQLAppNode2', 'MySQLAppNode3'];

const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,20}$/);
const table = fc.integer({ min: 1, max: 65535 }).filter((n) => n < 253 || n > 255);
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const bondSpec = fc.record({
  mode: fc.constantFrom(...(['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb'] as const)),
  members: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
  primary: opt(fc.nat()),
  lacpRate: opt(fc.constantFrom(...(['slow', 'fast'] as const))),
  hashPolicy: opt(fc.constantFrom(...(['layer2', 'layer2+3', 'layer3+4', 'encap2+3', 'encap3+4', 'vlan+srcmac'] as const))),
  miimon: opt(fc.integer({ min: 0, max: 60000 })),
});
const failSpec = fc.record({
  members: fc.array(fc.nat(), { minLength: 2, maxLength: 3 }),
  primary: opt(fc.nat()),
  miimon: opt(fc.integer({ min: 0, max: 60000 })),
});

const spec = fc.record({
  filer: name,
  generation: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  bonds: fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), bondSpec), { maxLength: 3 }),
  fails: fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), failSpec), { maxLength: 2 }),
  aliases: fc.array(fc.tuple(fc.constantFrom(...ALIASES), fc.nat()), { maxLength: 5 }),
  /** A VLAN: a base from the pool, then one or two tags (eth0.5, bond0.10.20, data0.5). */
  vlans: fc.array(fc.tuple(fc.nat(), fc.array(fc.integer({ min: 1, max: 4094 }), { minLength: 1, maxLength: 2 })), { maxLength: 5 }),
  mtu: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 68, max: 65535 })), { maxLength: 4 }),
  vservers: fc.array(
    fc.record({
      name,
      table,
      addresses: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 9999 })), { minLength: 1, maxLength: 4 }),
      // Format 1.1: an optional IPv4 gateway.
      gateway: fc.option(fc.ipV4(), { nil: undefined }),
    }),
    { maxLength: 4 },
  ),
  mysql: fc.array(fc.tuple(fc.constantFrom(...ROLES), fc.array(fc.nat({ max: 8 }), { minLength: 1, maxLength: 2 })), { maxLength: 5 }),
});

const pick = <T>(pool: readonly T[], i: number): T => pool[i % pool.length]!;
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** Resolves a spec into a valid topology: every referenced VLAN (and VLAN under it) is declared. */
type Spec = typeof spec extends fc.Arbitrary<infer R> ? R : never;

function build(s: Spec): Topology {
  const bondNames = [...new Set(s.bonds.map(([n]) => `bond${n}`))];
  const failNames = [...new Set(s.fails.map(([n]) => `fail${n}`))];
  const aliasNames = [...new Set(s.aliases.map(([n]) => n))];
  const bases = [...NICS, ...bondNames, ...failNames, ...aliasNames];
  const vlans = new Set<string>();
  for (const [b, tags] of s.vlans) {
    let n = pick(bases, b);
    for (const tag of tags) {
      if (`${n}.${tag}`.length > 15) break;
      n = `${n}.${tag}`;
      vlans.add(n); // each level is declared, so VLANs on VLANs have their parents
    }
  }
  const pool = [...bases, ...vlans];
  const bonds: Record<string, Bond> = {};
  s.bonds.forEach(([n, b]) => {
    bonds[`bond${n}`] = defined({ ...b, members: b.members.map((i) => pick(pool, i)), primary: b.primary === undefined ? undefined : pick(pool, b.primary) });
  });
  const failovers: Record<string, Failover> = {};
  s.fails.forEach(([n, f]) => {
    failovers[`fail${n}`] = defined({ ...f, members: f.members.map((i) => pick(pool, i)), primary: f.primary === undefined ? undefined : pick(pool, f.primary) });
  });
  const aliases: Record<string, string> = {};
  for (const [a, on] of s.aliases) aliases[a] = pick(pool, on);
  const mtuPool = [...NICS, ...bondNames, ...failNames, ...aliasNames, ...vlans];
  const mtu: Record<string, number> = {};
  for (const [i, m] of s.mtu) mtu[pick(mtuPool, i)] = m;
  const seenVs = new Set<string>();
  const vservers = s.vservers
    .filter((v) => !seenVs.has(v.name) && seenVs.add(v.name))
    .map((v) => ({
      name: v.name,
      table: v.table,
      ...(v.gateway === undefined ? {} : { gateway: v.gateway }),
      addresses: v.addresses.map(([a, instance]) => ({ alias: pick(pool, a), instance })),
    }));
  const seenRoles = new Set<string>();
  const mysql = s.mysql
    .filter(([r]) => !seenRoles.has(r) && seenRoles.add(r))
    .map(([role, as]) => ({ role, aliases: as.map((i) => pick(pool, i)) }));
  return { filer: s.filer, generation: s.generation, stack: { bonds, failovers, vlans: [...vlans], aliases, mtu }, vservers, mysql };
}

/** Valid topologies in canonical form. */
const topology = spec.map((s) => normalizeTopology(build(s)));
const key = fc.uint8Array({ minLength: 16, maxLength: 64 }).map((a) => Buffer.from(a));

/** Deterministic shuffle driven by generated numbers (shrinks towards "no shuffle"). */
function shuffle<T>(xs: readonly T[], seeds: readonly number[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = (seeds[i % Math.max(seeds.length, 1)] ?? 0) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function check(t: { notOk: (v: unknown, msg: string) => unknown }, what: string, prop: fc.IProperty<any>): void {
  const r = fc.check(prop, { numRuns: RUNS });
  t.notOk(r.failed, r.failed ? fc.defaultReportMessage(r) ?? what : what);
}

// ---- properties ----------------------------------------------------------------------------------

t.test('the arbitrary produces schema-valid canonical topologies', async (t) => {
  check(t, 'valid and canonical', fc.property(topology, (x) => {
    TopologySchema.parse(x);
    return JSON.stringify(normalizeTopology(x)) === JSON.stringify(x);
  }));
});

t.test('the arbitrary reaches the shapes that matter', async (t) => {
  const xs = fc.sample(topology, 500);
  const wire = xs.map((x) => encodeTopology(x).map((o) => o.text));
  const isVlanObject = (text: string) => /^[a-z]+[0-9]+(\.[0-9]+)+( |$)/.test(text);
  const count = (f: (i: number) => boolean) => xs.filter((_, i) => f(i)).length;
  const seen = {
    vlanOnVlan: count((i) => xs[i]!.stack.vlans.some((v) => v.split('.').length > 2)),
    vlanOnAlias: count((i) => xs[i]!.stack.vlans.some((v) => /^(mgmt|data|san)/.test(v))),
    impliedVlanLeftOut: count((i) => wire[i]!.filter(isVlanObject).length < xs[i]!.stack.vlans.length),
    bareVlanObject: count((i) => wire[i]!.some((w) => isVlanObject(w) && !w.includes(' '))),
    vlanWithMtu: count((i) => wire[i]!.some((w) => isVlanObject(w) && w.includes(' mtu='))),
    ethMtu: count((i) => wire[i]!.some((w) => /^eth[0-9]+ mtu=/.test(w))),
    groupedMysql: count((i) => wire[i]!.some((w) => /^mysql \S+\+/.test(w))),
    tenObjects: count((i) => wire[i]!.length >= 10),
  };
  for (const [shape, n] of Object.entries(seen)) t.ok(n >= 5, `${shape}: ${n}/500`);
});

t.test('decode(encode(x)) == x, unsigned, sub-options in any order', async (t) => {
  check(t, 'round trip', fc.property(topology, fc.array(fc.nat(), { maxLength: 40 }), (x, seeds) => {
    const objs = shuffle(encodeTopology(x), seeds);
    const d = decodeTopology(subOptionsToBytes(objs));
    return d.signed === false && d.skipped.length === 0 && deepEqual(d.topology, x);
  }));
});

t.test('decode(encode(x)) == x, signed, any order, split into instances at arbitrary bytes, pads and end', async (t) => {
  check(
    t,
    'signed round trip',
    fc.property(topology, key, fc.array(fc.nat(), { maxLength: 40 }), fc.uniqueArray(fc.nat(), { maxLength: 6 }), fc.boolean(), (x, k, seeds, cuts, padAndEnd) => {
      const objs = shuffle(encodeTopology(x, { key: k }), seeds);
      let payload = subOptionsToBytes(objs);
      if (padAndEnd) payload = Buffer.concat([Buffer.from([0, 0]), payload, Buffer.from([0xff, 0x31, 0x02])]);
      const at = [...new Set(cuts.map((c) => c % (payload.length + 1)))].sort((a, b) => a - b);
      const instances = [0, ...at].map((start, i) => payload.subarray(start, at[i] ?? payload.length));
      const d = decodeTopology(instances, { key: k, requireSignature: true });
      return d.signed && deepEqual(d.topology, x);
    }),
  );
});

t.test('decoding SubOption[] equals decoding bytes; topologyWireSize is the byte length', async (t) => {
  check(t, 'same result', fc.property(topology, fc.boolean(), (x, signed) => {
    const k = Buffer.alloc(32, 1);
    const objs = encodeTopology(x, signed ? { key: k } : {});
    const bytes = subOptionsToBytes(objs);
    return (
      deepEqual(decodeTopology(objs, { key: k }).topology, decodeTopology(bytes, { key: k }).topology) &&
      deepEqual(parseSubOptions(bytes), objs) &&
      topologyWireSize(x, { signed }) === bytes.length
    );
  }));
});

t.test('every object fits a sub-option and uses only the alphabet', async (t) => {
  check(t, 'alphabet', fc.property(topology, key, (x, k) =>
    encodeTopology(x, { key: k }).every((o) => o.text.length <= 253 && /^[A-Za-z0-9._\-:+/=~]+( [A-Za-z0-9._\-:+/=~]+)*$/.test(o.text)),
  ));
});

t.test('any single changed byte of a signed payload is refused', async (t) => {
  check(t, 'tamper', fc.property(topology, key, fc.nat(), fc.integer({ min: 1, max: 255 }), (x, k, pos, delta) => {
    const payload = subOptionsToBytes(encodeTopology(x, { key: k }));
    const i = pos % payload.length;
    const bad = Buffer.from(payload);
    bad[i] = (bad[i]! + delta) & 0xff;
    try {
      decodeTopology(bad, { key: k, requireSignature: true });
      return false;
    } catch (e) {
      return e instanceof WireDecodeError;
    }
  }));
});

t.test('any truncation of a payload is refused', async (t) => {
  check(t, 'truncate', fc.property(topology, fc.nat(), (x, cut) => {
    const payload = subOptionsToBytes(encodeTopology(x));
    const short = payload.subarray(0, cut % payload.length);
    try {
      decodeTopology(short);
      return false;
    } catch (e) {
      return e instanceof WireDecodeError;
    }
  }));
});

t.test('names in any case encode exactly like their lower-case form', async (t) => {
  check(t, 'case', fc.property(topology, fc.boolean(), (x, upper) => {
    const shout = (n: string) => (upper ? n.toUpperCase() : n.replace(/^./, (c) => c.toUpperCase()));
    const s = x.stack;
    const loud: Topology = {
      ...x,
      stack: {
        bonds: Object.fromEntries(Object.entries(s.bonds).map(([n, b]) => [shout(n), { ...b, members: b.members.map(shout) }])),
        failovers: Object.fromEntries(Object.entries(s.failovers).map(([n, f]) => [shout(n), { ...f, members: f.members.map(shout) }])),
        vlans: s.vlans.map(shout),
        aliases: Object.fromEntries(Object.entries(s.aliases).map(([n, on]) => [shout(n), shout(on)])),
        mtu: Object.fromEntries(Object.entries(s.mtu).map(([n, m]) => [shout(n), m])),
      },
      vservers: x.vservers.map((v) => ({ ...v, addresses: v.addresses.map((a) => ({ ...a, alias: shout(a.alias) })) })),
      mysql: x.mysql.map((m) => ({ ...m, aliases: m.aliases.map(shout) })),
    };
    return deepEqual(encodeTopology(loud), encodeTopology(x));
  }));
});

// Loose topologies: undeclared VLANs, odd names, duplicates. The writer either refuses with a
// typed error or what it writes reads back as the canonical form: never a silent change.
const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>) => fc.oneof({ arbitrary: good, weight: 15 }, { arbitrary: bad, weight: 1 });
const badName = fc.oneof(fc.constantFrom('ETH1', 'eth01', 'en0', 'Data1', 'bond0.0', 'x'), fc.stringMatching(/^[a-z]{1,5}[0-9]{0,3}(\.[0-9]{1,4})?$/));
const looseRef = mostly(fc.constantFrom('eth0', 'eth1', 'eth2', 'bond0', 'bond0.10', 'fail0', 'data0', 'mgmt0', 'fail0.5', 'bond0.10.20'), badName);
const looseVlan = mostly(fc.constantFrom('bond0.10', 'bond0.10.20', 'fail0.5', 'data0.7', 'eth0.3'), badName);
const loose = fc.record({
  filer: mostly(name, fc.string({ maxLength: 8 })),
  generation: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  stack: fc.record({
    bonds: fc.dictionary(mostly(fc.constantFrom('bond0', 'bond1'), badName), fc.record({ mode: fc.constant('802.3ad' as const), members: fc.array(looseRef, { minLength: 1, maxLength: 2 }) }), { maxKeys: 2 }),
    failovers: fc.dictionary(mostly(fc.constantFrom('fail0', 'fail1'), badName), fc.record({ members: fc.array(looseRef, { minLength: 2, maxLength: 2 }) }), { maxKeys: 1 }),
    vlans: fc.uniqueArray(looseVlan, { maxLength: 3 }),
    aliases: fc.dictionary(mostly(fc.constantFrom('mgmt0', 'data0', 'san0'), badName), looseRef, { maxKeys: 2 }),
    mtu: fc.dictionary(mostly(fc.constantFrom('eth0', 'eth1', 'eth2'), looseRef), fc.integer({ min: 68, max: 9000 }), { maxKeys: 2 }),
  }),
  vservers: fc.array(fc.record({ name: mostly(name, fc.string({ maxLength: 6 })), table: table, addresses: fc.array(fc.record({ alias: looseRef, instance: fc.integer({ min: 0, max: 9999 }) }), { minLength: 1, maxLength: 2 }) }), { maxLength: 2 }),
  mysql: fc.array(fc.record({ role: fc.constantFrom(...ROLES), aliases: fc.array(looseRef, { minLength: 1, maxLength: 2 }) }), { maxLength: 2 }),
});

t.test('the writer refuses or round-trips, never changes a topology silently', async (t) => {
  let refused = 0;
  check(t, 'refuse or round trip', fc.property(loose, (x) => {
    let objs: SubOption[];
    try {
      objs = encodeTopology(x as Topology);
    } catch (e) {
      refused++;
      return e instanceof WireEncodeError;
    }
    return deepEqual(decodeTopology(objs).topology, normalizeTopology(x as Topology));
  }));
  t.ok(refused >= RUNS / 20 && RUNS - refused >= RUNS / 20, `the loose arbitrary exercises both outcomes (${refused}/${RUNS} refused)`);
});

/** Deep equality that ignores object key order (as the schema does) but not array order. */
function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return deepEqual(ka, kb) && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
