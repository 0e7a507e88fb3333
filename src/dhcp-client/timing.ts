// RFC 2131 timing as named functions (the systemd sd-dhcp-client idea): retransmission backoff
// (§4.1), T1/T2 defaults (§4.4.5), and the waits between retransmissions while RENEWING and
// REBINDING (§4.4.5). Pure: the random draw comes in as an argument.

import { INFINITE_LEASE } from '../dhcp-packet/index.js';

export interface TimingConfig {
  /** First retransmission delay: 4 s (RFC 2131 §4.1). A LAN agent can use far less. */
  retransmitBaseMs: number;
  /** The doubling stops here: 64 s (RFC 2131 §4.1). Default 16 × base. */
  retransmitMaxMs: number;
  /** Each delay is randomized by ±this: 1 s (RFC 2131 §4.1). Default base / 4. */
  jitterMs: number;
  /** REQUESTs sent in REQUESTING or REBOOTING before giving up and restarting in INIT (RFC 2131 §3.1 step 5, §3.2 step 5). */
  requestTries: number;
  /** Shortest wait between REQUESTs while RENEWING/REBINDING: 60 s (RFC 2131 §4.4.5). */
  minRenewRetransmitMs: number;
  /** Wait after a DECLINE before DISCOVER again: at least 10 s (RFC 2131 §3.1 step 5). */
  declineRestartMs: number;
}

/** RFC 2131 §4.1: first retransmission after 4 s. */
export const RFC_RETRANSMIT_BASE_MS = 4_000;
/** RFC 2131 §4.1: doubling up to 64 s. */
export const RFC_RETRANSMIT_MAX_MS = 64_000;
/** RFC 2131 §4.1: randomized by a uniform number in −1..+1 seconds. */
export const RFC_JITTER_MS = 1_000;
/** RFC 2131 §4.4.5: "down to a minimum of 60 seconds". */
export const RFC_MIN_RENEW_RETRANSMIT_MS = 60_000;
/** RFC 2131 §3.1 step 5: "SHOULD wait a minimum of ten seconds" after DECLINE. */
export const RFC_DECLINE_RESTART_MS = 10_000;
/** RFC 2131 §4.4.5: T1 defaults to 0.5 × lease duration. */
export const T1_FRACTION = 0.5;
/** RFC 2131 §4.4.5: T2 defaults to 0.875 × lease duration. */
export const T2_FRACTION = 0.875;

/** The RFC's numbers. 5 REQUESTs: 4+8+16+32 s ≈ one minute of silence before restarting. */
export const RFC_TIMING: Readonly<TimingConfig> = Object.freeze({
  retransmitBaseMs: RFC_RETRANSMIT_BASE_MS,
  retransmitMaxMs: RFC_RETRANSMIT_MAX_MS,
  jitterMs: RFC_JITTER_MS,
  requestTries: 5,
  minRenewRetransmitMs: RFC_MIN_RENEW_RETRANSMIT_MS,
  declineRestartMs: RFC_DECLINE_RESTART_MS,
});

/**
 * The RFC timing with some values replaced. A different `retransmitBaseMs` scales the maximum
 * (×16) and the jitter (÷4) with it unless those are given too, so `{ retransmitBaseMs: 250 }`
 * is the RFC's curve, sixteen times faster.
 */
export function resolveTiming(overrides: Partial<TimingConfig> = {}): TimingConfig {
  const base = overrides.retransmitBaseMs ?? RFC_RETRANSMIT_BASE_MS;
  const scale = base / RFC_RETRANSMIT_BASE_MS;
  return {
    retransmitBaseMs: base,
    retransmitMaxMs: overrides.retransmitMaxMs ?? RFC_RETRANSMIT_MAX_MS * scale,
    jitterMs: overrides.jitterMs ?? RFC_JITTER_MS * scale,
    requestTries: overrides.requestTries ?? RFC_TIMING.requestTries,
    minRenewRetransmitMs: overrides.minRenewRetransmitMs ?? RFC_MIN_RENEW_RETRANSMIT_MS,
    declineRestartMs: overrides.declineRestartMs ?? RFC_DECLINE_RESTART_MS,
  };
}

/**
 * RFC 2131 §4.1: the wait before retransmission number `attempt` + 1 (attempt 0 = after the
 * first send): base × 2^attempt, capped at the maximum, plus a uniform jitter in ±jitterMs.
 * `random` is a draw in [0, 1). Never below 1 ms.
 */
export function retransmitDelay(attempt: number, timing: TimingConfig, random: number): number {
  const doubled = timing.retransmitBaseMs * 2 ** Math.min(Math.max(0, attempt), 30);
  const capped = Math.min(doubled, timing.retransmitMaxMs);
  const jitter = (random * 2 - 1) * timing.jitterMs;
  return Math.max(1, Math.round(capped + jitter));
}

/** An infinite lease (RFC 2131 §3.3: 0xffffffff) never needs renewing. */
export function isInfinite(seconds: number): boolean {
  return seconds >= INFINITE_LEASE;
}

/** RFC 2131 §4.4.5: T1 = 0.5 × lease when the server sends no option 58. Seconds. */
export function defaultRenewalTime(leaseSeconds: number): number {
  return isInfinite(leaseSeconds) ? INFINITE_LEASE : Math.floor(leaseSeconds * T1_FRACTION);
}

/** RFC 2131 §4.4.5: T2 = 0.875 × lease when the server sends no option 59. Seconds. */
export function defaultRebindingTime(leaseSeconds: number): number {
  return isInfinite(leaseSeconds) ? INFINITE_LEASE : Math.floor(leaseSeconds * T2_FRACTION);
}

/**
 * T1 and T2 for a lease: the server's options 58/59 when they make sense (T1 < T2 < lease, as
 * RFC 2131 §4.4.5 orders them), else the defaults. Seconds.
 */
export function leaseTimers(leaseSeconds: number, t1?: number, t2?: number): { t1: number; t2: number } {
  if (isInfinite(leaseSeconds)) return { t1: INFINITE_LEASE, t2: INFINITE_LEASE };
  const rebind = t2 !== undefined && t2 > 0 && t2 < leaseSeconds ? t2 : defaultRebindingTime(leaseSeconds);
  const renew = t1 !== undefined && t1 > 0 && t1 < rebind ? t1 : defaultRenewalTime(leaseSeconds);
  // A server's T2 below the default T1 would still leave T1 ≥ T2; renew at half of T2 then.
  return { t1: renew < rebind ? renew : Math.floor(rebind / 2), t2: rebind };
}

/**
 * RFC 2131 §4.4.5: while RENEWING (until T2) or REBINDING (until the lease ends), wait half the
 * time left, but at least `minRenewRetransmitMs`. Undefined when that wait would reach `deadline`:
 * the T2 or expiry timer takes over then.
 */
export function renewRetransmitDelay(now: number, deadline: number, timing: TimingConfig): number | undefined {
  const left = deadline - now;
  const wait = Math.max(left / 2, timing.minRenewRetransmitMs);
  return wait < left ? Math.round(wait) : undefined;
}
