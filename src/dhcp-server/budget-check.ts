// Start-up's option 43 check: every filer's topology, as this server will send it (signed per
// exchange when the cluster has a key), against the room a topology OFFER has for it on each
// subnet with a bootstrap range (generate/budget.ts serveOption43Limit: the same figure validate
// reports). A topology that cannot be sent is a description the server refuses, with the filer,
// the size and the limit, rather than a reply-too-big for every request of that filer later.
import { RackstrapError } from '../errors.js';
import { serveOption43Limit } from '../generate/budget.js';
import type { LoadedCluster } from '../options/load.js';
import { subnetsOf } from '../options/resolve.js';
import { signForExchange } from '../options/wire/index.js';
import type { ServerConfig } from './config.js';

export interface Overflow {
  filer: string;
  /** Bytes of option 43 the server would send. */
  size: number;
  /** The most it can send intact on `subnet`. */
  limit: number;
  subnet: string;
}

/** Every filer whose topology does not fit a topology OFFER on some bootstrap subnet (the tightest one each). */
export function topologyOverflows(loaded: LoadedCluster, config: ServerConfig): Overflow[] {
  const bootstrap = subnetsOf(loaded).filter((s) => s.family === 4 && s.bootstrap !== undefined);
  const limits = new Map<number, Array<{ limit: number; subnet: string }>>();
  const limitsFor = (identifierLength: number) => {
    let l = limits.get(identifierLength);
    if (l === undefined) {
      l = bootstrap.map((s) => ({ limit: serveOption43Limit(s, config.vendorClass, identifierLength), subnet: s.prefix }));
      limits.set(identifierLength, l);
    }
    return l;
  };
  const out: Overflow[] = [];
  for (const t of config.topologies.values()) {
    const size = t.exchange !== undefined ? signForExchange(t.exchange, 0).length : t.option43.length;
    let worst: Overflow | undefined;
    for (const l of limitsFor(t.identifier.length)) {
      if (size > l.limit && (worst === undefined || l.limit < worst.limit)) worst = { filer: t.filer, size, limit: l.limit, subnet: l.subnet };
    }
    if (worst) out.push(worst);
  }
  return out;
}

/** Throws RS_SERVE_BUDGET naming each filer whose topology cannot be sent. */
export function assertTopologiesFit(loaded: LoadedCluster, config: ServerConfig): void {
  const over = topologyOverflows(loaded, config);
  if (over.length === 0) return;
  const each = over.map((o) => `${o.filer}'s topology is ${o.size} bytes of option 43, over the ${o.limit} bytes a topology OFFER can carry on ${o.subnet}`);
  throw new RackstrapError(
    'RS_SERVE_BUDGET',
    `${loaded.file}: cannot send every filer its topology: ${each.join('; ')}. ` +
      'Bring up fewer virtual servers or MySQL roles on those filers at bootstrap (their home), use shorter names, or fewer DHCP options on that subnet; `rackstrap validate --json` shows each filer\'s budget',
  );
}
