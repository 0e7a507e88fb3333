// When the agent tells systemd the filer is up, against the embedded server in namespaces: READY=1
// only once every alias has its address or the stack is up from the cache, also when that comes
// late — an alias whose reservation is added after the address timeout, or a DHCP server that
// starts after the agent (no cache yet). And `agent --once` exits 4 while an alias still has no
// address, naming it. The agent's log here is the default text, as the journal gets it.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { actual, agentArgs, BIN, FLAT, flatLab, reloadServer, runRackstrap, startServer, stopProcess, writeEmptyConfig } from '../bootstrap/helpers/flat-lab.js';
import { EXIT_ADDRESSES_MISSING } from '../../src/cli/exit-codes.js';
import { notifyReceiver } from './helpers/notify-receiver.js';

/** The flat cluster with san1 added to Filer1's stack, and its reservation only when `reserved`. */
function withSan1(reserved: boolean): string {
  const text = readFileSync(FLAT, 'utf8').replace('        data0: eth1\n    addresses:\n      mgmt0: 10.1.1.2\n', '        data0: eth1\n        san1: eth1\n    addresses:\n      mgmt0: 10.1.1.2\n');
  return reserved ? text.replace('      san0: 10.2.2.2\n', '      san0: 10.2.2.2\n      san1: 10.2.2.7\n') : text;
}

/** The agent's flags with the log in its default format (text). */
function textArgs(args: string[]): string[] {
  const i = args.indexOf('--log-format');
  return i < 0 ? args : [...args.slice(0, i), ...args.slice(i + 2)];
}

