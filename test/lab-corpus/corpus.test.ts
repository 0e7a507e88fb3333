// `rackstrap lab` on every description of the corpus (test/fixtures/corpus), two guests at a time
// (the CI machine has two cores): each filer's kernel, as the guest's `ip -j -d` wrote it, against
// what the description means (src/lab/check.ts reads the cluster model, never the agent's plan).
// Run by `npm run test:lab` (CI's second tap run), not by `npm test`: each guest takes a minute.
//
// The DHCP step only: the cache step and the live change run in the example's own test
// (test/e2e/demo.test.ts), on every CI run as well.
import t, { type Test } from 'tap';
import { availableParallelism, loadavg } from 'node:os';
import { checkKernel, expectedKernel } from '../../src/lab/check.js';
import { labUnavailable, runLab, type LabRun } from '../../src/lab/host.js';
import { parseObservation, type RawObservation } from '../../src/net/observe.js';
import { loadClusterFile, type LoadedCluster } from '../../src/options/load.js';
import { reservationsOf } from '../../src/options/resolve.js';
import { corpusFiles } from '../lab/helpers/corpus.js';

const PARALLEL = Math.max(1, Math.min(2, availableParallelism()));

async function pool<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
    }),
  );
  return out;
}

t.test('rackstrap lab on every corpus description: each kernel matches the description', async (t) => {
  const missing = labUnavailable();
  if (missing !== undefined) {
    t.fail(`user-mode Linux is required for this test: ${missing}`);
    return;
  }
  const files = corpusFiles();
  const t0 = performance.now();
  const runs = await pool(files, PARALLEL, async (file) => ({ file, loaded: await loadClusterFile(file), run: await runLab({ cluster: file, skipCache: true, timeoutMs: 280_000 }) }));
  t.comment(`${files.length} descriptions, ${PARALLEL} at a time: ${((performance.now() - t0) / 1000).toFixed(1)} s wall; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  for (const { file, loaded, run } of runs) await t.test(file, async (t) => checkRun(t, loaded, run));
});

async function checkRun(t: Test, loaded: LoadedCluster, run: LabRun): Promise<void> {
  const res = run.results;
  t.comment(`lab: ${(run.elapsedMs / 1000).toFixed(1)} s boot to power-off`);
  if (res === undefined) {
    t.fail(`the guest wrote no results (exit ${run.exitCode}):\n--- log ---\n${run.log.slice(-3000)}\n--- console ---\n${run.console.slice(-2000)}`);
    return;
  }
  // Differences are checked one by one below; anything else the lab found is a failure here.
  t.same(res.problems.filter((p) => !/fields differ from the description/.test(p)), [], 'the lab found no other problem');
  for (const f of loaded.filers.values()) {
    const dhcp = res.runs.dhcp?.find((r) => r.filer === f.name);
    t.comment(`${f.name}: agent start -> every alias addressed ${dhcp?.addressedMs === undefined ? 'never' : `${(dhcp.addressedMs / 1000).toFixed(2)} s`}`);
    const raw = run.files.get(`${f.name.toLowerCase()}-dhcp.json`);
    if (raw === undefined) {
      t.fail(`${f.name}: the guest wrote no ${f.name.toLowerCase()}-dhcp.json`);
      continue;
    }
    const checks = checkKernel(expectedKernel(loaded, f.name), parseObservation(JSON.parse(raw) as RawObservation));
    t.ok(checks.length > 0, `${f.name}: ${checks.length} fields compared`);
    for (const c of checks) {
      if (!c.ok) t.fail(`${f.name} ${c.subject} ${c.field}: ${c.want} (kernel: ${c.got})`);
    }
    t.ok(checks.every((c) => c.ok), `${f.name}: every field matches the description`);
    checkIpv6Notice(t, loaded, f.name, run.files.get(`${f.name.toLowerCase()}-dhcp-agent.log`));
  }
}

/**
 * IPv6 addresses of a filer (its own, and those of the servers and roles homed on it), counted
 * from the description: DHCPv4 serves none, so the agent says so once, naming how many, and comes
 * up without them (the kernel check above). Before, it asked DHCPv4 for them and never came up.
 */
function checkIpv6Notice(t: Test, loaded: LoadedCluster, filer: string, log: string | undefined): void {
  const v6 = reservationsOf(loaded).filter((r) => r.kind !== 'topology' && r.family === 6 && (r.kind === 'filer' ? r.filer : r.home) === filer).length;
  if (log === undefined) {
    t.fail(`${filer}: the guest wrote no agent log`);
    return;
  }
  const notices = log.split('\n').filter((l) => /"event":"ipv6-not-asked"/.test(l));
  t.equal(notices.length, v6 === 0 ? 0 : 1, `${filer}: ${v6} IPv6 address(es) in the description, ${v6 === 0 ? 'no IPv6 notice' : 'one IPv6 notice'} from the agent`);
  if (v6 > 0) t.match(notices[0], new RegExp(`IPv6: not served by DHCPv4 yet: the description gives ${filer} ${v6} IPv6 address`), `${filer}: it names the count`);
}
