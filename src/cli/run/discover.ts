// rackstrap discover (definition: ../commands/discover.ts): list the rackstrap clusters advertised
// on this filer's network (mDNS / DNS-SD `_rackstrap._tcp`): name, cluster ID, members with their
// mgmt addresses, CA fingerprint and where joins are served. --watch follows arrivals and
// departures until Ctrl-C or SIGTERM.
import { durationArg } from '../../options/duration.js';
import { groupClusters, renderClusters } from '../../discovery/clusters.js';
import { defaultInterfaces, discoverOnce, watchClusters, DEFAULT_TIMEOUT_MS } from '../../discovery/discover.js';
import type { BrowserEvent } from '../../discovery/browser.js';
import { UsageError } from '../../errors.js';
import type { DiscoverOptions } from '../commands/discover.js';
import type { Io } from '../main.js';

export async function run(io: Io, o: DiscoverOptions): Promise<void> {
  const interfaces = o.interface ?? defaultInterfaces();
  if (o.watch) return watch(interfaces, o, io);
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (o.timeout !== undefined) {
    timeoutMs = durationArg(o.timeout, '--timeout', { plain: 'ms', min: 1, max: 9_999_999 });
  }
  const { members } = await discoverOnce({ interfaces, timeoutMs });
  const clusters = groupClusters(members);
  if (o.json) io.out(JSON.stringify({ interfaces, clusters }, null, 1));
  else if (clusters.length === 0) io.out(`no rackstrap cluster answered on ${interfaces.join(', ')} within ${timeoutMs} ms`);
  else io.out(renderClusters(clusters));
}

function describe(e: BrowserEvent): string {
  const m = e.member;
  const sign = e.event === 'up' ? '+' : e.event === 'down' ? '-' : '~';
  const why = e.event === 'down' ? ` (${e.reason === 'goodbye' ? 'said goodbye' : 'no longer answers'})` : '';
  return `${sign} ${m.instance}  cluster ${m.txt.cluster} ${m.txt.id}  ${m.host} ${m.addresses.join(', ')} (${m.ifname})${why}`;
}

async function watch(interfaces: string[], o: DiscoverOptions, io: Io): Promise<void> {
  const w = await watchClusters({
    interfaces,
    onEvent: (e) => io.out(o.json ? JSON.stringify({ event: e.event, ...(e.event === 'down' ? { reason: e.reason } : {}), ...e.member }) : describe(e)),
  });
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await w.stop();
}
