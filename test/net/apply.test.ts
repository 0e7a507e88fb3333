// apply() with fake runners: exact command sequences, rollback order, batching and its failure
// reports, dry-run. (The real-kernel checks are in apply-netns.test.ts and uml.test.ts.)
import t from 'tap';
import { RackstrapError, StepFailedError } from '../../src/errors.js';
import { apply, CommandFailedError } from '../../src/net/apply.js';
import type { Step } from '../../src/net/plan.js';
import type { RunOptions, RunResult, Runner } from '../../src/net/runner.js';

const ip = (...a: string[]) => ['ip', ...a];
const step = (argv: string[], undo: string[][], kind: Step['kind'] = 'link-set' as Step['kind']): Step => ({
  kind, target: argv.slice(1, 4).join(' '), feature: undefined, argv, undo, reason: 'test',
});

/** A fake kernel: records every command that takes effect; fails the commands in `failing`. */
function fakeKernel(failing: Map<string, string> = new Map()) {
  const effects: string[] = [];
  const calls: string[] = [];
  const one = (argv: readonly string[]): { ok: boolean; stderr: string } => {
    const line = argv.join(' ');
    const err = failing.get(line);
    if (err !== undefined) return { ok: false, stderr: `${err}\n` };
    effects.push(line);
    return { ok: true, stderr: '' };
  };
  const result = (argv: readonly string[], exitCode: number, stdout: string, stderr: string): RunResult => ({ argv, exitCode, stdout, stderr });
  const runner: Runner = {
    async run(argv: readonly string[], opts?: RunOptions) {
      calls.push(argv.join(' ') + (opts?.input === undefined ? '' : ` <<${opts.input.trim().split('\n').join(' | ')}`));
      if (argv.join(' ') === 'ip -batch -' || argv.join(' ') === 'ip -force -batch -') {
        const force = argv.includes('-force');
        let stdout = '';
        let stderr = '';
        let failed = false;
        for (const [i, line] of opts!.input!.split('\n').entries()) {
          if (line === '') continue;
          if (line === 'link show dev lo') {
            stdout += '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n';
            continue;
          }
          const r = one(['ip', ...line.split(' ')]);
          if (!r.ok) {
            stderr += `${r.stderr}Command failed -:${i + 1}\n`;
            failed = true;
            if (!force) break;
          }
        }
        return result(argv, failed ? 1 : 0, stdout, stderr);
      }
      if (argv[0] === 'iptables-restore') {
        const lines = opts!.input!.trim().split('\n');
        const body = lines.slice(1, -1);
        const bad = body.findIndex((l) => failing.has(`iptables -w ${l}`));
        if (bad >= 0) return result(argv, 1, '', `iptables-restore: line ${bad + 2} failed: ${failing.get(`iptables -w ${body[bad]}`)}\n`);
        for (const l of body) effects.push(`iptables -w ${l}`);
        return result(argv, 0, '', '');
      }
      const r = one(argv);
      return { ...result(argv, r.ok ? 0 : 2, '', r.stderr), ...(r.ok ? {} : { error: new Error(`Command failed: ${argv.join(' ')}`) }) };
    },
  };
  return { runner, effects, calls };
}

const STEPS: Step[] = [
  step(ip('link', 'add', 'bond0', 'type', 'bond', 'mode', '802.3ad'), [ip('link', 'del', 'dev', 'bond0')], 'link-add'),
  step(ip('link', 'set', 'dev', 'eth0', 'down'), [ip('link', 'set', 'dev', 'eth0', 'up')], 'link-down'),
  step(ip('link', 'set', 'dev', 'eth0', 'master', 'bond0'), [ip('link', 'set', 'dev', 'eth0', 'nomaster')], 'link-enslave'),
  step(ip('link', 'set', 'dev', 'bond0', 'up'), [ip('link', 'set', 'dev', 'bond0', 'down')], 'link-up'),
  step(ip('addr', 'add', '10.0.0.1/24', 'dev', 'bond0'), [ip('addr', 'del', '10.0.0.1/24', 'dev', 'bond0')], 'addr-add'),
  step(ip('route', 'flush', 'cache'), [], 'route-flush'),
  step(['iptables', '-w', '-N', 'RACKSTRAP-IN'], [['iptables', '-w', '-X', 'RACKSTRAP-IN']], 'acct-add'),
  step(['iptables', '-w', '-A', 'RACKSTRAP-IN', '-d', '10.0.0.1/32'], [['iptables', '-w', '-D', 'RACKSTRAP-IN', '-d', '10.0.0.1/32']], 'acct-add'),
];
const all = (s: Step[]) => s.map((x) => x.argv.join(' '));

