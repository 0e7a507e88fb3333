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
    cacheDir: dir,
    topologyTimeoutMs: 3000,
  });
  // Nothing of the filer's own: the agent finds its NICs and base MAC on the hardware, as on a
  // freshly unpacked filer, and the topology tells it which filer it is.
  t.equal(config.baseMac, undefined, 'no base MAC given');
  t.equal(config.filer, undefined, 'no filer name given');
  t.equal(config.nics, undefined, 'no NIC map given');
  t.equal(origins.baseMac, undefined);
  t.same(agentConfig(setup).retransmitBaseMs, 250, 'a LAN retransmission base');
});
