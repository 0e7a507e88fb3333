// What a server pair (src/sync) plugs into the server: whether to answer at all (a standby does
// not), which dynamic addresses it may give while its partner is not heard, the service address
// to name in option 54, and the partner's acknowledgment a reply waits for besides the disk.
// The server knows nothing else about pairs.

import type { DurableOp } from './lease-table.js';

export interface PairHooks {
  /** False while this server is the standby (or still copying its partner's table): requests are dropped. */
  answering(): boolean;
  /** A guard for dynamic addresses while the partner is not heard; undefined when every address may go. */
  guard(): ((address: number, client: string) => boolean) | undefined;
  /** The service address this server holds now (option 54 where it is on the ingress interface). */
  serviceAddress(): string | undefined;
  /**
   * Sends durable lease changes to the partner. `done` runs once the partner has them on its disk
   * (or at once, in asynchronous mode or while the partner is away), with an error when they
   * cannot be confirmed: the reply is then not sent.
   */
  replicate(ops: readonly DurableOp[], now: number, done: (err?: Error) => void): void;
}
