// The server pair in the cluster description: validation names file, field and rule for each
// mistake; the service address comes from vs_mgmt's address with its subnet's prefix length;
// serve's flags override every setting; which server this is comes from --pair-name or from the
// sync address found on this host.

import t from 'tap';
import { ConfigError, type Problem } from '../../src/errors.js';
import { loadClusterText } from '../../src/options/load.js';
import { pairServiceAddress } from '../../src/options/pair.js';
import { pairSettingsFromFlags, withDescription, type PairFlags } from '../../src/sync/settings.js';
import { exampleText } from '../dhcp-server/helpers/fixtures.js';

const VS_MGMT = { table: 9, addresses: { mgmt0: { 0: '10.1.1.250' } } };
const PAIR = {
  secretFile: '/etc/rackstrap/pair.secret',
  servers: {
    'node-a': { sync: '10.9.0.1:6767', paths: ['10.1.1.3'], preferred: true },
    'node-b': { sync: '10.9.0.2', paths: ['10.1.1.4'] },
  },
};
const described = (pair: unknown, vsMgmt: unknown = VS_MGMT) => loadClusterText(exampleText({ set: [
  ...(vsMgmt === null ? [] : [[['vservers', 'vs_mgmt'], vsMgmt]] as Array<[string[], unknown]>),
  [['pair'], pair],
] }), 'cluster.yaml');
const problemsOf = (pair: unknown, vsMgmt: unknown = VS_MGMT): Problem[] => {
  try {
    described(pair, vsMgmt);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.filter((p) => p.severity === 'error');
    throw err;
  }
};
const noFlags: PairFlags = { pairPath: [] };

t.test('a correct pair section loads; the service address is vs_mgmt\'s mgmt0 address with its subnet\'s length', async (t) => {
  const d = described(PAIR).description;
  t.same(pairServiceAddress(d), { address: '10.1.1.250', prefixLength: 24, from: "vs_mgmt's mgmt0 instance 0" });
  t.equal(d.pair?.mode, 'sync', 'defaults: sync mode');
  t.equal(d.pair?.deadMs, undefined, 'no dead time given: it follows the heartbeat');
  const a = pairSettingsFromFlags(withDescription({ ...noFlags, pairName: 'node-a' }, d))!;
  t.same([a.heartbeatMs, a.partnerDeadMs, a.sessionDeadMs, a.ackTimeoutMs], [100, 1000, 700, 700], 'defaults: heartbeat 100 ms, dead after ten, the connection and acknowledgment timeouts three heartbeats short of it');
});

t.test('the connection and acknowledgment timeouts: derived from the heartbeat, settable, always shorter than the dead time', async (t) => {
  const base = { ...noFlags, pairName: 'node-a', pairListen: '10.9.0.1', pairPeer: '10.9.0.2', pairSecretFile: '/etc/rackstrap/pair.secret' };
  const hb50 = pairSettingsFromFlags({ ...base, pairHeartbeatMs: 50 })!;
  t.same([hb50.partnerDeadMs, hb50.sessionDeadMs, hb50.ackTimeoutMs], [500, 350, 350], 'heartbeat 50 ms: dead 500, timeouts 350');
  const short = pairSettingsFromFlags({ ...base, pairHeartbeatMs: 100, pairDeadMs: 300 })!;
  t.same([short.sessionDeadMs, short.ackTimeoutMs], [200, 200], 'never below two heartbeats');
  const set = pairSettingsFromFlags({ ...base, pairConnectionTimeoutMs: 900, pairAckTimeoutMs: 400 })!;
  t.same([set.sessionDeadMs, set.ackTimeoutMs], [900, 400], 'flags win');
  t.throws(() => pairSettingsFromFlags({ ...base, pairAckTimeoutMs: 1000 }), /--pair-ack-timeout-ms \(1000\) must be shorter than the dead time \(--pair-dead-ms 1000\)/);
  t.throws(() => pairSettingsFromFlags({ ...base, pairConnectionTimeoutMs: 150 }), /--pair-connection-timeout-ms \(150\) must be at least two heartbeats/);
});

