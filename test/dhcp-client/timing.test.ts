// RFC 2131 timing functions: §4.1 backoff bounds and §4.4.5 T1/T2 defaults and retransmission waits.

import fc from 'fast-check';
import t from 'tap';
import {
  defaultRebindingTime, defaultRenewalTime, leaseTimers, renewRetransmitDelay, resolveTiming, retransmitDelay, RFC_TIMING,
} from '../../src/dhcp-client/timing.js';

t.test('RFC defaults', async (t) => {
  t.same(resolveTiming(), RFC_TIMING);
  t.match(RFC_TIMING, { retransmitBaseMs: 4000, retransmitMaxMs: 64000, jitterMs: 1000, minRenewRetransmitMs: 60000, declineRestartMs: 10000 });
  t.same(resolveTiming({ retransmitBaseMs: 100 }), { ...RFC_TIMING, retransmitBaseMs: 100, retransmitMaxMs: 1600, jitterMs: 25 }, 'max and jitter scale with the base');
  t.equal(resolveTiming({ retransmitBaseMs: 100, jitterMs: 0, retransmitMaxMs: 150 }).retransmitMaxMs, 150, 'explicit values win');
});

t.test('every delay lies in base·2^n ± jitter, capped: for any draw', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 40 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
      const d = retransmitDelay(attempt, RFC_TIMING, r);
      const nominal = Math.min(4000 * 2 ** attempt, 64000);
      return d >= nominal - 1000 && d <= nominal + 1000;
    }),
  );
  t.equal(retransmitDelay(0, RFC_TIMING, 0), 3000);
  t.equal(retransmitDelay(4, RFC_TIMING, 0.5), 64000);
  t.equal(retransmitDelay(99, RFC_TIMING, 0.5), 64000);
  t.equal(retransmitDelay(0, resolveTiming({ retransmitBaseMs: 1, jitterMs: 10 }), 0), 1, 'never below 1 ms');
});

t.test('T1 = 0.5, T2 = 0.875 of the lease; infinite stays infinite', async (t) => {
  t.equal(defaultRenewalTime(3600), 1800);
  t.equal(defaultRebindingTime(3600), 3150);
  t.same(leaseTimers(3600), { t1: 1800, t2: 3150 });
  t.same(leaseTimers(0xffffffff), { t1: 0xffffffff, t2: 0xffffffff });
  t.same(leaseTimers(4, 1, 2), { t1: 1, t2: 2 });
  t.same(leaseTimers(4, 0, 0), { t1: 2, t2: 3 }, 'zero is not a usable T1/T2');
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 2 ** 31 }), fc.option(fc.nat()), fc.option(fc.nat()), (lease, a, b) => {
      const { t1, t2 } = leaseTimers(lease, a ?? undefined, b ?? undefined);
      return t1 < t2 && t2 < lease;
    }),
    { numRuns: 500 },
  );
});

t.test('RENEWING/REBINDING wait: half the time left, at least the minimum, undefined past the deadline', async (t) => {
  t.equal(renewRetransmitDelay(0, 1_000_000, RFC_TIMING), 500_000);
  t.equal(renewRetransmitDelay(0, 100_000, RFC_TIMING), 60_000);
  t.equal(renewRetransmitDelay(0, 60_000, RFC_TIMING), undefined);
  t.equal(renewRetransmitDelay(0, Infinity, RFC_TIMING), undefined, 'no deadline: nothing to pace against');
});
