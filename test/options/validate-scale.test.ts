// Validation is linear in servers, tables, subnets and addresses: the rules' lookups and
// comparisons (ruleWork) and the size of what they report grow with the description, not with its
// square. Each case once took quadratic work: servers sharing a table were compared pairwise
// (10,000 servers: 50 M pairs, 18.6 s), every address was tested against every subnet and every
// range against every address, and a duplicate address named every other holder in each message.
import t from 'tap';
import { ConfigError, formatProblem } from '../../src/errors.js';
import { loadClusterText } from '../../src/options/load.js';
import { ruleWork } from '../../src/options/rules/ip.js';
import { describeSharedTable } from '../../bench/validate-scale.js';

/** Work and findings of one validation. */
function validate(text: string): { work: number; problems: string[] } {
  const before = ruleWork.lookups + ruleWork.comparisons;
  let problems: string[] = [];
  try {
    loadClusterText(text, 'scale.yaml');
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems = e.problems.map(formatProblem);
  }
  return { work: ruleWork.lookups + ruleWork.comparisons - before, problems };
}

t.test('10,000 servers sharing one table: valid, work linear in servers', async (t) => {
  const n = 10_000;
  const r = validate(describeSharedTable(n));
  t.same(r.problems, [], 'valid');
  // Per server: one comparison per host filer (2) and one subnet lookup per address and gateway.
  t.ok(r.work <= 10 * n, `${r.work} lookups and comparisons for ${n} servers (pairs would be ${((n * (n - 1)) / 2).toLocaleString('en')})`);
});

t.test('servers sharing a table with different gateways: each conflict reported once, naming the earliest', async (t) => {
  const n = 2_000;
  const r = validate(describeSharedTable(n, { gateways: 2 }));
  const conflicts = r.problems.filter((p) => p.includes('shares table 7'));
  t.equal(conflicts.length, n - 1, 'every server but the first, once');
  t.match(conflicts[0], /vservers\.V1\.gateway: V1 shares table 7 with V0 and both can run on F0, F1, but their gateways differ \(10\.128\.0\.2 vs 10\.128\.0\.1\)/);
  t.match(conflicts[1], /V2 shares table 7 with V1 .*\(10\.128\.0\.1 vs 10\.128\.0\.2\)/, 'the earliest server that disagrees');
  t.ok(r.work <= 10 * n, `${r.work} lookups and comparisons`);
});

t.test('one address held by 2,000 servers: a line per holder, each naming at most 5 others', async (t) => {
  const n = 2_000;
  const r = validate(describeSharedTable(n, { sameAddress: true }));
  const dups = r.problems.filter((p) => p.includes('no two interfaces may share an IP address'));
  t.equal(dups.length, n);
  t.match(dups[0], /10\.128\.0\.10 is also data0:V1:0, data0:V2:0, data0:V3:0, data0:V4:0, data0:V5:0 and 1994 more: /);
  const bytes = r.problems.reduce((s, p) => s + p.length, 0);
  t.ok(bytes <= 300 * n, `${bytes} bytes of problems for ${n} holders (every other named: ~${((n * n * 12) / 1e6).toFixed(0)} MB)`);
});

t.test('1,000 subnets with pools and an address in each: lookups linear in addresses and ranges', async (t) => {
  const n = 1_000;
  const r = validate(describeSharedTable(n, { subnets: n }));
  const inPool = r.problems.filter((p) => p.includes('includes reserved'));
  t.equal(inPool.length, n, 'every pool holds its server address');
  // Per address: one lookup per distinct prefix length (3); per range: two binary searches.
  t.ok(r.work <= 10 * n + 2 * n * Math.ceil(Math.log2(4 * n)), `${r.work} lookups and comparisons (every address against every subnet: ${(n * n).toLocaleString('en')})`);
});
