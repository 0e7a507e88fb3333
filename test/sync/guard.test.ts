// The split-brain guard, pure: which dynamic addresses a server of a pair may give while its
// partner is not heard. The halves of each pool and bootstrap range (odd sizes, one- and
// two-address ranges, ranges of several subnets), free at the cut, renewals of what both knew,
// and the property the whole design rests on: two servers that each follow the guard, starting
// from the same cut, never give one address to two clients.

import t from 'tap';
import fc from 'fast-check';
import { toNumber } from '../../src/dhcp-server/address.js';
import { LeaseTable } from '../../src/dhcp-server/lease-table.js';
import { cutStateOf, dynamicRanges, inHalf, midOf, partnerDownGuard, type CutState } from '../../src/sync/guard.js';
import { ETH0, exampleConfig, request } from '../dhcp-server/helpers/fixtures.js';
import { isDurable } from '../../src/dhcp-server/lease-table.js';
import { DEFAULT_POLICY, respond } from '../../src/dhcp-server/respond.js';
import { MESSAGE_TYPE } from '../../src/dhcp-packet/index.js';

const NOW = 1_800_000_000_000;
const range = (start: number, end: number) => ({ start, end });
const emptyCut = (): CutState => ({ held: new Set(), confirmed: new Map(), at: NOW });
const members = (r: { start: number; end: number }, half: 'lower' | 'upper'): number[] => {
  const out: number[] = [];
  for (let a = r.start; a <= r.end; a++) if (inHalf(r, a, half)) out.push(a);
  return out;
};

t.test('the halves of a range: disjoint, together the whole range, the lower one never smaller', async (t) => {
  // Sizes written out from the rule "the preferred server takes the lower half, rounded up".
  const cases: Array<[string, number, number, number[], number[]]> = [
    ['one address', 100, 100, [100], []],
    ['two addresses', 100, 101, [100], [101]],
    ['three addresses', 100, 102, [100, 101], [102]],
    ['four addresses', 100, 103, [100, 101], [102, 103]],
    ['five addresses', 100, 104, [100, 101, 102], [103, 104]],
  ];
  for (const [name, start, end, lower, upper] of cases) {
    const r = range(start, end);
    t.same(members(r, 'lower'), lower, `${name}: lower half`);
    t.same(members(r, 'upper'), upper, `${name}: upper half`);
  }
  fc.assert(fc.property(fc.nat({ max: 2 ** 32 - 2000 }), fc.nat({ max: 1500 }), (start, extra) => {
    const r = range(start, start + extra);
    const lower = members(r, 'lower');
    const upper = members(r, 'upper');
    const size = extra + 1;
    return lower.length === Math.ceil(size / 2) && upper.length === Math.floor(size / 2)
      && lower.every((a) => !upper.includes(a)) && lower[lower.length - 1] === midOf(r);
  }));
});

t.test('the halves at the top of the address space (no overflow past 255.255.255.255)', async (t) => {
  const r = range(toNumber('255.255.255.250'), toNumber('255.255.255.255'));
  t.same(members(r, 'lower').map((a) => a - r.start), [0, 1, 2]);
  t.same(members(r, 'upper').map((a) => a - r.start), [3, 4, 5]);
});

t.test('dynamic ranges: every pool and every bootstrap range of every subnet, nothing else', async (t) => {
  const config = exampleConfig({ pools: { 1: { start: '10.2.2.100', end: '10.2.2.149' }, 2: { start: '10.3.20.1', end: '10.3.20.200' } } });
  const got = dynamicRanges(config).map((r) => [r.start, r.end]);
  // From examples/cluster.yaml: the management subnet's bootstrap range, plus the two pools set above.
  t.same(got.sort((a, b) => a[0]! - b[0]!), [
    [toNumber('10.1.1.200'), toNumber('10.1.1.215')],
    [toNumber('10.2.2.100'), toNumber('10.2.2.149')],
    [toNumber('10.3.20.1'), toNumber('10.3.20.200')],
  ]);
  t.same(dynamicRanges(exampleConfig()).length, 1, 'without pools: the bootstrap range alone');
});

