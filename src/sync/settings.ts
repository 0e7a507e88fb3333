// A pair's settings from serve's flags: checked together, so a half-configured pair is refused
// at start with a message naming the flag.

import { UsageError } from '../errors.js';
import type { Endpoint, PairSettings, SyncMode } from './pair.js';

export const DEFAULT_SYNC_PORT = 6767;

export interface PairFlags {
  pairName?: string;
  pairListen?: string;
  pairPeer?: string;
  pairPath: string[];
  pairSecretFile?: string;
  pairMode: string;
  pairPreferred?: boolean;
  serviceAddress?: string;
  pairHeartbeatMs: number;
  pairDeadMs: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function parseEndpoint(flag: string, text: string): Endpoint {
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(text);
  const port = m?.[2] === undefined ? DEFAULT_SYNC_PORT : Number(m[2]);
  if (!m || !IPV4.test(m[1]!) || port < 1 || port > 65535) throw new UsageError(`${flag}: expected an IPv4 address with an optional port (10.9.0.1:${DEFAULT_SYNC_PORT}), got ${JSON.stringify(text)}`);
  return { host: m[1]!, port };
}

export function parseServiceAddress(text: string): { address: string; prefixLength: number } {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(text);
  if (!m || !IPV4.test(m[1]!) || Number(m[2]) > 32) throw new UsageError(`--service-address: expected an IPv4 address with its prefix length (10.1.1.250/24), got ${JSON.stringify(text)}`);
  return { address: m[1]!, prefixLength: Number(m[2]) };
}

/** undefined when no pair flag is given; else complete settings minus the secret (read by the caller). */
export function pairSettingsFromFlags(f: PairFlags): (Omit<PairSettings, 'secret'> & { secretFile: string }) | undefined {
  const given = [f.pairListen, f.pairPeer, f.pairSecretFile, f.serviceAddress].some((v) => v !== undefined) || f.pairPath.length > 0 || f.pairPreferred === true;
  if (f.pairName === undefined) {
    if (given) throw new UsageError('--pair-* flags and --service-address need --pair-name (this server is then one of a pair)');
    return undefined;
  }
  if (f.pairListen === undefined) throw new UsageError('--pair-name needs --pair-listen (this server\'s sync endpoint)');
  if (f.pairPeer === undefined) throw new UsageError('--pair-name needs --pair-peer (the partner\'s sync endpoint)');
  if (f.pairSecretFile === undefined) throw new UsageError('--pair-name needs --pair-secret-file (the shared secret, in a file)');
  if (f.pairMode !== 'sync' && f.pairMode !== 'async') throw new UsageError(`--pair-mode: expected sync or async, got ${JSON.stringify(f.pairMode)}`);
  for (const p of f.pairPath) if (!IPV4.test(p)) throw new UsageError(`--pair-path: expected an IPv4 address, got ${JSON.stringify(p)}`);
  if (f.pairDeadMs < 3 * f.pairHeartbeatMs) throw new UsageError(`--pair-dead-ms (${f.pairDeadMs}) must be at least three heartbeats (3 × ${f.pairHeartbeatMs} ms)`);
  return {
    name: f.pairName,
    preferred: f.pairPreferred === true,
    listen: parseEndpoint('--pair-listen', f.pairListen),
    partner: parseEndpoint('--pair-peer', f.pairPeer),
    paths: f.pairPath,
    secretFile: f.pairSecretFile,
    mode: f.pairMode as SyncMode,
    heartbeatMs: f.pairHeartbeatMs,
    partnerDeadMs: f.pairDeadMs,
    // The active must notice a dead connection (and serve alone) well before the standby takes over.
    sessionDeadMs: Math.max(2 * f.pairHeartbeatMs, Math.floor(f.pairDeadMs * 0.6)),
    ackTimeoutMs: Math.max(2 * f.pairHeartbeatMs, Math.floor(f.pairDeadMs * 0.6)),
  };
}
