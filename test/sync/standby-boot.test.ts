// A filer that boots while the active server is dead gets its topology and addresses from the
// standby. The pair is configured in the cluster description (pair section, service address
// from vs_mgmt); server A is named by --pair-name, server B finds its own name from the sync
// address on its host. A is killed with SIGKILL, B takes over, then the real agent
// (`rackstrap agent --once`) runs on Filer1 and must come up from DHCP exactly as the
// description says.

import t from 'tap';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { loadClusterFile } from '../../src/options/load.js';
import { actual, agentArgs, expected, FLAT, flatLab, runRackstrap, stopProcess, writeEmptyConfig } from '../bootstrap/helpers/flat-lab.js';
import { BIN } from '../dhcp-server/helpers/serve.js';

const SECRET = Buffer.from('pair secret for the namespace tests only, 0002');

t.test('a filer booting while the active is dead comes up from the standby', async (t) => {
  const l = await flatLab(t, ['Filer1'], 'qpd');
  const dir = t.testdir({});
  writeEmptyConfig(dir);
  const secretFile = join(dir, 'pair.secret');
  writeFileSync(secretFile, SECRET, { mode: 0o600 });
  chmodSync(secretFile, 0o600);
  // The flat cluster plus the pair and the management virtual server (no home: the pair holds it).
  const doc = parseDocument(readFileSync(FLAT, 'utf8'));
  doc.setIn(['vservers', 'vs_mgmt'], doc.createNode({ table: 9, addresses: { mgmt0: { 0: '10.1.1.240' } } }));
  doc.setIn(['pair'], doc.createNode({
    secretFile,
    servers: {
      'node-a': { sync: '10.9.0.1', paths: ['10.1.1.250'], preferred: true },
      'node-b': { sync: '10.9.0.2', paths: ['10.1.1.251'] },
    },
  }));
  const config = join(dir, 'cluster.yaml');
  writeFileSync(config, doc.toString());
  const loaded = await loadClusterFile(config);

  // Server B: its own namespace on the same switch, an address in each subnet, and the sync link.
  const a = l.srv;
  const b = await l.lab.ns('srvb');
  const sw = `${l.lab.prefix}sw`;
  await l.lab.link(b, 'eth0', sw, 'br0', { mac: '02:00:00:00:0f:01' });
  for (const x of ['10.1.1.251/24', '10.1.9.251/24', '10.2.2.251/24', '10.3.255.251/16']) await l.lab.ip(b, 'addr', 'add', x, 'dev', 'eth0');
  await l.lab.veth(a, 'sync0', b, 'sync0');
  await l.lab.ip(a, 'addr', 'add', '10.9.0.1/30', 'dev', 'sync0');
  await l.lab.ip(b, 'addr', 'add', '10.9.0.2/30', 'dev', 'sync0');

  const start = (ns: string, node: string, extra: string[]) => {
    const child = l.lab.spawn(ns, process.execPath, [BIN, 'serve', config, '--interface', 'eth0', '--lease-file', join(dir, `leases-${node}.log`), '--log-level', 'info', '--log-format', 'json', ...extra]);
    const lines: Array<Record<string, unknown>> = [];
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as Record<string, unknown>);
    });
    const stderr: string[] = [];
    child.stderr?.on('data', (c: Buffer) => stderr.push(c.toString()));
    child.catch(() => undefined);
    return { child, lines, stderr };
  };
  const roleOf = (s: ReturnType<typeof start>): string | undefined => s.lines.filter((x) => x.event === 'pair-role').at(-1)?.role as string | undefined;
  const waitRole = async (s: ReturnType<typeof start>, role: string, ms: number): Promise<void> => {
    const deadline = Date.now() + ms;
    while (roleOf(s) !== role) {
      if (Date.now() > deadline) throw new Error(`no role ${role} within ${ms} ms (last ${roleOf(s)}): ${s.stderr.join('')}\n${s.lines.slice(-20).map((x) => JSON.stringify(x)).join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const sa = start(a, 'a', ['--pair-name', 'node-a']);
  const sb = start(b, 'b', []);
  t.teardown(() => Promise.all([stopProcess(sa.child), stopProcess(sb.child)]));
  // Generous bounds: not a timing test, and the machine may be busy. Whichever server started
  // first may be the active (a busy machine can start B long before A): the test kills that one.
  const deadline = Date.now() + 90_000;
  while (!((roleOf(sa) === 'active' && roleOf(sb) === 'standby') || (roleOf(sb) === 'active' && roleOf(sa) === 'standby'))) {
    if (Date.now() > deadline) throw new Error(`no settled pair within 90 s: A ${roleOf(sa)}, B ${roleOf(sb)}\n${sa.stderr.join('')}${sb.stderr.join('')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const start_b = sb.lines.find((x) => x.event === 'pair-start');
  t.equal(start_b?.name, 'node-b', 'B found its own name from the sync address on its host');
  t.equal(start_b?.service, '10.1.1.240/24 on eth0', "the service address is vs_mgmt's mgmt0 address, from the description");
  t.equal(start_b?.partner, '10.9.0.1:6767', 'the partner endpoint comes from the description');
  const [active, standby, name] = roleOf(sa) === 'active' ? [sa, sb, 'b'] as const : [sb, sa, 'a'] as const;

  active.child.kill('SIGKILL');
  await active.child.catch(() => undefined);
  await waitRole(standby, 'active-alone', 30_000);
  t.pass(`the active killed; ${name.toUpperCase()} (the standby) serves alone`);

  const cacheDir = join(dir, 'filer1');
  const r = await runRackstrap(l, l.ns.get('Filer1')!, ['agent', '--once', ...agentArgs(l, cacheDir)]);
  t.equal(r.code, 0, `agent --once exits 0${r.code === 0 ? '' : `\n${r.stderr.slice(-3000)}`}`);
  t.match(r.stdout, /^Filer1: up from DHCP, generation 1$/m, 'up from DHCP (not from a cache: there is none)');
  t.same(await actual(l.lab, l.ns.get('Filer1')!), expected(loaded, 'Filer1'), 'addresses, routes and rules as the description says');
  const answered = standby.lines.filter((x) => x.event === 'exchange' && String(x.reply ?? x.msg ?? '').length > 0);
  t.ok(answered.length > 0, `the standby answered the filer (${answered.length} exchanges logged by it)`);
  const leases = readFileSync(join(dir, `leases-${name}.log`), 'utf8');
  t.ok(leases.includes('"op":"bind"'), "the filer's leases are in the standby's lease log");
});
