// What the agent runs on: the command runner (net/runner.ts, optionally aimed at a network
// namespace) and the per-interface DHCP sockets, so the CLI builds them through the bootstrap
// (house boundaries: cli imports bootstrap, not net or dhcp-client).
import { TransportPool } from '../dhcp-client/index.js';
import { makeRunner, type Runner } from '../net/runner.js';
import type { AgentLog } from './agent-log.js';

export { FEATURE_FLAG, FEATURE_NAMES, type Feature } from '../net/features.js';

export interface AgentRuntime {
  runner: Runner;
  pool: TransportPool;
  netns: string | undefined;
}

export function makeAgentRuntime(opts: { netns?: string | undefined; log?: AgentLog } = {}): AgentRuntime {
  return {
    runner: makeRunner(opts.netns === undefined ? {} : { netns: opts.netns }),
    pool: new TransportPool(opts.log === undefined ? {} : { log: opts.log.dhcp }),
    netns: opts.netns,
  };
}
