// The demo drives the agent through its own config file: what it writes must load with the agent's
// loader (schema, defaults, paths) and name the lab filer's identity.
import t from 'tap';
import { join } from 'node:path';
import { loadAgentConfig } from '../../src/bootstrap/agent-config.js';
import { agentConfig, writeAgentConfig } from '../../src/lab/agents.js';
import { planLab } from '../../src/lab/lab-plan.js';
import { loadClusterFile } from '../../src/options/load.js';

t.test('agent.yaml for a lab filer loads with the agent’s loader', async (t) => {
  const loaded = await loadClusterFile('examples/cluster.yaml');
  const lab = planLab(loaded, { prefix: 'x' });
  const filer = lab.filers.find((f) => f.name === 'Filer2')!;
  const dir = join(t.testdir(), 'filer2');
  const setup = { filer, clusterId: '00:07:34:04:12:0E', vendorClass: 'rackstrap', cacheDir: dir, topologyTimeoutMs: 3000 };
  const file = writeAgentConfig(setup);
  const { config, origins } = await loadAgentConfig({ file, env: {} });
  t.match(config, {
    clusterId: '00:07:34:04:12:0E',
    vendorClass: 'rackstrap',
    baseMac: '00:07:34:20:00:00',
    filer: 'Filer2',
    cacheDir: dir,
    topologyTimeoutMs: 3000,
    nics: { eth0: 'eth0', eth5: 'eth5' },
  });
  t.equal(Object.keys(config.nics ?? {}).length, 6, 'all six NICs');
  t.equal(origins.baseMac, 'file');
  t.same(agentConfig(setup).retransmitBaseMs, 250, 'a LAN retransmission base');
});
