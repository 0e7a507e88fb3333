// Durations as admins write them, wherever the CLI and agent.yaml take a time: 500ms, 10s, 2m,
// 1h; plain numbers keep their documented unit (the agent's *Ms settings: milliseconds; serve's
// --offer-hold and --decline-quarantine, token --ttl: seconds).
import t from 'tap';
import { join } from 'node:path';
import { loadAgentConfig } from '../../src/bootstrap/agent-config.js';
import { ConfigError } from '../../src/errors.js';
import { main } from '../../src/cli/main.js';
import { durationMs, formatDuration } from '../../src/options/duration.js';

t.test('parsing and printing', async (t) => {
  const ms = (s: string, plain: 'ms' | 's' = 'ms') => {
    const r = durationMs(s, plain);
    return r.ok ? r.ms : r.reason;
  };
  t.equal(ms('500ms'), 500);
  t.equal(ms('10s'), 10_000);
  t.equal(ms('2m'), 120_000);
  t.equal(ms('1h'), 3_600_000);
  t.equal(ms('1.5s'), 1500);
  t.equal(ms(' 250 '), 250, 'a plain number: milliseconds here');
  t.equal(ms('90', 's'), 90_000, 'seconds there');
  t.match(ms('10 s'), /not a duration; write it like 500ms, 10s, 2m or 1h/);
  t.match(ms('-1s'), /not a duration/);
  t.match(ms('1.0005s'), /not a duration/);
  t.match(ms('0.5ms'), /not a whole number of milliseconds/);
  t.notMatch(ms('soon'), /soon/, 'the reason leaves the value to the caller, which names it once');
  t.same(['10s', '5m', '250ms', '1500ms', '1h', '2d'], [10_000, 300_000, 250, 1500, 3_600_000, 172_800_000].map(formatDuration));
});

t.test('agent settings: durations in the file, the environment and flags; plain numbers stay milliseconds', async (t) => {
  const dir = t.testdir({ 'agent.yaml': 'clusterId: "02:00:00:00:AA:00"\ntopologyTimeoutMs: 10s\nrefreshIntervalMs: 2m\nretryIntervalMs: 4500\n' });
  const r = await loadAgentConfig({ file: join(dir, 'agent.yaml'), env: { RACKSTRAP_ADDRESS_TIMEOUT_MS: '1.5s' }, flags: { retransmitBaseMs: '250ms' } });
  t.match(r.config, { topologyTimeoutMs: 10_000, refreshIntervalMs: 120_000, retryIntervalMs: 4500, addressTimeoutMs: 1500, retransmitBaseMs: 250 });
  const bad = await loadAgentConfig({ file: join(dir, 'agent.yaml'), env: {}, flags: { topologyTimeoutMs: '10 minutes', addressTimeoutMs: '50ms' } }).catch((e: unknown) => e);
  t.ok(bad instanceof ConfigError);
  // The value once, as every agent setting shows it: (got "...").
  t.match((bad as ConfigError).message, /--topology-timeout: not a duration; write it like 500ms, 10s, 2m or 1h \(a plain number is milliseconds\) \(got "10 minutes"\)/);
  t.equal((bad as ConfigError).message.split('10 minutes').length - 1, 1, 'the value named once');
  t.match((bad as ConfigError).message, /--address-timeout: at least 100ms/);
});

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const code = await main(args, { out: () => undefined, err: (s) => err.push(s) });
  return { code, err: err.join('\n') };
}

t.test('serve and token: duration flags, a refusal that points to the command\'s own help', async (t) => {
  const half = await cli(['serve', 'examples/cluster.yaml', '-i', 'lo0', '--offer-hold', '1.5s']);
  t.equal(half.code, 2);
  t.match(half.err, /--offer-hold: 1\.5s is not a whole number of seconds\n\(see rackstrap serve --help\)/);
  const zero = await cli(['serve', 'examples/cluster.yaml', '-i', 'lo0', '--decline-quarantine', '0']);
  t.match(zero.err, /--decline-quarantine: 0 is out of range: from 1s to/);
  const beat = await cli(['serve', 'examples/cluster.yaml', '-i', 'lo0', '--pair-heartbeat-ms', 'fast']);
  t.match(beat.err, /--pair-heartbeat-ms: "fast" is not a duration.*a plain number is milliseconds/);
  const help: string[] = [];
  await main(['serve', '--help'], { out: (s) => help.push(s), err: (s) => help.push(s) });
  const text = help.join('').replace(/\s+/g, ' ');
  t.match(text, /--offer-hold <duration> how long an offered address stays promised, e\.g\. 30s; a plain number is seconds \(default: \d+(s|m)\)/);
  t.match(text, /--pair-dead-ms <duration> .*ten heartbeats.*a plain number is milliseconds/);
  t.match(text, /--pair-ack-timeout-ms <duration> .*dead time less three heartbeats.*a plain number is milliseconds/);
  t.notMatch(text, /\(default: \[\]\)/, 'no empty list shown as a default');
  const agentHelp: string[] = [];
  await main(['agent', '--help'], { out: (s) => agentHelp.push(s), err: (s) => agentHelp.push(s) });
  t.match(agentHelp.join(''), /--topology-timeout <duration>[\s\S]*a plain number is milliseconds/);
});
