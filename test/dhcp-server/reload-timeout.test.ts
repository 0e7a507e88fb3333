// A reload that takes longer than --reload-timeout is given up: the loader is stopped, the reload
// refused with the reason, the old description keeps serving, and the next reload is not queued
// behind it. The slow load is a real one (a description of 60,000 virtual servers, seconds of
// work), with the bound set to 5 s so that the test need not wait the default 120 s.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { makeLab } from '../helpers/netns.js';
import { exampleText, id } from './helpers/fixtures.js';
import { relayLink } from './helpers/relay.js';
import { ServeProcess } from './helpers/serve.js';

/** A description of `n` virtual servers sharing one table (as bench/validate-scale.ts makes them), written as text: quick to make, seconds to load. */
function sharedTable(n: number): string {
  const head = `cluster: { name: shared, id: "00:07:34:AA:00:02", generation: 1 }
scope:
  subnets:
    - { prefix: 10.0.0.0/16, routers: [10.0.0.1], bootstrap: { start: 10.0.255.1, end: 10.0.255.250 } }
    - { prefix: 10.128.0.0/12, routers: [10.128.0.1] }
templates: { std: { aliases: { mgmt0: eth0, data0: eth1 } } }
filers:
  F0: { baseMac: "00:07:34:00:00:00", nics: { eth0: "00:07:34:00:00:01", eth1: "00:07:34:00:00:02" }, template: std, addresses: { mgmt0: 10.0.0.10 } }
  F1: { baseMac: "00:07:34:01:00:00", nics: { eth0: "00:07:34:01:00:01", eth1: "00:07:34:01:00:02" }, template: std, addresses: { mgmt0: 10.0.0.11 } }
vservers:
`;
  const lines: string[] = [head];
  for (let i = 0; i < n; i++) {
    const a = 10 + i;
    lines.push(`  V${i}: { table: 7, gateway: 10.128.0.1, filers: [F0, F1], addresses: { data0: { 0: 10.${128 + (a >> 16)}.${(a >> 8) & 255}.${a & 255} } } }\n`);
  }
  return lines.join('');
}

t.test('--reload-timeout: a reload past the bound is given up, the old description kept, the next reload free', async (t) => {
  const lab = await makeLab(t, { prefix: 'qhr' });
  const { srv, relay } = await relayLink(t, lab);
  const dir = t.testdir();
  const config = join(dir, 'cluster.yaml');
  writeFileSync(config, exampleText());
  const server = await ServeProcess.ready(lab, srv, { config, interfaces: ['srv0'], leaseFile: join(dir, 'leases.log'), logLevel: 'info', extra: ['--reload-timeout', '5s'] });

  const big = sharedTable(60_000);
  t.ok(big.length > 4 << 20, `${(big.length / 2 ** 20).toFixed(1)} MiB of description (under the 16 MiB cap)`);
  writeFileSync(config, big);
  server.signal('SIGHUP');
  const refused = await server.waitFor((l) => l.event === 'reload-refused', 60_000, 'the refusal');
  t.match(refused, { level: 'error', error: /took longer than 5 s; given up/, detail: /still serving .* generation 1/ });
  t.equal((await relay.dora('02:00:00:00:01:01', id('mgmt0:Filer1'))).reply?.yiaddr, '10.1.1.2', 'the old description keeps serving');

  // The next reload runs at once (the given-up loader is gone) and is served.
  writeFileSync(config, exampleText({ set: [[['filers', 'Filer1', 'addresses', 'mgmt0'], '10.1.1.30'], [['cluster', 'generation'], 2]] }));
  server.signal('SIGHUP');
  const mark = server.lines.length;
  const next = await server.waitFor((l) => server.lines.indexOf(l) >= mark && (l.event === 'reloaded' || l.event === 'reload-refused'), 60_000, 'the next reload');
  t.match(next, { event: 'reloaded', generation: 2 }, 'the next reload is served');
  t.equal((await relay.dora('02:00:00:00:01:01', id('mgmt0:Filer1'))).reply?.yiaddr, '10.1.1.30', 'the new description is served');
  server.signal('SIGTERM');
  t.same(await server.exited, { code: 0, signal: null });
});
