// The agent's commands as an operator meets them before any network work: help, settings problems
// with where they came from, a status directory the agent never used. In-process (main() with
// captured output); nothing here touches the host's network.
import t from 'tap';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const saved = { ...process.env };
  for (const k of Object.keys(process.env)) if (k.startsWith('RACKSTRAP_')) delete process.env[k];
  Object.assign(process.env, env);
  const out: string[] = [];
  const err: string[] = [];
  try {
    const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.env = saved;
  }
}

t.test('agent --help lists the modes, the settings and seed 004 feature switches', async (t) => {
  const r = await cli(['agent', '--help']);
  t.equal(r.code, 0);
  for (const flag of ['--once', '--down', '--release', '--cluster-id', '--nic', '--cache-dir', '--key-file', '--topology-timeout', '--mask', '--no-bond', '--no-vlan', '--no-routing', '--no-accounting']) {
    t.match(r.stdout, flag, `mentions ${flag}`);
  }
});

t.test('settings problems: exit 1, each named by its source, before anything is touched', async (t) => {
  const dir = t.testdir({ 'agent.yaml': 'topologyTimeoutMs: 99999999\n', 'empty.yaml': '' });
  const file = join(dir, 'agent.yaml');
  const none = await cli(['agent', '--once', '--config', file]);
  t.equal(none.code, 1);
  t.match(none.stderr, `${file}:1:20 topologyTimeoutMs: at most 10m`);
  t.match(none.stderr, /clusterId: required: .*RACKSTRAP_CLUSTER_ID or --cluster-id/);
  const env = await cli(['agent', '--once', '--config', join(dir, 'agent.yaml')], { RACKSTRAP_CLUSTER_ID: 'zz' });
  t.match(env.stderr, /^RACKSTRAP_CLUSTER_ID: must be a MAC address/m);
  const flags = await cli(['plan', '--config', join(dir, 'empty.yaml'), '--cluster-id', '02:00:00:00:AA:00', '--mask', '0x400']);
  t.equal(flags.code, 2, 'a mask with unknown bits is a usage error');
  t.match(flags.stderr, /feature mask 0x400 has bits outside 0x7f/);
});

t.test('modes that do not go together are usage errors', async (t) => {
  for (const args of [['--down', '--once'], ['--down', '--release'], ['--once', '--release']]) {
    const r = await cli(['agent', ...args, '--cluster-id', '02:00:00:00:AA:00']);
    t.equal(r.code, 2, args.join(' '));
  }
});

t.test('status on a directory the agent never used says so, exit 3 (no agent runs)', async (t) => {
  const dir = t.testdir({});
  const r = await cli(['status', '--cache-dir', dir]);
  t.equal(r.code, 3);
  t.match(r.stderr, `no agent status in ${dir} (status.json is missing): the agent has not run with this cache directory`);
});
