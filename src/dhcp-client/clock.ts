// Time and randomness for the DHCP client, injected so tests can drive a fake clock (house style:
// timers are an interface, like systemd's link-time overrides).

import { randomBytes } from 'node:crypto';

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds; only differences and comparisons with it matter. */
  now(): number;
  /** Calls `fn` once at clock time `at` (at once when `at` is past). */
  setTimer(at: number, fn: () => void): Timer;
}

/** setTimeout takes at most 2^31 − 1 ms (~24.8 days); longer waits are chained. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Wall-clock time (Date.now, so lease times read as real instants) and setTimeout. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(at, fn) {
    let handle: NodeJS.Timeout | undefined;
    const arm = (): void => {
      const wait = at - Date.now();
      if (wait <= 0) {
        handle = undefined;
        fn();
        return;
      }
      handle = setTimeout(arm, Math.min(wait, MAX_TIMEOUT_MS));
    };
    handle = setTimeout(arm, Math.min(Math.max(0, at - Date.now()), MAX_TIMEOUT_MS));
    return {
      cancel: () => {
        if (handle !== undefined) clearTimeout(handle);
        handle = undefined;
      },
    };
  },
};

/**
 * A uniform draw in [0, 1) from the system CSPRNG: xids must not be guessable, or anyone on the
 * segment could answer our exchanges (RFC 2131 §7 leaves this to the client).
 */
export function secureRandom(): number {
  return randomBytes(4).readUInt32BE(0) / 0x1_0000_0000;
}
