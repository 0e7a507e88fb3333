// The long-running agent on a real kernel (user-mode Linux: bonds and VLANs, which the host kernel
// lacks): the guest (helpers/operator-guest.ts) runs the example's Filer1 with the daemon under
// `repair`, deletes or changes rackstrap's objects under it, takes a bond member's carrier away,
// miswires the fake switch four ways, then restarts the daemon under `report`. Here each kernel
// state it recorded is judged against the cluster description (src/lab/check.ts reads the model,
// never the agent's plan), and each finding against the daemon's replies.
//
// Run by `npm run test:lab` with the corpus. The member held out of distributing is proven with the
// one cause a Linux bond as the switch can give: a port at another speed (the driver keys ports by
// speed, so the member sits in an aggregator of its own). A switch that answers one port with
// "not in sync" under the same key, as some switches do for a suspended port, cannot be made with
// a Linux bond: each port it holds back carries another key, which the filer sees too. Duplex
// cannot be varied: every device of this kernel that a bond can take says "full" (veth, macvlan,
// bond); only tun/tap devices take a set speed and duplex, and they need a process holding them.
import t from 'tap';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkKernel, expectedKernel, type KernelCheck } from '../../src/lab/check.js';
import { labUnavailable, PROJECT_ROOT, runGuestProgram } from '../../src/lab/host.js';
import { parseObservation, type ObservedState, type RawObservation } from '../../src/net/observe.js';
import { DriftState } from '../../src/bootstrap/drift-check.js';
import { LinksReply } from '../../src/control/protocol.js';
import { loadClusterFile } from '../../src/options/load.js';
import type { OperatorStep } from './helpers/operator-guest.js';

const GUEST = fileURLToPath(new URL('./helpers/operator-guest.js', import.meta.url));
const CLUSTER = resolve(PROJECT_ROOT, 'examples/cluster.yaml');
const FILER = 'Filer1';

