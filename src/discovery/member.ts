// A joined member advertising its cluster once its stack is up: the service on every mgmt#
// interface the agent built, with their addresses (followed as they change), and TXT from what
// the join stored (cluster name and ID, member count, CA fingerprint; no join port: joins are
// served by the join server). A filer that has not joined has nothing to advertise.
import { readJoinRecord } from '../join/bundle-store.js';
import { interfaceAddresses, startAdvertiser, type Advertiser, type AdvertiserEvent } from './advertiser.js';

const MGMT = /^mgmt\d+$/;

export async function advertiseMember(o: { cacheDir: string; version: string; onEvent: (e: AdvertiserEvent) => void }): Promise<Advertiser | { skipped: string }> {
  const record = await readJoinRecord(o.cacheDir);
  if (record === undefined) return { skipped: 'this filer has not joined a cluster (rackstrap join), so it does not advertise one' };
  const interfaces = [...interfaceAddresses()].filter(([name]) => MGMT.test(name)).map(([ifname, addresses]) => ({ ifname, addresses }));
  if (interfaces.length === 0) return { skipped: 'no mgmt# interface is up' };
  return startAdvertiser({
    member: record.filer,
    txt: { cluster: record.cluster.name, id: record.cluster.id, version: o.version.slice(0, 12), members: record.members, ca: record.caFingerprint },
    interfaces,
    onEvent: o.onEvent,
  });
}
