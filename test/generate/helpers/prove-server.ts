// The proof each real-server test runs: the generated configuration passes the server's
// own check, the server starts with it, every identifier of the example cluster gets its address
// from a real dhclient, each topology key gets objects that decode back into exactly that filer's
// topology; the same for a signed topology at the server's size limit; one byte over is refused.
import type { Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadClusterFile } from '../../../src/options/load.js';
import { topologyFor } from '../../../src/options/resolve.js';
import { decodeTopology, normalizeTopology, option43FromDhclientEnv, subOptionsFromDhclientEnv } from '../../../src/options/wire/index.js';
import { buildGenModel, OPTION_SPACE, type GenModel } from '../../../src/generate/model.js';
import { generateTarget } from '../../../src/generate/index.js';
import { renderDhclient } from '../../../src/generate/dhclient.js';
import { option43Limit, SERVER_LIMITS } from '../../../src/generate/limits.js';
import { TopologyTooBigError } from '../../../src/generate/errors.js';
import { askAll, buildNet, withServer, type Ask, type ServerKind } from './real-server.js';
import { EXAMPLE, inflate } from './inflate.js';

const KEY = Buffer.from('rackstrap-generator-test-key-0001');

function render(model: GenModel, kind: ServerKind): string {
  return generateTarget(model, kind)[0]!.content;
}

function bootstrapPrefix(model: GenModel): string {
  return model.bootstrapSubnets[0]!.prefix;
}

function inBootstrap(model: GenModel, ip: string | undefined): boolean {
  const b = model.bootstrapSubnets[0]!.bootstrap!;
  const n = (a: string) => a.split('.').reduce((x, o) => x * 256 + Number(o), 0);
  return ip !== undefined && n(ip) >= n(b.start) && n(ip) <= n(b.end);
}

export async function proveServer(t: Test, kind: ServerKind, prefix: string): Promise<void> {
  const loaded = await loadClusterFile(EXAMPLE);
  const model = buildGenModel(loaded);
  const net = await buildNet(t, prefix, model);
  const dhclientConf = renderDhclient(model);

  await t.test(`${kind}: example cluster, every identifier`, async (t) => {
    await withServer(net, kind, render(model, kind), 'example', async (server) => {
    t.equal(server.check.exitCode, 0, `${kind} accepts the generated configuration`, { output: server.check.output });
    if (server.check.exitCode !== 0) return;

    const asks: Ask[] = [
      // The bootstrap pool is only for the cluster's vendor class (first: it waits out its timeout).
      { identifier: model.filers[0]!.topologyKey, subnet: bootstrapPrefix(model), withoutVendorClass: true, timeout: 2 },
      ...model.filers.map((f) => ({ identifier: f.topologyKey, subnet: bootstrapPrefix(model) })),
      ...model.addresses.map((r) => ({ identifier: r.identifier, subnet: r.subnet.prefix })),
    ];
    const answers = await askAll(net, dhclientConf, asks);
    const log = server.log();
    for (const a of answers) {
      const id = a.ask.identifier;
      if (a.ask.withoutVendorClass) {
        t.equal(a.env, undefined, `${id} without vendor class ${model.cluster.vendorClass}: no offer`, { log });
        continue;
      }
      t.ok(a.env, `${id}: dhclient got a lease`, { exitCode: a.exitCode, log });
      if (!a.env) continue;
      const r = model.addresses.find((x) => x.identifier === id);
      if (r) {
        t.equal(a.env.new_ip_address, r.address, `${id} -> ${r.address}`);
        t.equal(a.env.new_vendor_encapsulated_options, undefined, `${id}: no option 43 with an address`);
        const s = model.subnets.find((x) => x.prefix === r.subnet.prefix)!;
        t.equal(a.env.new_routers, s.routers.join(' '), `${id}: the subnet's routers`);
        t.equal(a.env.new_domain_name, s.domain, `${id}: the subnet's domain`);
        continue;
      }
      const f = model.filers.find((x) => x.topologyKey === id)!;
      t.ok(inBootstrap(model, a.env.new_ip_address), `${f.filer} topology request offered ${a.env.new_ip_address} from the bootstrap range`);
      const want = normalizeTopology(topologyFor(loaded, f.filer));
      t.same(decodeTopology(subOptionsFromDhclientEnv(a.env, OPTION_SPACE)).topology, want, `${f.filer}: the objects dhclient's script saw decode into its topology`);
      const raw = option43FromDhclientEnv(a.env);
      t.ok(raw, `${f.filer}: raw option 43 present`);
      if (raw) t.same(decodeTopology(raw).topology, want, `${f.filer}: raw option 43 decodes into its topology`);
    }
    });
  });

  const limit = option43Limit(kind, model.bootstrapSubnets[0]!, model.filers[0]!.topologyKey.length);
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-inflate-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  await t.test(`${kind}: a signed topology of exactly the limit (${limit} bytes) arrives intact`, async (t) => {
    const big = inflate('Filer1', limit, { dir, key: KEY });
    t.equal(big.size, limit);
    await withServer(net, kind, render(big.model, kind), 'at-limit', async (server) => {
    t.equal(server.check.exitCode, 0, `${kind} accepts it`, { output: server.check.output });
    if (server.check.exitCode !== 0) return;
    const f = big.model.filers.find((x) => x.filer === 'Filer1')!;
    const vs = big.model.addresses.filter((r) => r.kind === 'vserver' && r.vserver.startsWith('Pad'));
    const asks: Ask[] = [
      { identifier: f.topologyKey, subnet: bootstrapPrefix(big.model) },
      ...vs.slice(0, 2).map((r) => ({ identifier: r.identifier, subnet: r.subnet.prefix })),
    ];
    const [topo, ...addrs] = await askAll(net, renderDhclient(big.model), asks);
    t.ok(topo?.env, 'Filer1 got an offer', { log: server.log() });
    if (topo?.env) {
      const want = normalizeTopology(topologyFor(big.loaded, 'Filer1'));
      const decoded = decodeTopology(subOptionsFromDhclientEnv(topo.env, OPTION_SPACE), { key: KEY, requireSignature: true, expectFiler: 'Filer1' });
      t.ok(decoded.signed, 'signature verified with the cluster key');
      t.same(decoded.topology, want, 'decodes into exactly Filer1 topology');
      t.equal(option43FromDhclientEnv(topo.env)?.length, limit + SERVER_LIMITS[kind].endByte, 'option 43 arrived whole');
    }
    for (const a of addrs) t.equal(a.env?.new_ip_address, vs.find((r) => r.identifier === a.ask.identifier)?.address, `${a.ask.identifier} address`);
    });
  });

  await t.test(`${kind}: one byte over the limit is refused, naming filer, size and limit`, async (t) => {
    const over = inflate('Filer1', limit + 1, { dir, key: KEY });
    const err = (() => {
      try {
        render(over.model, kind);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    t.type(err, TopologyTooBigError);
    if (err instanceof TopologyTooBigError) {
      t.equal(err.filer, 'Filer1');
      t.equal(err.size, limit + 1);
      t.equal(err.limit, limit);
      t.match(err.message, new RegExp(`^Filer1: topology is ${limit + 1} bytes of option 43, over the ${limit} bytes`));
    }
  });
}