t.test('an alias without a reservation: --once exits 4; the daemon is READY only when it is addressed', async (t) => {
  const l = await flatLab(t, ['Filer1'], 'qcra');
  const dir = t.testdir({});
  writeEmptyConfig(dir);
  const config = join(dir, 'cluster.yaml');
  t.not(withSan1(false), readFileSync(FLAT, 'utf8'), 'san1 is in the stack');
  writeFileSync(config, withSan1(false));
  const server = await startServer(l, config, join(dir, 'leases.log'));
  t.teardown(() => stopProcess(server.child));
  const ns = l.ns.get('Filer1')!;

  const once = await runRackstrap(l, ns, ['agent', '--once', ...textArgs(agentArgs(l, join(dir, 'once'), ['--address-timeout', '1s']))]);
  t.equal(once.code, EXIT_ADDRESSES_MISSING, `exit ${EXIT_ADDRESSES_MISSING}: up, not whole\n${once.stderr}`);
  t.match(once.stdout, /^Filer1: up from DHCP, generation 1; no address yet for \S*:san1:Filer1$/m);
  t.ok((await actual(l.lab, ns)).addresses.includes('mgmt0 10.1.1.2/24'), 'the rest is applied');
  // The log as the journal would get it from a terminal-less start: text, a severity per line.
  const lines = once.stderr.trim().split('\n');
  t.ok(lines.length >= 3 && lines.every((x) => /^\S+Z (debug|info |warn |error) [a-z0-9-]+: /.test(x)), `text lines with a severity:\n${once.stderr}`);
  t.match(once.stderr, /warn  addresses-missing: no lease within 1000 ms for .*san1/);
  t.notMatch(once.stderr, /^\{/m, 'no JSON');
  await runRackstrap(l, ns, ['agent', '--down', ...agentArgs(l, join(dir, 'once'))]);

  const sd = await notifyReceiver(t, 'qcra');
  const agent = l.lab.spawn(ns, process.execPath, [BIN, 'agent', ...agentArgs(l, join(dir, 'daemon'), ['--address-timeout', '1s'])], { env: { NOTIFY_SOCKET: sd.socket } });
  t.teardown(() => stopProcess(agent));
  const waiting = await sd.waitFor((m) => m.startsWith('STATUS='), 30_000);
  t.match(waiting, /^STATUS=Filer1: up from DHCP, generation 1; no address yet for \S*:san1:Filer1$/, 'STATUS says what is missing');
  t.notOk(sd.got.some((m) => m.includes('READY=1')), 'not READY with an alias unaddressed');
  // The DHCP admin adds the reservation; the agent's client, still asking, gets it.
  await reloadServer(server, config, withSan1(true));
  const ready = await sd.waitFor((m) => m.startsWith('READY=1'), 30_000);
  t.ok(ready, 'READY=1 once the late lease is applied');
  t.match(ready, /STATUS=Filer1: up from DHCP, generation 1$/);
  t.ok((await actual(l.lab, ns)).addresses.includes('san1 10.2.2.7/24'), 'at READY the kernel holds san1\'s address');
  agent.kill('SIGTERM');
  t.ok(await sd.waitFor((m) => m === 'STOPPING=1', 15_000), 'STOPPING=1');
  await agent.catch(() => undefined);
  t.equal(sd.got.filter((m) => m.startsWith('READY=1')).length, 1, 'READY once');
});

t.test('no DHCP server at start and no cache: READY when the server comes, after the agent retried', async (t) => {
  const l = await flatLab(t, ['Filer1'], 'qcrb');
  const dir = t.testdir({});
  writeEmptyConfig(dir);
  const ns = l.ns.get('Filer1')!;
  const sd = await notifyReceiver(t, 'qcrb');
  const agent = l.lab.spawn(ns, process.execPath, [BIN, 'agent', ...agentArgs(l, join(dir, 'filer1'), ['--topology-timeout', '500ms'])], { env: { NOTIFY_SOCKET: sd.socket } });
  t.teardown(() => stopProcess(agent));
  const notYet = await sd.waitFor((m) => m.startsWith('STATUS=not up yet'), 30_000);
  t.match(notYet, /no topology from DHCP within 500 ms and no cache/);
  t.notOk(sd.got.some((m) => m.includes('READY=1')), 'nothing up: not READY');
  const server = await startServer(l, FLAT, join(dir, 'leases.log'));
  t.teardown(() => stopProcess(server.child));
  const ready = await sd.waitFor((m) => m.startsWith('READY=1'), 30_000);
  t.ok(ready, 'READY=1 once a later round got the topology and every address');
  t.match(ready, /STATUS=Filer1: up from DHCP, generation 1$/);
  const have = (await actual(l.lab, ns)).addresses;
  t.ok(have.includes('mgmt0 10.1.1.2/24') && have.includes('san0 10.2.2.2/24'), `at READY every address is there: ${have.join(', ')}`);
});

t.test('an alias still unaddressed at the ready deadline: READY anyway, STATUS names it, a warning; the late lease only updates STATUS', async (t) => {
  const l = await flatLab(t, ['Filer1'], 'rcrd');
  const dir = t.testdir({});
  writeEmptyConfig(dir);
  const config = join(dir, 'cluster.yaml');
  writeFileSync(config, withSan1(false));
  const server = await startServer(l, config, join(dir, 'leases.log'));
  t.teardown(() => stopProcess(server.child));
  const ns = l.ns.get('Filer1')!;
  const sd = await notifyReceiver(t, 'rcrd');
  const args = textArgs(agentArgs(l, join(dir, 'daemon'), ['--address-timeout', '1s', '--ready-timeout', '10s']));
  const agent = l.lab.spawn(ns, process.execPath, [BIN, 'agent', ...args], { env: { NOTIFY_SOCKET: sd.socket } });
  t.teardown(() => stopProcess(agent));
  let log = '';
  agent.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const waiting = await sd.waitFor((m) => m.startsWith('STATUS='), 30_000);
  t.match(waiting, /no address yet for \S*:san1:Filer1$/, 'before the deadline, STATUS says what is missing');
  t.notOk(sd.got.some((m) => m.includes('READY=1')), 'and it is not READY yet');
  const ready = await sd.waitFor((m) => m.startsWith('READY=1'), 30_000);
  t.match(ready, /^READY=1\nSTATUS=Filer1: up from DHCP, generation 1; no address yet for \S*:san1:Filer1 \(ready after 10s; still asking\)$/, 'READY at the deadline, naming san1');
  const have = (await actual(l.lab, ns)).addresses;
  t.ok(have.includes('mgmt0 10.1.1.2/24') && !have.some((a) => a.startsWith('san1 ')), `the rest is up, san1 has nothing: ${have.join(', ')}`);
  t.match(log, /warn  ready-incomplete: telling systemd the filer is up after 10s without every address \(still asking for \S*san1/, 'a warning in the log');
  // The reservation comes later: the agent, still asking, gets it; STATUS follows, no second READY.
  await reloadServer(server, config, withSan1(true));
  const whole = await sd.waitFor((m) => m === 'STATUS=Filer1: up from DHCP, generation 1', 30_000);
  t.ok(whole, 'STATUS once san1 has its address');
  t.ok((await actual(l.lab, ns)).addresses.includes('san1 10.2.2.7/24'), 'san1 addressed');
  agent.kill('SIGTERM');
  t.ok(await sd.waitFor((m) => m === 'STOPPING=1', 15_000), 'STOPPING=1');
  await agent.catch(() => undefined);
  t.equal(sd.got.filter((m) => m.startsWith('READY=1')).length, 1, 'READY once');
});
