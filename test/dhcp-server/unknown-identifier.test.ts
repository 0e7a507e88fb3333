// An identifier of the cluster that the description does not declare is a member set up wrong:
// respond() logs it at warn (the server's limiter bounds how often per asker) and says which filer
// it looks like and what to change. Through respond() on the example cluster, pure.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { buildServerConfig } from '../../src/dhcp-server/config.js';
import { loadClusterText } from '../../src/options/load.js';
import { CLUSTER_ID, ETH1, Harness, PRL, exampleConfig, id } from './helpers/fixtures.js';

const example = readFileSync('examples/cluster.yaml', 'utf8');
const topologyRequest = (clientId: string) => ({ type: 1 as const, clientId, vendorClass: 'rackstrap', prl: PRL, maxSize: 1500 });

t.test('a topology request with the label MAC, one below eth0: names Filer1 and both fixes', async (t) => {
  const h = new Harness(exampleConfig());
  const d = h.send(topologyRequest(id('00:07:34:10:00:00')));
  t.equal(d.reply, undefined);
  t.match(d.log, { level: 'warn', result: 'unknown-identifier' });
  t.match(d.log.detail, /1 below Filer1's base MAC 00:07:34:10:00:01 \(its eth0's MAC\)/);
  t.match(d.log.detail, /remove the agent's setting, or set baseMac: 00:07:34:10:00:00 for Filer1 in the description/);
});

t.test('a description whose baseMac is not eth0’s MAC, asked with eth0’s MAC: names the filer and the fix', async (t) => {
  const text = example.replace('  Filer2:\n', '  Filer2:\n    baseMac: "00:07:34:20:00:00"\n');
  const h = new Harness(buildServerConfig(loadClusterText(text, 'cluster.yaml')));
  const d = h.send(topologyRequest(id('00:07:34:20:00:01')));
  t.equal(d.reply, undefined, 'not answered: the description keys Filer2 by 00:07:34:20:00:00');
  t.match(d.log, { level: 'warn', result: 'unknown-identifier' });
  t.match(d.log.detail, /the MAC of Filer2's eth0, while the description sets Filer2's base MAC to 00:07:34:20:00:00/);
  t.match(d.log.detail, /Remove baseMac from Filer2 in the description, or set baseMac: 00:07:34:20:00:00 in that filer's agent.yaml/);
  t.ok(wireReplyOf(h.send(topologyRequest(id('00:07:34:20:00:00')))), 'the key the description holds is answered');
});

t.test('another NIC of a filer, a lower-case MAC, a filer the description lacks', async (t) => {
  const h = new Harness(exampleConfig());
  t.match(h.send(topologyRequest(id('00:07:34:20:00:03'))).log.detail, /the MAC of Filer2's eth2, but its base MAC is its eth0's \(00:07:34:20:00:01\).*NIC map/);
  t.match(h.send(topologyRequest(id('00:07:34:20:00:0a'))).log.detail, /in lower case: .*send 00:07:34:20:00:0A/);
  t.match(h.send(topologyRequest(id('02:11:22:33:44:55'))).log.detail, /a filer the description does not list \(base MAC 02:11:22:33:44:55/);
});

t.test('addresses: a known name with an undeclared alias, a name in another case, an unknown name', async (t) => {
  const h = new Harness(exampleConfig());
  const alias = h.send({ type: 1, clientId: id('data3:VsvrA:0') }, ETH1);
  t.match(alias.log, { level: 'warn', result: 'unknown-identifier' });
  t.match(alias.log.detail, /virtual server VsvrA has data0:VsvrA:0, data0:VsvrA:1, data1:VsvrA:0 in the description/);
  t.match(h.send({ type: 1, clientId: id('mgmt0:filer1') }, ETH1).log.detail, /spells filer Filer1 so/);
  t.match(h.send({ type: 1, clientId: id('mgmt7:Filer9') }, ETH1).log.detail, /no filer, virtual server or MySQL role of the description has this name/);
});

t.test('a filer of the description asking with another cluster ID', async (t) => {
  const h = new Harness(exampleConfig({ pools: { 0: { start: '10.1.1.100', end: '10.1.1.110' } } }));
  const d = h.send(topologyRequest(`02:00:00:00:00:99:00:07:34:10:00:01`));
  t.equal(d.reply, undefined, 'no pool address for it either');
  t.match(d.log, { level: 'warn', result: 'unknown-identifier' });
  t.match(d.log.detail, /Filer1's topology request \(base MAC 00:07:34:10:00:01\) with cluster ID 02:00:00:00:00:99, not this cluster's 00:07:34:04:12:0E/);
  t.not(CLUSTER_ID, '02:00:00:00:00:99');
});

function wireReplyOf(d: { reply: unknown }): boolean {
  return d.reply !== undefined;
}
