// Interop: the agent's own DHCP client against ISC dhcpd, Kea and dnsmasq, each running
// exactly what `rackstrap gen` writes for the example cluster. The topology request is answered
// in an OFFER (never requested) whose option 43 must decode into the filer's topology, and every
// identifier must get its reserved address. The generator's own tests prove the same with
// dhclient; this proves rackstrap's client with no dhclient in the loop.
import t, { type Test } from 'tap';
import { loadClusterFile } from '../../src/options/load.js';
import { topologyFor } from '../../src/options/resolve.js';
import { decodeTopology, normalizeTopology } from '../../src/options/wire/index.js';
import { buildGenModel, type GenModel } from '../../src/generate/model.js';
import { generateTarget } from '../../src/generate/index.js';
import { openDhcpClient, requestTopology, TransportPool, type DhcpLease } from '../../src/dhcp-client/index.js';
import { buildNet, withServer, type Net, type ServerKind } from '../generate/helpers/real-server.js';
import { EXAMPLE } from '../generate/helpers/inflate.js';

const FAST = { retransmitBaseMs: 250 };

/** One client interface on the bridge of `prefix`, in the client namespace. */
let cables = 0;
async function cable(net: Net, prefix: string): Promise<string> {
  const b = net.bridges.get(prefix);
  if (!b) throw new Error(`no bridge for ${prefix}`);
  const ifname = `k${++cables}`;
  await net.lab.link(net.cli, ifname, net.sw, b.bridge);
  return ifname;
}

/** Resolves with the bound lease, or undefined after `ms`. */
async function leaseFor(net: Net, pool: TransportPool, ifname: string, identifier: string, vendorClass: string, ms: number): Promise<DhcpLease | undefined> {
  const client = await openDhcpClient({ interface: ifname, netns: net.cli, pool, identifier, vendorClass, timing: FAST });
  try {
    const bound = new Promise<DhcpLease>((resolve) => client.once('bound', resolve));
    client.start();
    const timer = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref());
    return await Promise.race([bound, timer]);
  } finally {
    await client.stop({ release: false });
  }
}

async function prove(t: Test, kind: ServerKind, prefix: string): Promise<void> {
  const loaded = await loadClusterFile(EXAMPLE);
  const model: GenModel = buildGenModel(loaded);
  const net = await buildNet(t, prefix, model);
  const vendorClass = model.cluster.vendorClass;
  await withServer(net, kind, generateTarget(model, kind)[0]!.content, 'interop', async (server) => {
    t.equal(server.check.exitCode, 0, `${kind} accepts the generated configuration`, { output: server.check.output });
    if (server.check.exitCode !== 0) return;
    const pool = new TransportPool();

    const bootPrefix = model.bootstrapSubnets[0]!.prefix;
    for (const f of model.filers) {
      // Two NICs, as a filer sends on every NIC: one on the bootstrap subnet's bridge, one on another.
      const nic = await cable(net, bootPrefix);
      const other = await cable(net, [...net.bridges.keys()].find((p) => p !== bootPrefix)!);
      const offers = await requestTopology({ interfaces: [other, nic], netns: net.cli, pool, vendorClass, identifier: f.topologyKey, timeoutMs: 5000, timing: FAST });
      t.equal(offers.length > 0, true, `${kind}: ${f.filer}'s topology request is answered`, { log: server.log() });
      const offer = offers[0];
      if (!offer) continue;
      t.equal(offer.interface, nic, `${kind}: ${f.filer}'s offer arrives on the NIC that reaches the server`);
      t.same(decodeTopology(offer.option43, { expectFiler: f.filer }).topology, normalizeTopology(topologyFor(loaded, f.filer)), `${kind}: ${f.filer}'s option 43 decodes into its topology`);
    }

    for (const r of model.addresses) {
      const ifname = await cable(net, r.subnet.prefix);
      const lease = await leaseFor(net, pool, ifname, r.identifier, vendorClass, 8000);
      t.equal(lease?.address, r.address, `${kind}: ${r.identifier} -> ${r.address}`, { log: lease ? undefined : server.log() });
    }
  });
}

for (const [kind, prefix] of [['dhcpd', 'rsiopd'], ['kea', 'rsiopk'], ['dnsmasq', 'rsiopm']] as const) {
  t.test(`rackstrap's client against ${kind} running the generated config`, (t) => prove(t, kind, prefix));
}