t.test('bad pair sections: each mistake named by file, field and rule', async (t) => {
  const cases: Array<[string, unknown, unknown, RegExp, RegExp]> = [
    ['three servers', { ...PAIR, servers: { ...PAIR.servers, 'node-c': { sync: '10.9.0.3' } } }, VS_MGMT, /^pair\.servers$/, /exactly two servers; 3 are listed/],
    ['nobody preferred', { ...PAIR, servers: { 'node-a': { sync: '10.9.0.1' }, 'node-b': { sync: '10.9.0.2' } } }, VS_MGMT, /^pair\.servers$/, /exactly one of the two servers preferred/],
    ['both preferred', { ...PAIR, servers: { 'node-a': { sync: '10.9.0.1', preferred: true }, 'node-b': { sync: '10.9.0.2', preferred: true } } }, VS_MGMT, /^pair\.servers$/, /only one of the two servers may be preferred/],
    ['same endpoint', { ...PAIR, servers: { 'node-a': { sync: '10.9.0.1:6767', preferred: true }, 'node-b': { sync: '10.9.0.1' } } }, VS_MGMT, /^pair\.servers\.node-b\.sync$/, /same sync endpoint as node-a/],
    ['not an address', { ...PAIR, servers: { 'node-a': { sync: '10.9.0.300', preferred: true }, 'node-b': { sync: '10.9.0.2' } } }, VS_MGMT, /^pair\.servers\.node-a\.sync$/, /not an IPv4 address/],
    ['bad port', { ...PAIR, servers: { 'node-a': { sync: '10.9.0.1:70000', preferred: true }, 'node-b': { sync: '10.9.0.2' } } }, VS_MGMT, /^pair\.servers\.node-a\.sync$/, /port 70000/],
    ['secret inline', { ...PAIR, secretFile: 'hunter2hunter2hunter2' }, VS_MGMT, /^pair\.secretFile$/, /absolute path.*the secret itself never goes in the description/],
    ['a secret key', { ...PAIR, secret: 'hunter2hunter2hunter2' }, VS_MGMT, /^pair/, /secret/],
    ['dead time too short', { ...PAIR, heartbeatMs: 200, deadMs: 500 }, VS_MGMT, /^pair\.deadMs$/, /less than three heartbeats/],
    ['bad mode', { ...PAIR, mode: 'fast' }, VS_MGMT, /^pair\.mode$/, /sync.*async/],
    ['no vs_mgmt', PAIR, null, /^pair$/, /no vs_mgmt virtual server/],
    ['vs_mgmt with a home', PAIR, { ...VS_MGMT, home: 'Filer1' }, /^vservers\.vs_mgmt\.home$/, /leave home unset/],
    ['vs_mgmt outside every subnet', PAIR, { table: 9, addresses: { mgmt0: { 0: '192.168.7.1' } } }, /^pair$/, /none of the description's subnets/],
  ];
  for (const [name, pair, vs, field, rule] of cases) {
    const problems = problemsOf(pair, vs);
    const p = problems.find((x) => field.test(x.field) && rule.test(x.rule));
    t.ok(p, `${name}: ${p ? `${p.file}:${p.line}:${p.col} ${p.field}: ${p.rule}` : JSON.stringify(problems)}`);
    if (p) t.equal(p.file, 'cluster.yaml', `${name}: names the file`);
  }
  // The secret never appears in a message.
  t.notOk(JSON.stringify(problemsOf({ ...PAIR, secret: 'hunter2hunter2hunter2' })).includes('hunter2'), 'the value of a misplaced secret is not echoed');
});

t.test('serve: the description configures this side of the pair; flags override each setting', async (t) => {
  const d = described({ ...PAIR, mode: 'async', heartbeatMs: 50, deadMs: 400 }).description;
  const a = pairSettingsFromFlags(withDescription({ ...noFlags, pairName: 'node-a' }, d))!;
  t.same({ name: a.name, preferred: a.preferred, listen: a.listen, partner: a.partner, paths: a.paths, secretFile: a.secretFile, mode: a.mode, hb: a.heartbeatMs, dead: a.partnerDeadMs }, {
    name: 'node-a', preferred: true, listen: { host: '10.9.0.1', port: 6767 }, partner: { host: '10.9.0.2', port: 6767 }, paths: ['10.1.1.4'],
    secretFile: '/etc/rackstrap/pair.secret', mode: 'async', hb: 50, dead: 400,
  });
  t.equal(withDescription({ ...noFlags, pairName: 'node-b' }, d).serviceAddress, '10.1.1.250/24', 'service address derived from vs_mgmt');
  const b = withDescription({ ...noFlags, pairName: 'node-b', pairMode: 'sync', pairDeadMs: 900, pairPath: ['10.1.1.99'], serviceAddress: '10.1.1.251/24', pairSecretFile: '/run/other.secret' }, d);
  t.same([b.pairMode, b.pairDeadMs, b.pairPath, b.serviceAddress, b.pairSecretFile, b.pairHeartbeatMs, b.pairPreferred], ['sync', 900, ['10.1.1.99'], '10.1.1.251/24', '/run/other.secret', 50, false], 'flags win');
  t.equal(withDescription(noFlags, d, () => new Set(['127.0.0.1', '10.9.0.2'])).pairName, 'node-b', 'without --pair-name: the server whose sync address is on this host');
  t.throws(() => withDescription(noFlags, d, () => new Set(['127.0.0.1'])), /no sync address of it is on this host: give --pair-name/);
  t.throws(() => withDescription({ ...noFlags, pairName: 'node-c' }, d), /--pair-name node-c: the description's pair has the servers node-a and node-b/);
});
