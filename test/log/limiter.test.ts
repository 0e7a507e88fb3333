// One mechanism for lines per key and interval, two treatments of a line that comes too soon:
// held and written later with its count (LineLimiter), or left out and counted (LogLimiter).
// Both bound their keys: past the limit, new sources share one key, per kind for LogLimiter.
import t from 'tap';
import { LineLimiter, LogLimiter } from '../../src/log/limiter.js';

t.test('LogLimiter: the first line of a key at once, the rest of its interval counted', async (t) => {
  let now = 0;
  const l = new LogLimiter({ intervalMs: 1000, maxKeys: 3, clock: () => now });
  t.equal(l.admit('declined', 'relay A'), 0);
  t.equal(l.admit('declined', 'relay A'), undefined);
  t.equal(l.admit('declined', 'relay B'), 0, 'another source: its own line');
  t.equal(l.admit('bad-relay', 'relay A'), 0, 'another kind: its own line');
  // Full (3 keys, each with its interval running): a new source of a kind shares that kind's key.
  t.equal(l.admit('declined', 'relay C'), 0, 'the shared key of "declined": its first line');
  t.equal(l.admit('declined', 'relay D'), undefined, 'a fourth source shares it');
  t.same(l.takeSuppressed(), { counts: { 'declined from relay A': 1, 'declined from (other sources)': 1 }, total: 2 });
  t.equal(l.takeSuppressed(), undefined, 'reported once');
  // Past the interval, idle keys are forgotten to make room: a new source has its own key again.
  now = 1000;
  t.equal(l.admit('declined', 'relay E'), 0);
  t.equal(l.admit('declined', 'relay E'), undefined);
  t.same(l.takeSuppressed(), { counts: { 'declined from relay E': 1 }, total: 1 });
});

t.test('LineLimiter: a held line stands for those it replaced; past the key limit one key is shared by all kinds', async (t) => {
  let now = 0;
  const out: Array<[string, number]> = [];
  const l = new LineLimiter<string>({ intervalMs: 60_000, maxKeys: 2, clock: () => now, emit: (line, n) => out.push([line, n]) });
  l.add('a', 'a1');
  l.add('a', 'a2');
  l.add('a', 'a3');
  l.add('b', 'b1');
  l.add('c', 'c1');
  l.add('d', 'd1');
  t.same(out, [['a1', 0], ['b1', 0], ['c1', 0]], 'first lines at once; c and d share the overflow key');
  now = 1;
  l.flush();
  t.same(out.slice(3), [['a3', 1], ['d1', 0]], 'the latest held line of each key, with the count it stands for');
});
