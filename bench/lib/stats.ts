// Small statistics for the bench: medians across repetitions, percentiles of latencies. Pure.

/** Median; the mean of the two middle values for an even count. null for no values. */
export function median(values: readonly number[]): number | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

/** Median of the values that exist (skips null); null when none do. */
export function medianOf(values: ReadonlyArray<number | null | undefined>): number | null {
  return median(values.filter((x): x is number => typeof x === 'number'));
}

/**
 * Nearest-rank percentile (the smallest value with at least p% of the samples at or below it),
 * so p99 is always a latency some exchange really had. `sorted` must be ascending.
 */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile ${p} outside (0, 100]`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

export interface LatencySummary {
  count: number;
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarizeLatencies(ms: readonly number[]): LatencySummary | null {
  if (ms.length === 0) return null;
  const sorted = Float64Array.from(ms).sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    count: sorted.length,
    avgMs: sum / sorted.length,
    p50Ms: percentileSorted(sorted, 50) as number,
    p99Ms: percentileSorted(sorted, 99) as number,
    maxMs: sorted[sorted.length - 1] as number,
  };
}