t.test('the agent daemon on a real kernel: repair, report, carrier and switch mistakes', async (t) => {
  const missing = labUnavailable();
  if (missing !== undefined) {
    t.fail(`user-mode Linux is required for this test: ${missing}`);
    return;
  }
  const loaded = await loadClusterFile(CLUSTER);
  const exp = expectedKernel(loaded, FILER);
  // What the guest moves around, from the description: the 802.3ad bond, its last member, its last VLAN.
  const bond = exp.links.find((l) => l.kind === 'bond' && l.lacp)!;
  const member = bond.members.at(-1)!;
  const vlan = exp.links.filter((l) => l.kind === 'vlan' && l.fields.parent === bond.ifname).at(-1)!.ifname;

  const run = await runGuestProgram({ program: GUEST, args: ['--cluster', CLUSTER, '--filer', FILER], timeoutMs: 900_000 });
  t.comment(`guest: ${(run.elapsedMs / 1000).toFixed(1)} s boot to power-off; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const raw = run.files.get('operator.json');
  if (raw === undefined) {
    t.fail(`the guest wrote no results (exit ${run.exitCode}):\n--- log ---\n${run.log.slice(-4000)}\n--- console ---\n${run.console.slice(-2000)}`);
    return;
  }
  const res = JSON.parse(raw) as { problems: string[]; steps: OperatorStep[] };
  t.same(res.problems, [], 'the guest ran every step');
  const stepOf = (name: string) => res.steps.find((s) => s.name === name);
  const stateOf = (s: OperatorStep | undefined): ObservedState | undefined => {
    const f = s?.snapshot === undefined ? undefined : run.files.get(s.snapshot);
    return f === undefined ? undefined : parseObservation(JSON.parse(f) as RawObservation);
  };
  const differ = (s: ObservedState): KernelCheck[] => checkKernel(exp, s).filter((c) => !c.ok);
  const adminThere = (s: ObservedState) => ({
    link: s.links.some((l) => l.ifname === 'adm0' && !l.owned),
    address: s.addresses.some((a) => a.dev === 'adm0' && a.local === '192.0.2.10'),
    route: s.routes.some((r) => r.dst === '198.51.100.0/24' && r.gateway === '192.0.2.1'),
    rule: s.rules.some((r) => r.src === '192.0.2.10' && r.priority === 30500 && r.table === 100),
  });
  const ADMIN = { link: true, address: true, route: true, rule: true };
  const ms = (s: OperatorStep | undefined) => (s?.ms === undefined ? 'never' : `${Math.round(s.ms)} ms`);

  const up = stepOf('up');
  const upState = stateOf(up);
  t.ok(up?.ms !== undefined && upState !== undefined, `${FILER} up from DHCP under repair (${ms(up)})`);
  if (upState !== undefined) t.same(differ(upState), [], 'the kernel matches the description');

  for (const name of ['repair-bond-deleted', 'repair-vlan-deleted', 'repair-member-pulled-out', 'repair-route-deleted']) {
    const s = stepOf(name);
    const state = stateOf(s);
    t.ok(s?.ms !== undefined, `${name}: the kernel matches the description again after ${ms(s)} (${s?.notes.join('; ')})`);
    if (state === undefined) {
      t.fail(`${name}: no snapshot`);
      continue;
    }
    t.same(differ(state), [], `${name}: every field as the description says, LACP distributing`);
    t.same(adminThere(state), ADMIN, `${name}: the admin's own link, address, route and rule are untouched`);
    const drift = DriftState.parse(s!.replies.drift);
    t.same(drift.items, [], `${name}: nothing left to repair`);
  }
  const repairs = DriftState.parse(stepOf('repair-route-deleted')?.replies.drift).repairs;
  t.ok(repairs >= 4, `${repairs} repairs recorded over the four changes`);

  const lost = stepOf('carrier-lost');
  t.ok(lost?.ms !== undefined, `a bond member without carrier is reported after ${ms(lost)}`);
  if (lost?.ms !== undefined) {
    const drift = DriftState.parse(lost.replies.drift);
    t.ok(drift.health.some((h) => h.ifname === member && h.problem === 'no-carrier' && h.message.includes(bond.ifname)), `${member}: no carrier, member of ${bond.ifname}`);
    t.equal(drift.repairs, lost.replies.repairsBefore, 'no repair was attempted for it');
    t.same(drift.items, [], 'it is not a difference to repair');
    const links = LinksReply.parse(lost.replies.links);
    t.equal(links.links.find((l) => l.ifname === member)?.carrier, false, '`links` shows the carrier off');
  }
  const back = stepOf('carrier-back');
  const backState = stateOf(back);
  t.ok(back?.ms !== undefined && backState !== undefined && differ(backState).length === 0, `carrier back: health clear and LACP distributing again after ${ms(back)}`);

  const mistakes: Array<[string, string, string]> = [
    ['switch-port-not-in-lacp-group', 'lacp-no-partner', member],
    ['switch-ports-in-two-lacp-groups', 'lacp-split', bond.ifname],
    ['switch-vlan-not-allowed', 'vlan-silent', vlan],
    ['switch-port-at-other-speed', 'speed-mismatch', bond.ifname],
  ];
  for (const [name, kind, ifname] of mistakes) {
    const s = stepOf(name);
    t.ok(s?.ms !== undefined, `${name}: ${kind} on ${ifname} found after ${ms(s)}`);
    if (s?.ms === undefined) continue;
    const found = LinksReply.parse(s.replies.links).switchProblems.find((p) => p.kind === kind && p.ifname === ifname);
    t.ok(found !== undefined && found.fix.length > 0, `${name}: \`links\` says: ${found?.message}; likely fix: ${found?.fix}`);
    t.notOk(LinksReply.parse(s.replies.afterFix).switchProblems.some((p) => p.kind === kind), `${name}: gone once the switch is fixed (${s.notes.join('; ')})`);
    const state = stateOf(s);
    t.ok(state !== undefined && differ(state).length === 0, `${name}: the filer matches the description after the fix`);
  }
  const speed = stepOf('switch-port-at-other-speed');
  if (speed?.ms !== undefined) {
    const found = LinksReply.parse(speed.replies.links).switchProblems;
    const stuck = found.find((p) => p.kind === 'not-distributing' && p.ifname === member);
    t.ok(stuck !== undefined, `switch-port-at-other-speed: \`links\` says: ${stuck?.message}; likely fix: ${stuck?.fix}`);
    t.match(stuck?.message ?? '', /20000 Mb\/s full while the others run at 10000 Mb\/s full/, 'it names the odd speed and the others\'');
    t.notOk(found.some((p) => p.kind === 'lacp-split'), 'one switch, one port channel: not called a split (the other key comes from the speed)');
    t.notOk(LinksReply.parse(speed.replies.afterFix).switchProblems.some((p) => p.kind === 'not-distributing'), 'distributing again once the cable is right');
  }
  const split = stepOf('switch-ports-in-two-lacp-groups');
  t.match(String(split?.replies.showLinks ?? ''), new RegExp(`members of ${bond.ifname} see different LACP partners`), '`rackstrap show links` prints the finding');
  const logged = (stepOf('switch-log')?.replies.switchLog ?? []) as Array<{ kind: string }>;
  for (const kind of [...mistakes.map(([, k]) => k), 'not-distributing']) t.ok(logged.some((e) => e.kind === kind), `the daemon logged ${kind}`);

  const report = stepOf('report');
  t.ok(report?.ms !== undefined, `report: the deleted VLAN and the pulled-out member show as drift after ${ms(report)}`);
  const reportState = stateOf(report);
  if (report?.ms !== undefined && reportState !== undefined) {
    const shown = DriftState.parse(JSON.parse(String(report.replies.showDriftJson)));
    t.equal(shown.policy, 'report', '`show drift --json`: policy report');
    t.equal(shown.repairs, 0, 'no repair');
    t.ok(shown.items.some((i) => i.target.includes(vlan)) && shown.items.some((i) => i.target.includes(member)), `\`show drift --json\` lists ${vlan} and ${member}: ${shown.items.map((i) => `${i.kind} ${i.target}`).join(', ')}`);
    const d = differ(reportState);
    t.ok(d.some((c) => c.subject === vlan && c.field === 'kind' && c.got === 'missing'), `${vlan} is still missing in the kernel`);
    t.ok(d.some((c) => c.subject === bond.ifname && c.field === 'members' && !c.got.includes(member)), `${member} is still out of ${bond.ifname}`);
    t.same(adminThere(reportState), ADMIN, "the admin's objects are untouched");
  }
});
