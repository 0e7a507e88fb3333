// rackstrap join (definition: ../commands/join.ts): on a new filer, find the cluster's join
// endpoint (by name or ID over mDNS, or ADDRESS:PORT), pin its CA before anything is sent, prove
// the code, and store the bundle in the agent's cache folder. Nothing is written unless the
// cluster accepted the code; every failure says what happened and what to do.
import { loadAgentLocations } from '../../bootstrap/agent-config.js';
import { resolveNicIdentity } from '../../bootstrap/nic-discovery.js';
import { keyId } from '../../cluster-key/key-file.js';
import { groupClusters } from '../../discovery/clusters.js';
import { defaultInterfaces, discoverOnce } from '../../discovery/discover.js';
import { RackstrapError, UsageError } from '../../errors.js';
import { parseCode } from '../../join/code.js';
import { JoinError, requestJoin, type Endpoint } from '../../join/client.js';
import { storeBundle } from '../../join/bundle-store.js';
import { readInputLimited } from '../../input/read-limited.js';
import { makeRunner } from '../../net/runner.js';
import type { JoinOptions } from '../commands/join.js';
import type { Io } from '../main.js';

const MAX_CODE_BYTES = 4096;
const PIN_RE = /^sha256:[0-9a-f]{64}$/;

async function readCodeText(file: string): Promise<string> {
  return (await readInputLimited(file, { maxBytes: MAX_CODE_BYTES, what: 'the join code', code: 'RS_JOIN_CODE' })).toString('utf8');
}

async function findEndpoints(cluster: string, interfaces: string[]): Promise<{ endpoints: Endpoint[]; label: string }> {
  const direct = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(cluster);
  if (direct !== null) return { endpoints: [{ address: direct[1]!, port: Number(direct[2]) }], label: cluster };
  const { members } = await discoverOnce({ interfaces });
  const clusters = groupClusters(members);
  const norm = (s: string) => s.toLowerCase().replace(/-/g, ':');
  const match = clusters.filter((c) => c.name === cluster || norm(c.id) === norm(cluster));
  if (match.length === 0) {
    const heard = clusters.map((c) => `${c.name} (${c.id})`).join(', ');
    throw new JoinError(
      'unreachable',
      `no cluster "${cluster}" answered on ${interfaces.join(', ')}${heard ? `; heard: ${heard}` : ' (none answered at all)'}. Check the name with \`rackstrap discover\`, or give the join endpoint as ADDRESS:PORT`,
    );
  }
  if (match.length > 1) throw new UsageError(`two clusters are named "${cluster}" here (${match.map((c) => c.id).join(', ')}); give the cluster ID instead`);
  const c = match[0]!;
  if (c.join.length === 0) throw new JoinError('unreachable', `cluster ${c.name} (${c.id}) answers, but no member serves joins (no join port in its records); start \`rackstrap join-server\` on the management node`);
  return { endpoints: c.join.map((j) => ({ address: j.address, port: j.port })), label: `${c.name} (${c.id})` };
}

export async function run(io: Io, cluster: string, o: JoinOptions): Promise<void> {
  if (o.caHash !== undefined && !PIN_RE.test(o.caHash)) throw new UsageError(`--ca-hash: "${o.caHash}" is not sha256: followed by 64 lower-case hex digits`);
  const code = parseCode(await readCodeText(o.tokenFile), o.tokenFile === '-' ? 'the code on stdin' : o.tokenFile);
  if (o.caHash !== undefined && code.caPin !== undefined && o.caHash !== code.caPin) {
    throw new JoinError('wrong-ca-pin', `--ca-hash ${o.caHash} is not the CA the code was made for (${code.caPin}); nothing was sent. Use the code's own, or check with the cluster's admin which one is right`);
  }
  const caPin = o.caHash ?? code.caPin;
  if (caPin === undefined) {
    throw new UsageError("the code carries no CA fingerprint: give --ca-hash sha256:<hex> (ask the cluster's admin for it; what `rackstrap discover` shows comes from the network and proves nothing)");
  }
  const where = await loadAgentLocations({ ...(o.config === undefined ? {} : { file: o.config }), flags: o.cacheDir === undefined ? {} : { cacheDir: o.cacheDir } });
  const baseMac = o.baseMac ?? (await resolveNicIdentity({}, makeRunner())).baseMac;
  const { endpoints, label } = await findEndpoints(cluster, o.interface ?? defaultInterfaces());
  let last: Error | undefined;
  for (const endpoint of endpoints) {
    try {
      const bundle = await requestJoin({ endpoint, code, caPin, baseMac });
      await storeBundle(where.cacheDir, bundle, `${endpoint.address}:${endpoint.port}`);
      io.out(
        `joined cluster ${bundle.cluster.name} (${bundle.cluster.id}) as ${bundle.filer}, through ${endpoint.address}:${endpoint.port}.\n` +
          `The cluster key (${keyId(Buffer.from(bundle.clusterKey, 'base64'))}) and heartbeat secret are stored in ${where.cacheDir} (0600);\n` +
          'from now on `rackstrap agent` accepts only topology signed with that key.',
      );
      return;
    } catch (e) {
      if (!(e instanceof JoinError) || e.kind !== 'unreachable') throw e;
      last = e;
    }
  }
  throw last ?? new RackstrapError('RS_JOIN_UNREACHABLE', `no join endpoint of ${label} answered`);
}
