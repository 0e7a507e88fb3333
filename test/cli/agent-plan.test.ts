// `rackstrap plan`: the exact batch the agent would run, for Filer1 of the flat cluster in a fresh
// namespace (its two NICs, nothing else), and nothing changed by printing it. Golden files:
//   test/fixtures/agent/plan-filer1-cache.txt     --from-cache: stack, cached addresses, tables, counters
//   test/fixtures/agent/plan-filer1-topology.txt  --topology FILE: the stack only
// RACKSTRAP_UPDATE_GOLDEN=1 rewrites them from the current code (review the diff).
// The CLI runs in-process (main() with captured output) against the namespace (--netns): the same
// command as `ip netns exec NS rackstrap plan`, without a process start per case.
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lease } from '../../src/cache/cache-entry.js';
import { openCache } from '../../src/cache/open-cache.js';
import { main } from '../../src/cli/main.js';
import { observe } from '../../src/net/observe.js';
import { makeRunner } from '../../src/net/runner.js';
import { reservationsOf, subnetsOf, topologyFor } from '../../src/options/resolve.js';
import { encodeTopology, subOptionsToBytes } from '../../src/options/wire/index.js';
import { flatLab, writeEmptyConfig } from '../bootstrap/helpers/flat-lab.js';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

function golden(t: Test, file: string, text: string) {
  const path = `test/fixtures/agent/${file}`;
  if (process.env.RACKSTRAP_UPDATE_GOLDEN === '1') writeFileSync(path, text);
  t.equal(text, readFileSync(path, 'utf8'), `matches ${path}`);
}

t.test('plan prints the exact batch for Filer1 and changes nothing', async (t) => {
  const l = await flatLab(t, ['Filer1']);
  const ns = l.ns.get('Filer1')!;
  const dir = t.testdir({});
  writeEmptyConfig(dir);
  const cacheDir = join(dir, 'cache');
  const topology = topologyFor(l.loaded, 'Filer1');

  // The cache as the agent writes it after a DHCP run: one lease per identifier of the description.
  const subnets = subnetsOf(l.loaded);
  const leases: Record<string, Lease> = {};
  for (const r of reservationsOf(l.loaded)) {
    if (r.kind === 'topology' || (r.kind === 'filer' ? r.filer !== 'Filer1' : r.home !== 'Filer1')) continue;
    const s = subnets.find((x) => x.prefix === r.subnet.prefix)!;
    const base = { alias: r.alias, address: r.address, prefixLength: s.prefixLength, routers: s.routers, serverId: '10.1.1.250', leaseStart: '2026-01-01T00:00:00.000Z', leaseExpiry: '2026-01-01T01:00:00.000Z' };
    leases[r.identifier] =
      r.kind === 'filer' ? { kind: 'filer', ...base }
      : r.kind === 'mysql' ? { kind: 'mysql', ...base, role: r.role }
      : { kind: 'vserver', ...base, vserver: r.vserver, instance: r.instance, table: l.loaded.description.vservers[r.vserver]!.table, gateway: s.routers[0]! };
  }
  await openCache(cacheDir, { clusterId: l.clusterId }).write({ generation: 1, topology, leases, keyFingerprint: null });
  const common = ['--netns', ns, '--config', join(dir, 'no-agent.yaml'), '--cluster-id', l.clusterId, '--cache-dir', cacheDir];
  const before = await observe(makeRunner({ netns: ns }));

  const fromCache = await cli(['plan', '--from-cache', ...common]);
  t.equal(fromCache.code, 0, fromCache.stderr);
  golden(t, 'plan-filer1-cache.txt', fromCache.stdout.replaceAll(cacheDir, '<cache-dir>'));
  const byDefault = await cli(['plan', ...common]);
  t.equal(byDefault.stdout, fromCache.stdout, '--from-cache is the default');

  const json = join(dir, 'filer1.json');
  writeFileSync(json, JSON.stringify(topology, null, 2));
  const fromJson = await cli(['plan', '--topology', json, ...common]);
  t.equal(fromJson.code, 0, fromJson.stderr);
  golden(t, 'plan-filer1-topology.txt', fromJson.stdout);

  const hex = join(dir, 'filer1.hex');
  writeFileSync(hex, `${subOptionsToBytes(encodeTopology(topology)).toString('hex').replace(/(..)/g, '$1:').slice(0, -1)}\n`);
  const fromHex = await cli(['plan', '--topology', hex, ...common]);
  t.equal(fromHex.code, 0, fromHex.stderr);
  t.equal(fromHex.stdout.replace('filer1.hex', 'filer1.json'), fromJson.stdout, 'option 43 as hex plans the same as the JSON topology');

  const noAcct = await cli(['plan', ...common, '--no-accounting', '--no-routing']);
  t.match(noAcct.stdout, /^# skipped \(routing\) routes and rules: --no-routing: 5 route\(s\) and 3 rule\(s\) are managed outside rackstrap$/m);
  t.match(noAcct.stdout, /^# skipped \(accounting\) iptables: --no-accounting: per-server packet counters are managed outside rackstrap$/m);
  t.notMatch(noAcct.stdout, /^(iptables|route|rule) /m, 'no routes, rules or counters planned');
  const masked = await cli(['plan', ...common, '--mask', '0x1f']);
  t.equal(masked.stdout, noAcct.stdout, '--mask 0x1f (everything but routing and accounting) is the same');

  t.same(await observe(makeRunner({ netns: ns })), before, 'printing plans changed nothing');

  const both = await cli(['plan', '--from-cache', '--topology', json, ...common]);
  t.equal(both.code, 2, 'both sources is a usage error');
  const garbage = join(dir, 'garbage.txt');
  writeFileSync(garbage, 'hello\n');
  const bad = await cli(['plan', '--topology', garbage, ...common]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /garbage\.txt: neither JSON \(a topology\) nor hex \(option 43 bytes\)/);
});
