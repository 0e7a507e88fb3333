// The server's protocol timers and their defaults (a module of its own: the CLI shows the defaults
// in --help without loading the server).
/** Timers of the protocol, seconds. */
export interface Policy {
  /** How long an offered address stays promised to the client (RFC 2131 §4.3.1 leaves it to the server). */
  readonly offerHoldS: number;
  /** How long a DECLINEd address is not handed out (RFC 2131 §4.3.3 "mark the network address as not available"). */
  readonly declineQuarantineS: number;
  /** Lease of a bootstrap address, when a client REQUESTs its topology OFFER (dhclient does; the agent does not). */
  readonly bootstrapLeaseS: number;
}

/**
 * Longest a reload of the description may take, seconds: every file it reads is size-capped, so
 * only something like a hung file system reaches it, and then the next reload must not queue
 * behind it forever. The largest description takes seconds. `serve --reload-timeout` sets it.
 */
export const DEFAULT_RELOAD_TIMEOUT_S = 120;

export const DEFAULT_POLICY: Policy = { offerHoldS: 60, declineQuarantineS: 600, bootstrapLeaseS: 300 };
