// Small readers of the server's tables, apart from the code that builds them (config.ts), so the
// answering path loads none of the description's schema.

import type { ServerConfig, SubnetConfig } from './config.js';

/** The subnet holding `address`, or undefined. */
export function subnetOf(config: ServerConfig, address: number): SubnetConfig | undefined {
  for (const s of config.subnets) if (((address & s.mask) >>> 0) === s.network) return s;
  return undefined;
}

/** Counts for the start-up and reload log lines. */
export function describeConfig(config: ServerConfig): Record<string, number | string | undefined> {
  return {
    file: config.file,
    cluster: config.clusterName,
    generation: config.generation,
    subnets: config.subnets.length,
    reservations: config.reservations.size,
    topologies: config.topologies.size,
    pools: config.subnets.filter((s) => s.pool).length,
    bootstrapRanges: config.subnets.filter((s) => s.bootstrap).length,
    keyId: config.keyFingerprint,
  };
}
