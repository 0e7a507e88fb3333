// Agent settings, seed 004's way: config file < RACKSTRAP_* environment < flags < (defaults under
// all). Each bad value is reported where it came from; every problem at once.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_DEFAULTS, DEFAULT_CACHE_DIR, loadAgentConfig, loadAgentLocations, defaultControlSocket } from '../../src/bootstrap/agent-config.js';
import { ConfigError, formatProblem } from '../../src/errors.js';

const CID = '02:00:00:00:AA:00';

async function problems(p: Promise<unknown>): Promise<string[]> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map(formatProblem);
    throw e;
  }
  throw new Error('expected a ConfigError');
}

t.test('defaults, then the file, then the environment, then flags', async (t) => {
  const dir = t.testdir({
    'agent.yaml': [
      `clusterId: "${CID.toLowerCase()}"`,
      'vendorClass: filers',
      'cacheDir: state        # relative to this file',
      'keyFile: /etc/rackstrap/cluster.key',
      'topologyTimeoutMs: 5000',
      'nics: { eth0: ens3, ETH1: ens4 }',
      'disable: [accounting]',
      '',
    ].join('\n'),
  });
  const file = join(dir, 'agent.yaml');
  const only = await loadAgentConfig({ file, env: {} });
  t.equal(only.file, file);
  t.same(only.config, {
    ...AGENT_DEFAULTS,
    clusterId: CID,
    vendorClass: 'filers',
    cacheDir: join(dir, 'state'),
    keyFile: '/etc/rackstrap/cluster.key',
    topologyTimeoutMs: 5000,
    nics: { eth0: 'ens3', eth1: 'ens4' },
    disable: ['accounting'],
    controlSocket: defaultControlSocket(join(dir, 'state')),
  });
  t.match(only.config.controlSocket, /^\/run\/rackstrap\/agent-[0-9a-f]{8}\.sock$/, 'a cache folder of its own gets a control socket of its own');
  t.equal(only.origins.vendorClass, 'file');
  t.equal(only.origins.retryIntervalMs, 'default');

  const env = { RACKSTRAP_TOPOLOGY_TIMEOUT_MS: '2500', RACKSTRAP_NICS: 'eth0=enp1s0,eth1=enp2s0', RACKSTRAP_DISABLE: 'vlan', RACKSTRAP_VENDOR_CLASS: 'envclass' };
  const withEnv = await loadAgentConfig({ file, env });
  t.equal(withEnv.config.topologyTimeoutMs, 2500, 'the environment overrides the file (seed 004)');
  t.same(withEnv.config.nics, { eth0: 'enp1s0', eth1: 'enp2s0' });
  t.same(withEnv.config.disable.sort(), ['accounting', 'vlan'], 'switched-off features add up over sources');
  t.equal(withEnv.origins.topologyTimeoutMs, 'env');

  const withFlags = await loadAgentConfig({
    file,
    env,
    cwd: '/srv',
    flags: { vendorClass: 'flagclass', nics: ['eth0=a0', 'eth1=a1'], cacheDir: 'here', disable: ['--no-bond'], featureMask: '0x7f' },
  });
  t.equal(withFlags.config.vendorClass, 'flagclass', 'flags override both');
  t.same(withFlags.config.nics, { eth0: 'a0', eth1: 'a1' });
  t.equal(withFlags.config.cacheDir, '/srv/here', 'relative flag paths resolve against the working directory');
  t.same(withFlags.config.disable.sort(), ['accounting', 'bond', 'vlan']);
  t.equal(withFlags.config.featureMask, '0x7f');
});

t.test('no file at the default place is fine; a named one must exist', async (t) => {
  const dir = t.testdir({});
  const r = await loadAgentConfig({ env: { RACKSTRAP_CLUSTER_ID: CID, RACKSTRAP_CONFIG: join(dir, 'none.yaml') } }).catch((e: Error) => e);
  t.match(r, { code: 'RS_FILE', message: /none\.yaml: cannot read the agent configuration: no such file/ }, 'RACKSTRAP_CONFIG names a file: it must be there');
  const flagsOnly = await loadAgentConfig({ env: {}, flags: { clusterId: CID }, file: undefined });
  t.equal(flagsOnly.config.cacheDir, DEFAULT_CACHE_DIR);
});

t.test('every bad value reported at once, with where it came from', async (t) => {
  const dir = t.testdir({
    'agent.yaml': ['clusterId: "01:00:5e:00:00:zz"', 'topologyTimeoutMs: 50', 'nics: { bond0: ens3 }', 'colour: blue', ''].join('\n'),
  });
  const got = await problems(
    loadAgentConfig({
      file: join(dir, 'agent.yaml'),
      env: { RACKSTRAP_RETRY_INTERVAL_MS: 'soon', RACKSTRAP_NICS: 'eth0' },
      flags: { baseMac: 'nope', disable: ['teleport'], logLevel: 'loud' },
    }),
  );
  const f = join(dir, 'agent.yaml');
  t.match(got, [
    new RegExp(`^${f}:1:12 clusterId: must be a MAC address`),
    new RegExp(`^${f}:2:20 topologyTimeoutMs: .*100`),
    new RegExp(`^${f}:3:16 nics.bond0: NIC map keys are the topology names eth0`),
    new RegExp(`^${f}:4:1 colour: unknown setting "colour"`),
    /^RACKSTRAP_NICS: "eth0" is not <eth#>=<kernel name>/,
    /^RACKSTRAP_RETRY_INTERVAL_MS: not a duration; [^"]*\(got "soon"\)$/,
    /^--base-mac: must be a MAC address/,
    /^--no-<feature>: unknown feature "teleport" \(features: bond, /,
    /^--log-level: /,
  ]);
  t.equal(got.length, 9);
});

t.test('the cluster ID is the one required setting; status can do without it', async (t) => {
  const got = await problems(loadAgentConfig({ env: {}, file: undefined }));
  t.match(got, [/^clusterId: required: .*RACKSTRAP_CLUSTER_ID or --cluster-id/]);
  const where = await loadAgentLocations({ env: { RACKSTRAP_CACHE_DIR: '/var/tmp/rs' } });
  t.equal(where.cacheDir, '/var/tmp/rs');
});

t.test('YAML syntax errors and a non-mapping document are positioned problems', async (t) => {
  const dir = t.testdir({ 'bad.yaml': 'clusterId: [unclosed\n', 'list.yaml': '- a\n- b\n' });
  t.match(await problems(loadAgentConfig({ file: join(dir, 'bad.yaml'), env: {} })), [/bad\.yaml:\d+:\d+ \(yaml\): /]);
  t.match(await problems(loadAgentConfig({ file: join(dir, 'list.yaml'), env: {}, flags: { clusterId: CID } })), [/list\.yaml:1:1 \(document\): the agent configuration is a YAML mapping/]);
  writeFileSync(join(dir, 'empty.yaml'), '');
  t.equal((await loadAgentConfig({ file: join(dir, 'empty.yaml'), env: {}, flags: { clusterId: CID } })).config.clusterId, CID, 'an empty file sets nothing');
});
