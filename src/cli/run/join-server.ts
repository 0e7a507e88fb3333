// rackstrap join-server (definition: ../commands/join.ts): serve joins on the mgmt interface and
// advertise the cluster there (TXT with the join port and the CA fingerprint). Logs JSON lines
// on stdout; never a code, key or secret. Runs until SIGTERM/SIGINT, then says goodbye.
import { networkInterfaces } from 'node:os';
import { readDescriptionKey } from '../../cluster-key/key-file.js';
import { startAdvertiser, type Advertiser } from '../../discovery/advertiser.js';
import { RackstrapError, UsageError } from '../../errors.js';
import { DEFAULT_JOIN_PORT } from '../../join/protocol.js';
import { startJoinServer } from '../../join/server.js';
import { DEFAULT_STATE_DIR, ensureCa, ensureHeartbeatSecret } from '../../join/state.js';
import { loadClusterFile } from '../../options/load.js';
import type { JoinServerOptions } from '../commands/join.js';
import type { Io } from '../main.js';
import { version } from '../version.js';

export async function run(io: Io, descriptionFile: string, o: JoinServerOptions): Promise<void> {
  const port = o.port === undefined ? DEFAULT_JOIN_PORT : Number(o.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: "${o.port}" is not a TCP port`);
  const loaded = await loadClusterFile(descriptionFile);
  const key = await readDescriptionKey(loaded);
  if (key === undefined) {
    throw new RackstrapError('RS_JOIN_NO_KEY', `${descriptionFile}: cluster.keyFile is not set; a joined filer must receive the key that signs its topology, so make one (head -c 32 /dev/urandom > cluster.key; chmod 600 cluster.key) and name it in cluster.keyFile`);
  }
  const dir = o.stateDir ?? DEFAULT_STATE_DIR;
  const cluster = loaded.description.cluster;
  const ca = await ensureCa(dir, cluster.name);
  const heartbeatSecret = await ensureHeartbeatSecret(dir, o.heartbeatFile);
  const addresses = (networkInterfaces()[o.interface] ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address);
  const host = o.address ?? addresses[0];
  if (host === undefined) throw new RackstrapError('RS_JOIN_NO_ADDRESS', `interface ${o.interface} has no IPv4 address to serve joins on (give --address, or check the interface)`);
  const log = (e: object) => io.out(JSON.stringify({ time: new Date().toISOString(), ...e }));
  const server = await startJoinServer({ stateDir: dir, loaded, clusterKey: key, heartbeatSecret, ca, host, port, onEvent: log });
  let adv: Advertiser | undefined;
  if (o.advertise !== false) {
    adv = await startAdvertiser({
      member: 'join-server',
      txt: { cluster: cluster.name, id: cluster.id, version: version().slice(0, 12), members: loaded.filers.size, joinPort: server.port, ca: ca.caFingerprint },
      interfaces: [{ ifname: o.interface, addresses }],
      onEvent: (e) => log({ ...e, event: `mdns-${e.event}` }),
    });
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await adv?.stop();
  await server.close();
  log({ event: 'stopped' });
}
