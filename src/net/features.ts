// Per-feature switches, in the manner of seed 004's `--disable-sync-*` / `--sync-mask`: a site that
// manages one layer itself (its own bonds, its own firewall) switches that layer off and rackstrap
// neither creates, changes nor removes anything of it. A switched-off layer is reported as a skip
// with a reason, never dropped silently.
import { UsageError } from '../errors.js';

/** Bit per feature; a mask lists the features that are ON (seed 004: "the list of features to synchronize"). */
export const FEATURE_BITS = {
  bond: 0x1,
  failover: 0x2,
  vlan: 0x4,
  alias: 0x8,
  address: 0x10,
  routing: 0x20,
  accounting: 0x40,
} as const;

export type Feature = keyof typeof FEATURE_BITS;
export type Features = Readonly<Record<Feature, boolean>>;

export const FEATURE_NAMES = Object.keys(FEATURE_BITS) as Feature[];
export const ALL_FEATURES_MASK = FEATURE_NAMES.reduce((m, f) => m | FEATURE_BITS[f], 0);
export const ALL_FEATURES: Features = featuresFromMask(ALL_FEATURES_MASK);

/** The command-line switch that turns a feature off; quoted in skip reasons so the operator can find it. */
export const FEATURE_FLAG: Readonly<Record<Feature, string>> = {
  bond: '--no-bond',
  failover: '--no-failover',
  vlan: '--no-vlan',
  alias: '--no-alias',
  address: '--no-address',
  routing: '--no-routing',
  accounting: '--no-accounting',
};

export function featuresFromMask(mask: number): Features {
  if (!Number.isInteger(mask) || mask < 0 || (mask & ~ALL_FEATURES_MASK) !== 0) {
    throw new UsageError(
      `feature mask 0x${mask.toString(16)} has bits outside 0x${ALL_FEATURES_MASK.toString(16)} (${describeBits()})`,
    );
  }
  const out = {} as Record<Feature, boolean>;
  for (const f of FEATURE_NAMES) out[f] = (mask & FEATURE_BITS[f]) !== 0;
  return out;
}

export function featuresToMask(features: Features): number {
  return FEATURE_NAMES.reduce((m, f) => (features[f] ? m | FEATURE_BITS[f] : m), 0);
}

/** "0x3f", "63", "0b1111111" -> number; anything else is a usage error naming the bits. */
export function parseFeatureMask(text: string): number {
  const t = text.trim();
  if (!/^(0x[0-9a-f]+|0b[01]+|0o[0-7]+|[0-9]+)$/i.test(t)) {
    throw new UsageError(`feature mask "${text}" is not a number (${describeBits()})`);
  }
  return Number(t);
}

/**
 * The switches in effect: start from a mask (default: everything on) and turn off each feature
 * named in `disable` (the `--no-*` flags). Both may be given; `--no-x` always wins.
 */
export function resolveFeatures(opts: { mask?: number | string; disable?: Iterable<Feature> } = {}): Features {
  const mask = opts.mask === undefined ? ALL_FEATURES_MASK : typeof opts.mask === 'string' ? parseFeatureMask(opts.mask) : opts.mask;
  const out = { ...featuresFromMask(mask) };
  for (const f of opts.disable ?? []) {
    if (!(f in FEATURE_BITS)) throw new UsageError(`unknown feature "${String(f)}" (${describeBits()})`);
    out[f] = false;
  }
  return out;
}

function describeBits(): string {
  return FEATURE_NAMES.map((f) => `${f} 0x${FEATURE_BITS[f].toString(16)}`).join(', ');
}