t.test('the guard: own half of each range, free at the cut; what both knew may be renewed by its holder', async (t) => {
  const pool = range(toNumber('10.3.20.1'), toNumber('10.3.20.200'));
  const boot = range(toNumber('10.1.1.200'), toNumber('10.1.1.215'));
  const table = new LeaseTable();
  const lowBound = toNumber('10.3.20.5');
  const highBound = toNumber('10.3.20.150');
  const unconfirmed = toNumber('10.3.20.160');
  const declined = toNumber('10.3.20.170');
  const offered = toNumber('10.3.20.7');
  table.apply({ op: 'bind', address: lowBound, client: 'c-low', expires: NOW + 60_000, label: '', hw: '' });
  table.apply({ op: 'bind', address: highBound, client: 'c-high', expires: NOW + 60_000, label: '', hw: '' });
  table.apply({ op: 'bind', address: unconfirmed, client: 'c-new', expires: NOW + 60_000, label: '', hw: '' });
  table.apply({ op: 'bind', address: toNumber('10.3.20.180'), client: 'c-old', expires: NOW - 1, label: '', hw: '' });
  table.apply({ op: 'decline', address: declined, client: '', until: NOW + 60_000 });
  table.apply({ op: 'offer', address: offered, client: 'c-offer', until: NOW + 5_000, label: '', hw: '' });
  const cut = cutStateOf(table, NOW, new Set([unconfirmed]));
  t.same([...cut.held].sort(), [lowBound, highBound, unconfirmed, declined].sort(), 'held at the cut: bound, quarantined, unconfirmed (not the expired lease, not the offer)');
  t.same([...cut.confirmed].sort(), [[lowBound, 'c-low'], [highBound, 'c-high']].sort(), 'confirmed: bound leases the partner had');

  const lower = partnerDownGuard([pool, boot], 'lower', cut);
  const upper = partnerDownGuard([pool, boot], 'upper', cut);
  t.ok(lower(toNumber('10.3.20.1'), 'x') && !upper(toNumber('10.3.20.1'), 'x'), 'first address: the lower server only');
  t.ok(lower(toNumber('10.3.20.100'), 'x') && !upper(toNumber('10.3.20.100'), 'x'), 'the middle (last of the lower half)');
  t.ok(!lower(toNumber('10.3.20.101'), 'x') && upper(toNumber('10.3.20.101'), 'x'), 'first of the upper half');
  t.ok(upper(toNumber('10.3.20.200'), 'x') && !lower(toNumber('10.3.20.200'), 'x'), 'last address: the upper server only');
  t.ok(lower(toNumber('10.1.1.207'), 'x') && upper(toNumber('10.1.1.208'), 'x') && !upper(toNumber('10.1.1.207'), 'x'), 'the bootstrap range is split on its own');
  t.ok(lower(lowBound, 'c-low') && upper(lowBound, 'c-low'), 'a lease both knew: its holder renews it on either side, in either half');
  t.ok(upper(highBound, 'c-high') && lower(highBound, 'c-high'));
  t.notOk(lower(lowBound, 'someone-else') || upper(lowBound, 'someone-else'), 'a held address goes to nobody else, not even in the own half');
  t.notOk(upper(unconfirmed, 'c-new') || upper(unconfirmed, 'x'), 'an unconfirmed lease is held for nobody (the partner never knew it)');
  t.notOk(upper(declined, 'x') || lower(declined, 'x'), 'a quarantined address stays out');
  t.ok(upper(toNumber('10.3.20.180'), 'x') && !lower(toNumber('10.3.20.180'), 'x'), 'a lease expired at the cut is free (in its half: upper)');
  t.ok(lower(offered, 'c-offer'), 'an address only offered at the cut, in the own half, may still be given');
  t.notOk(lower(toNumber('10.3.21.1'), 'x') || upper(toNumber('10.3.21.1'), 'x'), 'an address in no dynamic range: never');
  t.notOk(lower(toNumber('10.2.2.120'), 'x') || upper(toNumber('10.2.2.120'), 'x'), "a range that is not in the guard's list (another subnet's pool): never");
});

t.test('a lease the partner was told of stays held even where memory let it go (an offer of another address)', async (t) => {
  const pool = range(toNumber('10.3.20.1'), toNumber('10.3.20.200'));
  const address = toNumber('10.3.20.6');
  const memory = new LeaseTable();
  const told = new LeaseTable();
  for (const table of [memory, told]) table.apply({ op: 'bind', address, client: 'c-6e', expires: NOW + 60_000, label: '', hw: '' });
  // The client asks again and is offered another address: in memory its bound lease goes.
  memory.apply({ op: 'offer', address: toNumber('10.3.20.67'), client: 'c-6e', until: NOW + 5_000, label: '', hw: '' });
  t.notOk([...memory.bound(NOW)].some((l) => l.address === address), 'memory no longer holds it');
  const lower = partnerDownGuard([pool], 'lower', cutStateOf(memory, NOW, new Set(), told));
  t.notOk(lower(address, 'c-12'), 'not given to another client: the partner may renew it for c-6e');
  t.ok(lower(address, 'c-6e'), 'its holder may still have it');
  const blind = partnerDownGuard([pool], 'lower', cutStateOf(memory, NOW, new Set()));
  t.ok(blind(address, 'c-12'), 'from memory alone it would be given away (what the partner view prevents)');
});