t.test('dry run prints every step and never touches the runner', async (t) => {
  const lines: string[] = [];
  const runner: Runner = { run: async () => t.fail('runner called') as never };
  const r = await apply(STEPS, { runner, dryRun: true, log: (l) => lines.push(l) });
  t.same(lines, [
    'DRY-RUN: link add bond0 type bond mode 802.3ad',
    'DRY-RUN: link set dev eth0 down',
    'DRY-RUN: link set dev eth0 master bond0',
    'DRY-RUN: link set dev bond0 up',
    'DRY-RUN: addr add 10.0.0.1/24 dev bond0',
    'DRY-RUN: route flush cache',
    'DRY-RUN: iptables -w -N RACKSTRAP-IN',
    'DRY-RUN: iptables -w -A RACKSTRAP-IN -d 10.0.0.1/32',
  ]);
  t.same(r, { ran: [], results: [], dryRun: true });
  await t.rejects(apply(STEPS), { code: 'RS_APPLY' }, 'no runner, no dry run: refused');
});

t.test('one process per step: runs in order; on failure undoes what ran, newest first', async (t) => {
  const ok = fakeKernel();
  const rep = await apply(STEPS, { runner: ok.runner, batch: false });
  t.same(ok.effects, all(STEPS));
  t.equal(rep.ran.length, STEPS.length);

  const k = fakeKernel(new Map([['ip addr add 10.0.0.1/24 dev bond0', 'RTNETLINK answers: File exists']]));
  const err = await apply(STEPS, { runner: k.runner, batch: false }).catch((e: unknown) => e);
  t.ok(err instanceof StepFailedError);
  const e = err as StepFailedError;
  t.equal(e.code, 'RS_STEP');
  t.equal(e.index, 4);
  t.equal(e.step.kind, 'addr-add');
  t.match(e.message, /^step 5 \(addr-add addr add 10\.0\.0\.1\/24\) failed: ip addr add 10\.0\.0\.1\/24 dev bond0: RTNETLINK answers: File exists; every earlier step of this run was undone$/);
  t.ok(e.cause instanceof CommandFailedError);
  t.equal((e.cause as CommandFailedError).stderr, 'RTNETLINK answers: File exists\n');
  t.match((e.cause as CommandFailedError).cause, { message: /Command failed/ }, 'the runner\'s own error is kept');
  t.same(k.effects, [
    ...all(STEPS.slice(0, 4)),
    'ip link set dev bond0 down', 'ip link set dev eth0 nomaster', 'ip link set dev eth0 up', 'ip link del dev bond0',
  ]);
  t.ok(e.rolledBack);
});

t.test('an undo that fails is reported: the host is not as before', async (t) => {
  const k = fakeKernel(new Map([
    ['ip link set dev bond0 up', 'RTNETLINK answers: Operation not supported'],
    ['ip link set dev eth0 nomaster', 'RTNETLINK answers: Device or resource busy'],
  ]));
  const e = (await apply(STEPS, { runner: k.runner, batch: false }).catch((x: unknown) => x)) as StepFailedError;
  t.equal(e.rolledBack, false);
  t.same(e.undoFailures, ['ip link set dev eth0 nomaster: RTNETLINK answers: Device or resource busy']);
  t.match(e.message, /undo incomplete, the host is NOT as before/);
  t.same(k.effects.slice(3), ['ip link set dev eth0 up', 'ip link del dev bond0'], 'the other undos still ran');
});

