// The join exchange: one JSON line each way inside the pinned TLS session.
//   filer -> cluster   JoinRequest   (code id, proof, base MAC, the filer's clock)
//   cluster -> filer   JoinResponse  (the bundle, or why not, with the cluster's clock)
import { z } from 'zod';
import { Mac } from '../options/schema.js';

export const PROTOCOL_VERSION = 1;
/** A line longer than this is refused unread (the request is ~200 bytes; a bundle a few KiB). */
export const MAX_REQUEST_BYTES = 4096;
export const MAX_RESPONSE_BYTES = 1 << 20;
/** Clocks further apart than this are a failure of their own (the code's expiry means nothing then). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
export const DEFAULT_JOIN_PORT = 7443;

export const JoinRequest = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  id: z.string().regex(/^[0-9a-f]{8}$/),
  proof: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  baseMac: Mac,
  /** The filer's clock, ms since the epoch. */
  time: z.number().int(),
});
export type JoinRequest = z.infer<typeof JoinRequest>;

export const JOIN_FAILURES = ['expired', 'used', 'revoked', 'wrong-code', 'unknown-code', 'rate-limited', 'clock-skew', 'unknown-filer', 'bad-request'] as const;
export type JoinFailure = (typeof JOIN_FAILURES)[number];

export const JoinBundle = z.strictObject({
  format: z.literal(1),
  cluster: z.strictObject({ name: z.string(), id: Mac }),
  /** This filer's name in the description. */
  filer: z.string(),
  caCert: z.string().startsWith('-----BEGIN CERTIFICATE-----'),
  caFingerprint: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  /** base64 of the cluster key (signs every topology). */
  clusterKey: z.string().min(1),
  /** base64 of the heartbeat secret. */
  heartbeatSecret: z.string().min(1),
  /** Filers in the description. */
  members: z.int().min(1),
  /** This filer's part of the description: its entry under `filers`. */
  description: z.record(z.string(), z.unknown()),
});
export type JoinBundle = z.infer<typeof JoinBundle>;

export const JoinResponse = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true), time: z.number().int(), bundle: JoinBundle }),
  z.strictObject({
    ok: z.literal(false),
    time: z.number().int(),
    failure: z.enum(JOIN_FAILURES),
    /** For expired/used/revoked: when it happened (ISO). */
    at: z.string().optional(),
    retryAfterSec: z.int().optional(),
  }),
]);
export type JoinResponse = z.infer<typeof JoinResponse>;
