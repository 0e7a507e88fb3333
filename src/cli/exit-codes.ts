// The CLI's exit codes, one table for main.ts (which alone exits) and the manual pages.
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** `rackstrap status`: no agent runs on this host (as `systemctl status` and LSB init scripts say). */
export const EXIT_NOT_RUNNING = 3;
/** `rackstrap agent --once`: the stack is up, but some aliases have no address yet. */
export const EXIT_ADDRESSES_MISSING = 4;
/** A bug in rackstrap (sysexits EX_SOFTWARE). */
export const EXIT_BUG = 70;

export const EXIT_CODES: ReadonlyArray<{ code: number; meaning: string }> = [
  { code: EXIT_OK, meaning: 'success' },
  { code: EXIT_FAILURE, meaning: 'failure the operator can act on: an invalid description, a step that failed, no DHCP answer and no cache; the message says which' },
  { code: EXIT_USAGE, meaning: 'usage error: unknown command or option, missing or bad argument' },
  { code: EXIT_NOT_RUNNING, meaning: 'status: no agent is running on this host (what it last wrote is still shown)' },
  { code: EXIT_ADDRESSES_MISSING, meaning: 'agent --once: the filer is up, but some aliases have no address yet (they are named)' },
  { code: EXIT_BUG, meaning: 'internal error: a bug in rackstrap, please report it with the message' },
];
