// Command line of bench/dhcp-throughput.ts. Pure: argv in, options or UsageError out.
import { parseArgs } from 'node:util';
import { UsageError } from '../../src/errors.js';

export interface BenchOptions {
  /** perfdhcp test period per run, whole seconds. */
  periodS: number;
  /**
   * Offered rates for the max-throughput runs; the best median ACK rate among them counts.
   * 'auto': per server, the first step of a doubling ladder that saturates it (see LADDER).
   */
  rates: number[] | 'auto';
  /** The fixed-load runs offer this fraction of the best peer's max rate… */
  fraction: number;
  /** …unless a rate is given outright. */
  fixedRate: number | null;
  /** Server ids, in run order; null = every server in the table. */
  servers: string[] | null;
  reps: number;
  clients: number;
  outDir: string;
  keepFiles: boolean;
  help: boolean;
}

/**
 * The calibration ladder of `--rate auto`: short runs at 250, 500, 1000, … DORA/s on a fresh
 * server while each doubling still raises the ACK rate by `gain`. Offering each server just past its
 * own capacity matters: measured here (2 s runs), dnsmasq answered 790/s when offered 7,654/s but
 * 255/s when offered 20,000/s (its socket queue fills with requests perfdhcp has already given up
 * on), while perfdhcp itself (one thread on CPU1) loses answers when offered far above ~20,000/s.
 */
export const LADDER = { startRate: 250, maxRate: 32000, periodS: 2, gain: 1.1 } as const;

export const DEFAULTS = {
  periodS: 10,
  rates: 'auto',
  fraction: 0.8,
  reps: 3,
  clients: 50000,
  outDir: 'bench/results',
} as const;

/** `--quick`: the side-by-side that matters (rackstrap against both Keas) in a few minutes. */
export const QUICK = { periodS: 5, reps: 1, servers: ['kea', 'kea-nopersist', 'rackstrap'] } as const;

export const USAGE = `Usage: npm run bench:dhcp -- [options]      (as root; builds first)
       node dist/bench/dhcp-throughput.js [options]

Side-by-side DHCPv4 throughput of rackstrap serve and its peers (Kea, ISC dhcpd, dnsmasq), each
started fresh in a network namespace pinned to CPU0, loaded by perfdhcp pinned to CPU1.

  --period S        perfdhcp test period per run, whole seconds            (default ${DEFAULTS.periodS})
  --rate auto|N[,N…] offered DORA/s for the max runs; best median counts  (default auto:
                    per server, the best of ${LADDER.startRate}, ${LADDER.startRate * 2}, ${LADDER.startRate * 4}, …/s,
                    doubling while that still raises its ACK rate by ${Math.round((LADDER.gain - 1) * 100)}%)
  --fraction F      fixed-load runs offer F × the best peer's max rate     (default ${DEFAULTS.fraction})
  --fixed-rate N    fixed-load runs offer N DORA/s instead
  --servers a,b     which servers, in this order (ids below)               (default all)
  --reps N          repetitions per server and load; figures are medians   (default ${DEFAULTS.reps})
  --clients N       distinct client MACs perfdhcp cycles (-R)              (default ${DEFAULTS.clients})
  --out DIR         where the JSON results go                              (default ${DEFAULTS.outDir})
  --keep            keep each run's config, lease and output files
  --quick           period 5 s, 1 rep, Kea (both) and rackstrap only: ~4 min (options given win)
  -h, --help        this text
`;

function positiveInt(name: string, text: string, min = 1): number {
  if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`--${name} must be a whole number ≥ ${min}, not "${text}"`);
  return Number(text);
}

export function parseBenchArgs(argv: readonly string[], knownServers: readonly string[]): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        period: { type: 'string' },
        rate: { type: 'string' },
        fraction: { type: 'string' },
        'fixed-rate': { type: 'string' },
        servers: { type: 'string' },
        reps: { type: 'string' },
        clients: { type: 'string' },
        out: { type: 'string' },
        keep: { type: 'boolean' },
        quick: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const v = parsed.values;
  const fraction = v.fraction === undefined ? DEFAULTS.fraction : Number(v.fraction);
  if (!(fraction > 0 && fraction <= 1)) throw new UsageError(`--fraction must be in (0, 1], not "${v.fraction}"`);
  let servers: string[] | null = null;
  if (v.quick && v.servers === undefined) v.servers = QUICK.servers.filter((s) => knownServers.includes(s)).join(',');
  if (v.quick) {
    v.period ??= String(QUICK.periodS);
    v.reps ??= String(QUICK.reps);
  }
  if (v.servers !== undefined) {
    servers = v.servers.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = servers.filter((s) => !knownServers.includes(s));
    if (unknown.length || servers.length === 0) {
      throw new UsageError(`--servers: unknown ${unknown.join(', ') || '(empty list)'}; known: ${knownServers.join(', ')}`);
    }
  }
  return {
    periodS: v.period === undefined ? DEFAULTS.periodS : positiveInt('period', v.period),
    rates: v.rate === undefined || v.rate === 'auto' ? 'auto' : v.rate.split(',').map((r) => positiveInt('rate', r.trim())),
    fraction,
    fixedRate: v['fixed-rate'] === undefined ? null : positiveInt('fixed-rate', v['fixed-rate']),
    servers,
    reps: v.reps === undefined ? DEFAULTS.reps : positiveInt('reps', v.reps),
    clients: v.clients === undefined ? DEFAULTS.clients : positiveInt('clients', v.clients),
    outDir: v.out ?? DEFAULTS.outDir,
    keepFiles: v.keep ?? false,
    help: v.help ?? false,
  };
}

/**
 * Rough wall time: each run is its period, the exit wait, and ~1 s to start, probe and stop.
 * The auto ladder is counted at five steps per server (Kea needs seven, dhcpd two).
 */
export function estimateSeconds(o: Pick<BenchOptions, 'periodS' | 'rates' | 'reps'>, servers: number, exitWaitS: number): number {
  const loads = o.rates === 'auto' ? 2 : o.rates.length + 1;
  const ladder = o.rates === 'auto' ? servers * 5 * (LADDER.periodS + exitWaitS + 1) : 0;
  return ladder + servers * o.reps * loads * (o.periodS + exitWaitS + 1);
}
