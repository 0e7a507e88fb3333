// gen kea --ha: Kea's hot-standby pair from the cluster description. Kea checks the file (it
// loads both hooks), and two real kea-dhcp4 servers in namespaces running the two files find each
// other and settle, one in hot-standby as primary, the other as its standby.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { makeLab } from '../helpers/netns.js';
import { BIN } from '../dhcp-server/helpers/serve.js';

const URLS = 'primary=http://10.9.0.1:8001/,standby=http://10.9.0.2:8001/';

async function gen(self: string, dir: string): Promise<{ file: string; out: string }> {
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [BIN, 'gen', 'kea', 'examples/cluster.yaml', '--standalone', '--ha', URLS, '--ha-self', self, '--ha-timing', 'fast'], (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout))));
  const file = join(dir, `kea-${self}.json`);
  writeFileSync(file, out);
  return { file, out };
}

t.test('gen kea --ha: a real Kea pair forms from the two files', async (t) => {
  const lab = await makeLab(t, { prefix: 'qpc' });
  const dir = t.testdir();
  const p = await lab.ns('kp');
  const s = await lab.ns('ks');
  await lab.veth(p, 'sync0', s, 'sync0');
  await lab.ip(p, 'addr', 'add', '10.9.0.1/30', 'dev', 'sync0');
  await lab.ip(s, 'addr', 'add', '10.9.0.2/30', 'dev', 'sync0');
  const logs: Record<string, string[]> = { primary: [], standby: [] };
  for (const [self, ns] of [['primary', p], ['standby', s]] as const) {
    const { file, out } = await gen(self, dir);
    t.ok(out.includes('libdhcp_ha.so') && out.includes('libdhcp_lease_cmds.so') && out.includes(`"this-server-name": "${self}"`), `${self}: both hooks, this server named`);
    const run = join(dir, `run-${self}`);
    mkdirSync(run, { recursive: true });
    const env = { ...process.env, KEA_PIDFILE_DIR: run, KEA_LOCKFILE_DIR: run, KEA_LOGGER_DESTINATION: 'stdout' } as Record<string, string>;
    const check = await lab.exec(ns, 'kea-dhcp4', ['-t', file], { env, reject: false });
    t.equal(check.exitCode, 0, `${self}: kea-dhcp4 -t accepts it\n${check.stderr.slice(-500)}`);
    const child = lab.spawn(ns, 'kea-dhcp4', ['-c', file], { env });
    child.stdout?.on('data', (b: Buffer) => logs[self]!.push(b.toString()));
    child.stderr?.on('data', (b: Buffer) => logs[self]!.push(b.toString()));
  }
  const deadline = Date.now() + 30_000;
  const inState = (self: string): boolean => /HA_STATE_TRANSITION[^\n]*HOT-STANDBY/i.test(logs[self]!.join(''));
  while (!(inState('primary') && inState('standby')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  t.comment(logs.primary!.join('').split('\n').filter((x) => x.includes('HA_STATE_TRANSITION')).join('\n'));
  t.ok(inState('primary'), `primary reached hot-standby${inState('primary') ? '' : `:\n${logs.primary!.join('').slice(-1500)}`}`);
  t.ok(inState('standby'), `standby reached hot-standby${inState('standby') ? '' : `:\n${logs.standby!.join('').slice(-1500)}`}`);
});
