// sd_notify from the agent daemon, as systemd receives it: a real unix datagram socket
// (helpers/notify-receiver.ts) stands in for systemd's; the agent runs in the namespace lab against the
// embedded server. READY=1 must come only once every alias has its address (checked against the
// kernel at that moment), STOPPING=1 on SIGTERM.
import t from 'tap';
import { join } from 'node:path';
import { actual, agentArgs, BIN, expected, FLAT, flatLab, startServer, stopProcess, writeEmptyConfig } from '../bootstrap/helpers/flat-lab.js';
import { systemdNotifier } from '../../src/systemd/notify.js';
import { notifyReceiver } from './helpers/notify-receiver.js';

t.test('without NOTIFY_SOCKET nothing is sent; with it the variable leaves the environment', async (t) => {
  const sent: string[] = [];
  const off = systemdNotifier({ env: {}, send: (_s, text) => sent.push(text) });
  off.ready('x');
  t.equal(off.active, false);
  t.same(sent, []);
  const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '@sd' };
  const on = systemdNotifier({ env, send: (s, text) => sent.push(`${s} ${text}`) });
  t.equal(env.NOTIFY_SOCKET, undefined, 'children never see it');
  on.ready('Filer1: up\nfrom DHCP');
  on.stopping();
  t.same(sent, ['@sd READY=1\nSTATUS=Filer1: up from DHCP', '@sd STOPPING=1']);
});

t.test('the agent daemon: READY=1 once every alias is addressed, STOPPING=1 on SIGTERM', async (t) => {
  const l = await flatLab(t, ['Filer1'], 'qpb');
  const dir = t.testdir({});
  writeEmptyConfig(dir);
  const server = await startServer(l, FLAT, join(dir, 'leases.log'));
  t.teardown(() => stopProcess(server.child));
  const { socket, got, waitFor } = await notifyReceiver(t, 'qpb');

  const ns = l.ns.get('Filer1')!;
  const agent = l.lab.spawn(ns, process.execPath, [BIN, 'agent', ...agentArgs(l, join(dir, 'filer1'))], { env: { NOTIFY_SOCKET: socket } });
  t.teardown(() => stopProcess(agent));
  const ready = await waitFor((m) => m.startsWith('READY=1'), 30_000);
  t.ok(ready, 'READY=1 arrived');
  const state = await actual(l.lab, ns);
  t.same(state.addresses, expected(l.loaded, 'Filer1').addresses, 'at READY the kernel holds every address the description gives Filer1');
  t.match(ready, /STATUS=Filer1: up from DHCP, generation 1$/);
  t.notOk(got.some((m) => m.startsWith('READY=1') && m !== ready), 'READY once');
  agent.kill('SIGTERM');
  t.ok(await waitFor((m) => m === 'STOPPING=1', 15_000), 'STOPPING=1 on SIGTERM');
  await agent.catch(() => undefined);
});
