// The option 43 budget where scripts and the server see it: `validate --json` carries each filer's
// topology size against every DHCP server's room (and fails when serve's is exceeded), and
// `rackstrap serve` refuses to start on a description whose topology it cannot send, naming the
// filer, the size and the limit. Before, --json said ok with no budget and serve started silently.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import { loadServerConfigInline } from '../../src/dhcp-server/load-config.js';
import { topologyBudget } from '../../src/generate/budget.js';
import { loadClusterText } from '../../src/options/load.js';

/** The example with `n` more virtual servers homed on Filer1. */
function withServers(n: number): string {
  const d = parse(readFileSync('examples/cluster.yaml', 'utf8')) as { vservers: Record<string, unknown> };
  for (let i = 0; i < n; i++) {
    d.vservers[`ConsolidatedServer${String(i).padStart(3, '0')}`] = { table: 10 + i, gateway: '10.2.2.254', home: 'Filer1', addresses: { data0: { 0: `10.2.2.${100 + i}` } } };
  }
  return stringify(d);
}

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

interface BudgetJson {
  ok: boolean;
  errors: number;
  budget: Array<{ filer: string; size: number; targets: Array<{ target: string; server: string; limit: number; subnet: string; fits: boolean }> }>;
  problems: Array<{ field: string; rule: string; severity: string }>;
}

t.test('validate --json: the budget per filer and target; over serve\'s room is an error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-budget-json-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const example = await cli(['validate', '--json', 'examples/cluster.yaml']);
  t.equal(example.code, 0);
  const j = JSON.parse(example.out) as BudgetJson;
  t.same(j.budget.map((b) => b.filer), ['Filer1', 'Filer2'], 'one entry per filer');
  const expected = topologyBudget(loadClusterText(readFileSync('examples/cluster.yaml', 'utf8'), 'cluster.yaml'));
  for (const b of j.budget) {
    const want = expected.find((x) => x.filer === b.filer)!;
    t.equal(b.size, want.size, `${b.filer}: ${b.size} bytes`);
    t.same(b.targets.map((x) => x.target).sort(), ['dhcpd', 'dnsmasq', 'kea', 'serve'], `${b.filer}: every target`);
    t.ok(b.targets.every((x) => x.fits && x.limit >= b.size && x.subnet === '10.1.1.0/24'), `${b.filer}: fits everywhere`);
  }

  const file = join(dir, 'over.yaml');
  writeFileSync(file, withServers(36));
  const over = await cli(['validate', '--json', file]);
  t.equal(over.code, 1, 'exit 1');
  t.equal(over.err, '', 'nothing on stderr');
  const o = JSON.parse(over.out) as BudgetJson;
  t.equal(o.ok, false);
  const f1 = o.budget.find((b) => b.filer === 'Filer1')!;
  const serve = f1.targets.find((x) => x.target === 'serve')!;
  t.equal(serve.fits, false, `Filer1 ${f1.size} B over serve's ${serve.limit} B`);
  t.ok(o.errors >= 1);
  t.match(o.problems.find((p) => p.severity === 'error'), { field: 'filers.Filer1', rule: /rackstrap serve cannot answer its topology request/ });
});

t.test('serve refuses a description whose topology it cannot send, naming filer, size and limit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-budget-serve-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'over.yaml');
  writeFileSync(file, withServers(36));
  const b = topologyBudget(loadClusterText(withServers(36), 'over.yaml')).find((x) => x.filer === 'Filer1')!;
  const serve = b.fits.find((f) => f.target === 'serve')!;
  await t.rejects(loadServerConfigInline(file), {
    code: 'RS_SERVE_BUDGET',
    message: new RegExp(`Filer1's topology is ${b.size} bytes of option 43, over the ${serve.limit} bytes a topology OFFER can carry on 10\\.1\\.1\\.0/24`),
  });
  const r = await cli(['serve', file, '--interface', 'lo', '--lease-file', join(dir, 'leases.log')]);
  t.equal(r.code, 1, 'serve exits 1');
  t.match(r.err, /cannot send every filer its topology: Filer1's topology is \d+ bytes of option 43, over the \d+ bytes/);
  t.match(r.err, /rackstrap validate --json/);
  writeFileSync(file, withServers(4));
  await t.resolves(loadServerConfigInline(file), 'a description that fits loads');
});