t.test('batched: ip runs in batches (never `master`), iptables in one atomic restore', async (t) => {
  const k = fakeKernel();
  const rep = await apply(STEPS, { runner: k.runner });
  t.same(k.effects, all(STEPS), 'every step took effect, in order');
  t.same(k.calls, [
    'ip -batch - <<link show dev lo',
    'ip -batch - <<link add bond0 type bond mode 802.3ad | link set dev eth0 down | link show dev lo',
    'ip link set dev eth0 master bond0',
    'ip -batch - <<link set dev bond0 up | addr add 10.0.0.1/24 dev bond0 | route flush cache | link show dev lo',
    'iptables-restore -w --noflush <<*filter | -N RACKSTRAP-IN | -A RACKSTRAP-IN -d 10.0.0.1/32 | COMMIT',
  ]);
  t.equal(rep.results.length, 4);
});

t.test('batched: the failing line is named and the rest undone in one forced batch', async (t) => {
  const k = fakeKernel(new Map([['ip addr add 10.0.0.1/24 dev bond0', 'Error: ipv4: Address already assigned.']]));
  const e = (await apply(STEPS, { runner: k.runner }).catch((x: unknown) => x)) as StepFailedError;
  t.equal(e.index, 4);
  t.equal(e.stderr, 'Error: ipv4: Address already assigned.');
  t.ok(e.rolledBack);
  t.same(k.effects, [
    ...all(STEPS.slice(0, 4)),
    'ip link set dev bond0 down', 'ip link set dev eth0 nomaster', 'ip link set dev eth0 up', 'ip link del dev bond0',
  ]);
  t.match(k.calls.at(-1), /^ip -force -batch - <<link set dev bond0 down \| link set dev eth0 nomaster \| link set dev eth0 up \| link del dev bond0$/);
});

t.test('batched: iptables-restore is all or nothing; its failing line names the step', async (t) => {
  const k = fakeKernel(new Map([['iptables -w -A RACKSTRAP-IN -d 10.0.0.1/32', 'Chain already exists.']]));
  const e = (await apply(STEPS, { runner: k.runner }).catch((x: unknown) => x)) as StepFailedError;
  t.equal(e.index, 7, 'the second iptables step');
  t.match(e.stderr, /line 3 failed/);
  t.notOk(k.effects.some((l) => l.startsWith('iptables')), 'nothing of the restore took effect');
  t.same(k.effects.slice(STEPS.length - 2), ['ip addr del 10.0.0.1/24 dev bond0', 'ip link set dev bond0 down', 'ip link set dev eth0 nomaster', 'ip link set dev eth0 up', 'ip link del dev bond0']);
  t.ok(e.rolledBack);
});

t.test('batched: an ip batch that dies without naming its line is reported as not rolled back', async (t) => {
  const k = fakeKernel();
  const runner: Runner = {
    async run(argv, opts) {
      if (argv.join(' ') === 'ip -batch -' && opts?.input?.includes('addr add')) return { argv, exitCode: 255, stdout: '', stderr: 'Error: argument "x" is wrong\n' };
      return k.runner.run(argv, opts);
    },
  };
  const e = (await apply(STEPS, { runner }).catch((x: unknown) => x)) as StepFailedError;
  t.equal(e.rolledBack, false);
  t.match(e.undoFailures[0], /stopped without naming the failed line: steps 4-6 may have partly run; observe and plan again/);
  t.same(k.effects.slice(3), ['ip link set dev eth0 nomaster', 'ip link set dev eth0 up', 'ip link del dev bond0'], 'what surely ran is undone');
});

t.test('a runner that drops stdin is refused before anything changes', async (t) => {
  const k = fakeKernel();
  const runner: Runner = { run: (argv) => k.runner.run(argv, { input: '' }) };
  const e = await apply(STEPS, { runner }).catch((x: unknown) => x);
  t.ok(e instanceof RackstrapError && !(e instanceof StepFailedError));
  t.match(e, { code: 'RS_APPLY', message: /does not pass `input`.*nothing was changed/ });
  t.same(k.effects, []);
  const rep = await apply(STEPS, { runner, batch: false });
  t.equal(rep.ran.length, STEPS.length, 'it still works one step at a time');
});