t.test('a one-address range: the preferred server may give it, the other never', async (t) => {
  const r = range(toNumber('10.1.1.9'), toNumber('10.1.1.9'));
  t.ok(partnerDownGuard([r], 'lower', emptyCut())(r.start, 'x'));
  t.notOk(partnerDownGuard([r], 'upper', emptyCut())(r.start, 'x'));
});

t.test('property: two servers under the guard from one cut never give one address to two clients', async () => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.nat({ max: 40 }), fc.nat({ max: 40 })), { maxLength: 20 }),
    fc.array(fc.tuple(fc.boolean(), fc.nat({ max: 40 }), fc.nat({ max: 12 })), { maxLength: 200 }),
    fc.nat({ max: 40 }), fc.nat({ max: 40 }),
    (known, asks, a, b) => {
      const r = range(1000 + Math.min(a, b), 1000 + Math.max(a, b));
      // The table both had at the cut (one lease per address and per client).
      const cutTable = new LeaseTable();
      for (const [addr, client] of known) cutTable.apply({ op: 'bind', address: 1000 + addr, client: `c${client}`, expires: NOW + 60_000, label: '', hw: '' });
      const cut = cutStateOf(cutTable, NOW, new Set());
      // Each side goes on alone with its own copy of that table: it gives an address when its
      // table has no other holder for it and the guard allows it (what respond() asks of both).
      const sides = (['lower', 'upper'] as const).map((half) => {
        const table = new LeaseTable();
        for (const l of cutTable.bound(NOW)) table.apply({ op: 'bind', address: l.address, client: l.client, expires: l.expires, label: '', hw: '' });
        return { guard: partnerDownGuard([r], half, cut), table, given: new Map<number, Set<string>>() };
      });
      for (const [lowerSide, addr, n] of asks) {
        const side = sides[lowerSide ? 0 : 1]!;
        const address = 1000 + addr;
        const client = `c${n}`;
        if (!side.table.isAvailable(address, client, NOW) || !side.guard(address, client)) continue;
        side.table.apply({ op: 'bind', address, client, expires: NOW + 60_000, label: '', hw: '' });
        const s = side.given.get(address) ?? new Set<string>();
        s.add(client);
        side.given.set(address, s);
      }
      // An address either side gave is given by the other side only to the same one client
      // (the holder at the cut renewing it on both sides).
      for (const [address, clients] of sides[0]!.given) {
        const other = sides[1]!.given.get(address);
        if (other && new Set([...clients, ...other]).size > 1) return false;
      }
      return true;
    },
  ), { numRuns: 500 });
});

t.test('a client the guard keeps off its own lease is offered another address, and the old lease is released durably', async (t) => {
  // Without the durable release, memory let the old lease go (one lease per client) while the
  // lease log, and the partner, kept it: after a heal the two tables differed, and at the next
  // cut this server gave the address away while the partner could renew it for its holder.
  const config = exampleConfig({ pools: { 0: { start: '10.1.1.100', end: '10.1.1.150' } } });
  const table = new LeaseTable();
  const now = Date.UTC(2026, 0, 1);
  const mac = '02:10:00:00:00:42';
  const old = toNumber('10.1.1.100');
  const ctx = { config, leases: table, now, policy: DEFAULT_POLICY, ownAddresses: new Set(['10.1.1.1']), from: '0.0.0.0' };
  const first = respond(request({ type: MESSAGE_TYPE.DISCOVER, mac }), ETH0, ctx);
  const key = (first.ops.find((o) => o.op === 'offer') as { client: string }).client;
  table.apply({ op: 'bind', address: old, client: key, expires: now + 60_000, label: '', hw: mac });
  const d = respond(request({ type: MESSAGE_TYPE.DISCOVER, mac }), ETH0, { ...ctx, mayAllocate: (a: number) => a !== old });
  const offer = d.ops.find((o) => o.op === 'offer') as { address: number } | undefined;
  t.ok(offer && offer.address !== old, 'offered another address');
  t.same(d.ops.filter(isDurable), [{ op: 'release', address: old, client: key }], 'and the old lease released durably (written, and sent to the partner)');
  const same = respond(request({ type: MESSAGE_TYPE.DISCOVER, mac }), ETH0, ctx);
  t.same(same.ops.filter(isDurable), [], 'an offer of the address it holds releases nothing');
});
