// The option 43 budget (generate/budget.ts): validate warns when a filer's topology is over what a
// DHCP server delivers intact and fails when it is over what `rackstrap serve` can send; explain
// shows the table. Before, validate said "ok" for a cluster whose topology no server could deliver
// (many virtual servers homed on one filer); gen then refused it and serve started without a word.
// serve's room is computed with the codec; here it is checked against the real respond() answering
// the agent's own topology request, on both sides of the limit.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { readFileSync } from 'node:fs';
import { OPTION } from '../../src/dhcp-packet/index.js';
import { PARAMETER_REQUEST_LIST } from '../../src/dhcp-client/index.js';
import { buildServerConfig } from '../../src/dhcp-server/config.js';
import { budgetProblems, topologyBudget } from '../../src/generate/budget.js';
import { loadClusterText } from '../../src/options/load.js';
import { main } from '../../src/cli/main.js';
import { CLUSTER_ID, Harness, wireReply } from '../dhcp-server/helpers/fixtures.js';

/** The example with `n` more virtual servers homed on Filer1 (long names make each one count). */
function withServers(n: number): string {
  const d = parse(readFileSync('examples/cluster.yaml', 'utf8')) as { vservers: Record<string, unknown> };
  for (let i = 0; i < n; i++) {
    d.vservers[`ConsolidatedServer${String(i).padStart(3, '0')}`] = { table: 10 + i, gateway: '10.2.2.254', home: 'Filer1', addresses: { data0: { 0: `10.2.2.${100 + i}` } } };
  }
  return stringify(d);
}

t.test("serve's computed room agrees with respond() on both sides of the limit", async (t) => {
  let sawFit = false;
  let sawOver = false;
  for (const n of [0, 4, 8, 10, 11, 12, 13, 14, 16, 18, 20, 24]) {
    const loaded = loadClusterText(withServers(n), `example+${n}.yaml`);
    const b = topologyBudget(loaded).find((x) => x.filer === 'Filer1')!;
    const serve = b.fits.find((f) => f.target === 'serve')!;
    const h = new Harness(buildServerConfig(loaded));
    const d = h.send({ type: 1, clientId: `${CLUSTER_ID}:00:07:34:10:00:01`, vendorClass: 'rackstrap', prl: [...PARAMETER_REQUEST_LIST], maxSize: 1500 });
    const answered = wireReply(d)?.options.has(OPTION.VENDOR_SPECIFIC) === true;
    t.equal(answered, b.size <= serve.limit, `${n} more servers: topology ${b.size} B, serve room ${serve.limit} B: ${answered ? 'answered' : 'not answered'} (${d.log.result})`);
    if (answered) sawFit = true;
    else sawOver = true;
  }
  t.ok(sawFit && sawOver, 'both sides of the limit were tried');
});

t.test('validate: warnings per server over its limit, an error when serve cannot deliver', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-budget-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = async (text: string) => {
    const file = join(dir, 'c.yaml');
    writeFileSync(file, text);
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['validate', file], { out: (s) => out.push(s), err: (s) => err.push(s) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  // Over Kea's and dnsmasq's room but within dhcpd's and serve's: the first count that is.
  const sizeAt = (n: number) => topologyBudget(loadClusterText(withServers(n), 'x.yaml')).find((x) => x.filer === 'Filer1')!;
  let n = 0;
  while (n < 40 && sizeAt(n).size <= sizeAt(n).fits.find((f) => f.target === 'kea')!.limit) n++;
  const loaded = loadClusterText(withServers(n), 'x.yaml');
  const b = topologyBudget(loaded).find((x) => x.filer === 'Filer1')!;
  const room = Object.fromEntries(b.fits.map((f) => [f.target, f.limit]));
  t.ok(b.size > room.kea! && b.size <= room.serve!, `precondition: ${b.size} B is over Kea's ${room.kea} and within serve's ${room.serve}`);
  const warned = await run(withServers(n));
  t.equal(warned.code, 0, 'still valid');
  t.match(warned.err, new RegExp(`warning: filers\\.Filer1: Filer1's topology is ${b.size} bytes of option 43, over the ${room.kea} bytes Kea 2\\.2 kea-dhcp4 delivers intact on 10\\.1\\.1\\.0/24`), 'names filer, size, limit and server');
  t.match(warned.out, /ok \(.*warning/);

  const over = await run(withServers(36));
  t.equal(over.code, 1, 'serve could not deliver it: invalid');
  t.match(over.err, /filers\.Filer1: Filer1's topology is \d+ bytes of option 43, over the \d+ bytes rackstrap serve delivers intact on 10\.1\.1\.0\/24: rackstrap serve cannot answer its topology request/);
  t.same(budgetProblems(topologyBudget(loadClusterText(readFileSync('examples/cluster.yaml', 'utf8'), 'e.yaml'))), [], 'the example fits everywhere');

  const explained: string[] = [];
  await main(['explain', join(dir, 'c.yaml')], { out: (s) => explained.push(s), err: () => {} });
  t.match(explained.join('\n'), /Option 43 budget[\s\S]*Filer1\s+\d+ B\s+\d+ B OVER/, 'explain shows the budget');
});
