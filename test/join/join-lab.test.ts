// Joining a filer to a cluster, end to end in network namespaces: `rackstrap join-server` on the
// management node (with the flat cluster's description and key), a new filer that finds it over
// mDNS and joins with a code from `rackstrap token create`. Every refusal (wrong CA pin, wrong,
// expired, revoked, used code, unreachable endpoint, clock skew, brute force) fails with its own
// message and writes nothing; the wrong pin is refused before anything is sent (the capture shows
// the filer sent no application data); the right code stores the bundle 0600, and the joined
// filer's next `agent --once` refuses the unsigned topology of a rogue DHCP server.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoverOnce } from '../../src/discovery/discover.js';
import { loadClusterFile } from '../../src/options/load.js';
import { makeLab } from '../helpers/netns.js';
import { BIN, FLAT, SERVER_ADDRESSES, agentArgs, startServer, writeEmptyConfig, type FlatLab } from '../bootstrap/helpers/flat-lab.js';
import { capture, followJsonLines } from '../discovery/helpers/mdns-lab.js';
import { clientStream, tlsRecords } from './helpers/pcap.js';

const SKEWED = join(process.cwd(), 'dist', 'test', 'join', 'helpers', 'join-skewed.js');
const SERVER = '10.1.1.250';
const FILER_TEMP = '10.1.1.77/24';

t.test('join', async (t) => {
  const lab = await makeLab(t, { prefix: 'qdc' });
  const dir = mkdtempSync(join(tmpdir(), 'qdc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const loaded = await loadClusterFile(FLAT);
  const sw = await lab.ns('sw');
  await lab.bridge(sw, 'br0');
  const srv = await lab.ns('srv');
  await lab.link(srv, 'eth0', sw, 'br0', { mac: '02:00:00:00:0f:00' });
  for (const a of SERVER_ADDRESSES) await lab.ip(srv, 'addr', 'add', a, 'dev', 'eth0');
  const filer = await lab.ns('filer1');
  for (const [nic, mac] of Object.entries(loaded.filers.get('Filer1')!.nics)) await lab.link(filer, nic, sw, 'br0', { mac: mac.toLowerCase() });
  // The new filer's address before it has a topology (in the field: a plain DHCP lease).
  await lab.ip(filer, 'addr', 'add', FILER_TEMP, 'dev', 'eth0');

  // The management node's description names a cluster key; the join server hands it out.
  const key = randomBytes(32);
  writeFileSync(join(dir, 'cluster.key'), key, { mode: 0o600 });
  writeFileSync(join(dir, 'cluster.yaml'), readFileSync(FLAT, 'utf8').replace('  generation: 1\n', '  generation: 1\n  keyFile: cluster.key\n'));
  const state = join(dir, 'state');
  const js = followJsonLines(lab.spawn(srv, process.execPath, [BIN, 'join-server', join(dir, 'cluster.yaml'), '--interface', 'eth0', '--address', SERVER, '--state-dir', state]));
  const ready = await js.waitFor((e) => e.event === 'ready', 20_000);
  await js.waitFor((e) => e.event === 'mdns-announced', 10_000);
  const caPin = String(ready.ca);

  const rs = (ns: string, args: string[], input?: string) =>
    lab.exec(ns, process.execPath, [BIN, ...args], { reject: false, env: { NO_COLOR: '1' }, ...(input === undefined ? {} : { input }) });
  const BATCH = join(process.cwd(), 'dist', 'test', 'join', 'helpers', 'cli-batch.js');
  const batch = async (ns: string, steps: Array<{ argv: string[]; waitMs?: number }>) => {
    const r = await lab.exec(ns, process.execPath, [BATCH, JSON.stringify(steps)], { reject: false });
    if (r.exitCode !== 0) throw new Error(`cli batch failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Array<{ code: number; stdout: string; stderr: string }>;
  };
  const newCodes = async (...ttls: string[]) =>
    (await batch(srv, ttls.map((ttl) => ({ argv: ['token', 'create', '--state-dir', state, '--ttl', ttl] })))).map((r) => r.stdout.trim());
  const newCode = async (...flags: string[]) => {
    const r = await rs(srv, ['token', 'create', '--state-dir', state, ...flags]);
    t.equal(r.exitCode, 0, `token create: ${r.stderr}`);
    return r.stdout.trim();
  };
  const codeFile = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, `${text}\n`, { mode: 0o600 });
    return p;
  };
  const cache = join(dir, 'filer-cache');
  const nothingWritten = () => !existsSync(cache) || readdirSync(cache).length === 0;
  const join_ = (file: string, target = 'flat', extra: string[] = []) => rs(filer, ['join', target, '--token-file', file, '--cache-dir', cache, '--interface', 'eth0', ...extra]);

  await t.test('a code names its CA; token list shows ids and state, never secrets', async (t) => {
    const code = await newCode();
    t.match(code, /^rsj1\.[0-9a-f]{64}\.[0-9a-f]{8}\.[A-Za-z0-9_-]{43}$/);
    t.equal(`sha256:${code.split('.')[1]}`, caPin, 'the code carries the CA pin the server announced');
    const list = await rs(srv, ['token', 'list', '--state-dir', state, '--json']);
    const rows = JSON.parse(list.stdout) as Array<{ id: string; state: string }>;
    t.ok(rows.some((r) => r.id === code.split('.')[2] && r.state === 'valid'));
    t.notOk(list.stdout.includes(code.split('.')[3]!), 'the secret is not listed');
    t.notOk(readFileSync(join(state, 'tokens.json'), 'utf8').includes(code.split('.')[3]!), 'nor stored');
    t.equal(statSync(join(state, 'tokens.json')).mode & 0o777, 0o600);
    t.equal(statSync(join(state, 'ca.key')).mode & 0o777, 0o600);
  });

  await t.test('a wrong CA pin is refused before anything is sent (capture)', async (t) => {
    // An impostor on the same segment: a join server with a CA of its own.
    const rogue = followJsonLines(lab.spawn(srv, process.execPath, [BIN, 'join-server', join(dir, 'cluster.yaml'), '--interface', 'eth0', '--address', SERVER, '--port', '7444', '--state-dir', join(dir, 'rogue-state'), '--no-advertise']));
    await rogue.waitFor((e) => e.event === 'ready', 20_000);
    const pcap = join(dir, 'pin.pcap');
    const dump = await capture(lab, srv, 'eth0', ['-U', '-w', pcap, 'tcp', 'port', '7444'], dir);
    const file = codeFile('pin.code', await newCode());
    const r = await join_(file, `${SERVER}:7444`);
    await dump.stop();
    t.equal(r.exitCode, 1);
    t.match(r.stderr, /presents the cluster CA sha256:[0-9a-f]{64}, but the code pins the cluster CA sha256:[0-9a-f]{64}.*Nothing was sent/);
    t.ok(nothingWritten(), 'nothing written');
    t.notOk(rogue.events.some((e) => e.event === 'join-refused' || e.event === 'joined'), 'the impostor received no request');
    const records = tlsRecords(clientStream(pcap, 7444));
    t.equal(records[0]?.type, 22, 'the capture holds the ClientHello');
    // TLS 1.3: after the ClientHello the filer sends a ChangeCipherSpec (20) and its encrypted
    // Finished (23, ~58 bytes), perhaps an alert; a request would be an application-data record
    // of over 150 bytes (id, proof, base MAC, clock).
    const appData = records.filter((x) => x.type === 23);
    t.ok(appData.length <= 2 && appData.every((x) => x.length < 100), `no application data sent: ${JSON.stringify(records)}`);
    rogue.child.kill('SIGTERM');
  });

  await t.test('each refusal has its own message and writes nothing', async (t) => {
    const [good, expiring, revokedText, unreach, skewText] = await newCodes('15m', '1s', '15m', '15m', '15m');
    const parts = good!.split('.');
    const flipped = parts[3]![0] === 'A' ? 'B' : 'A';
    const wrong = codeFile('wrong.code', [...parts.slice(0, 3), flipped + parts[3]!.slice(1)].join('.'));
    const joinArgv = (file: string, target = 'flat') => ['join', target, '--token-file', file, '--cache-dir', cache, '--interface', 'eth0'];
    const [revoke, ...r] = await batch(filer, []).then(() =>
      batch(srv, [{ argv: ['token', 'revoke', revokedText!.split('.')[2]!, '--state-dir', state] }]).then(async (rv) => [
        rv[0]!,
        ...(await batch(filer, [
          { argv: joinArgv(wrong) },
          { argv: joinArgv(codeFile('expired.code', expiring!)), waitMs: 1000 },
          { argv: joinArgv(codeFile('revoked.code', revokedText!)) },
          { argv: joinArgv(codeFile('unreach.code', unreach!), `${SERVER}:7999`) },
        ])),
      ]),
    );
    t.equal(revoke!.code, 0, revoke!.stderr);
    t.ok(r.every((x) => x.code === 1), 'each exits 1');
    t.match(r[0]!.stderr, /refused join code [0-9a-f]{8}: its secret part does not match/, 'wrong code');
    t.match(r[1]!.stderr, /join code [0-9a-f]{8} expired at .*rackstrap token create/, 'expired');
    t.match(r[2]!.stderr, /join code [0-9a-f]{8} was revoked on the cluster/, 'revoked at once');
    t.match(r[3]!.stderr, /cannot reach the join endpoint at 10\.1\.1\.250:7999 \(ECONNREFUSED\)/, 'unreachable');
    t.ok(nothingWritten(), 'nothing written by any of them');

    const skewFile = codeFile('skew.code', skewText!);
    // Three hours behind: the certificate is not valid yet by this clock. Ten minutes behind:
    // the certificate passes, the cluster compares clocks.
    for (const [offset, pattern] of [[-3 * 3600 * 1000, /this filer's clock .*behind the cluster's/], [-10 * 60 * 1000, /this filer's clock is 10 min behind the cluster's/]] as const) {
      const sk = await lab.exec(filer, process.execPath, [SKEWED, `${SERVER}:7443`, skewFile, '02:00:00:00:01:00', String(offset)], { reject: false });
      const skew = JSON.parse(sk.stdout) as { kind: string; message: string };
      t.equal(skew.kind, 'clock-skew', sk.stdout + sk.stderr);
      t.match(skew.message, pattern);
    }
    t.ok(nothingWritten());
  });

  let joinedCode = '';
  await t.test('the right code joins: found over mDNS, bundle stored 0600, the code used up', async (t) => {
    joinedCode = codeFile('right.code', await newCode());
    // The code comes on stdin here, as in `ssh filer rackstrap join flat --token-file - < code`.
    const r = await rs(filer, ['join', 'flat', '--token-file', '-', '--cache-dir', cache, '--interface', 'eth0'], readFileSync(joinedCode, 'utf8'));
    t.equal(r.exitCode, 0, r.stderr);
    t.match(r.stdout, /joined cluster flat \(02:00:00:00:AA:00\) as Filer1, through 10\.1\.1\.250:7443/);
    t.same(readFileSync(join(cache, 'cluster.key')), key, 'the cluster key the description names');
    for (const f of readdirSync(cache)) t.equal(statSync(join(cache, f)).mode & 0o777, 0o600, `${f} is 0600`);
    t.equal(statSync(cache).mode & 0o777, 0o700);
    const record = JSON.parse(readFileSync(join(cache, 'join.json'), 'utf8')) as { filer: string; caFingerprint: string; description: { baseMac: string } };
    t.equal(record.filer, 'Filer1');
    t.equal(record.caFingerprint, caPin);
    t.equal(record.description.baseMac, '02:00:00:00:01:00');
    t.ok(js.events.some((e) => e.event === 'joined' && e.filer === 'Filer1'), 'the server logged the join');

    const again = await rs(filer, ['join', 'flat', '--token-file', joinedCode, '--cache-dir', join(dir, 'second'), '--interface', 'eth0']);
    t.match(again.stderr, /join code [0-9a-f]{8} has been used already/, 'used');
    t.notOk(existsSync(join(dir, 'second')), 'nothing written');
  });

  await t.test('no secret in the server log', async (t) => {
    const log = js.events.map((e) => JSON.stringify(e)).join('\n');
    const secret = readFileSync(joinedCode, 'utf8').trim().split('.')[3]!;
    t.notOk(log.includes(secret), 'not the code secret');
    t.notOk(log.includes(key.toString('base64')) || log.includes(key.toString('hex')), 'not the cluster key');
    const hb = readFileSync(join(state, 'heartbeat.key'));
    t.notOk(log.includes(hb.toString('base64')), 'not the heartbeat secret');
  });

  await t.test("the joined filer's next agent refuses an unsigned topology from a rogue server", async (t) => {
    await lab.ip(filer, 'addr', 'del', FILER_TEMP, 'dev', 'eth0');
    writeEmptyConfig(dir);
    const l: FlatLab = { lab, loaded, clusterId: loaded.description.cluster.id, srv, ns: new Map([['Filer1', filer]]) };
    // The rogue serves the same description without a key: its topology carries no signature.
    const rogue = await startServer(l, FLAT, join(dir, 'rogue.leases'));
    const r = await rs(filer, ['agent', '--once', ...agentArgs(l, cache, ['--topology-timeout', '2000'])]);
    t.not(r.exitCode, 0, 'the agent did not come up from it');
    t.match(r.stderr, /"event":"topology-refused"/, 'it refused the topology');
    t.match(r.stderr, /sign/i, 'because it is not signed');
    const addrs = await lab.ipJson<Array<{ ifname: string; addr_info?: unknown[] }>>(filer, '-4', 'addr', 'show');
    t.same(addrs.flatMap((x) => (x.ifname === 'lo' ? [] : x.addr_info ?? [])), [], 'no address applied');
    rogue.child.kill('SIGTERM');
  });

  await t.test('brute force hits the rate limit, and then even a right code is refused', async (t) => {
    await lab.ip(filer, 'addr', 'add', FILER_TEMP, 'dev', 'eth0');
    mkdirSync(join(dir, 'guesses'), { recursive: true });
    // One wrong code was counted already; four guesses more reach the limit of five.
    const after = codeFile('after.code', await newCode());
    const guesses = [0, 1, 2, 3].map((i) => codeFile(`guesses/g${i}`, `rsj1.${caPin.slice(7)}.${randomBytes(4).toString('hex')}.${randomBytes(32).toString('base64url')}`));
    const rs2 = await batch(filer, [...guesses, after].map((f) => ({ argv: ['join', `${SERVER}:7443`, '--token-file', f, '--cache-dir', join(dir, 'brute'), '--base-mac', '02:00:00:00:01:00'] })));
    rs2.slice(0, 4).forEach((r, i) => t.match(r.stderr, /has no join code/, `guess ${i + 1} refused`));
    t.equal(rs2[4]!.code, 1);
    t.match(rs2[4]!.stderr, /too many failed join attempts came from this filer's address; the cluster refuses it for \d+ s more/, 'then the right code is refused too');
    t.notOk(existsSync(join(dir, 'brute')), 'nothing written');
  });

  await t.test('the joined member advertises its cluster on mgmt0 once its stack is up, with the mgmt address only', async (t) => {
    await lab.ip(filer, 'addr', 'del', FILER_TEMP, 'dev', 'eth0');
    const l: FlatLab = { lab, loaded, clusterId: loaded.description.cluster.id, srv, ns: new Map([['Filer1', filer]]) };
    // A DHCP server with the cluster's key this time: the joined agent accepts its topology.
    const signed = await startServer(l, join(dir, 'cluster.yaml'), join(dir, 'signed.leases'));
    const agent = followJsonLines(lab.spawn(filer, process.execPath, [BIN, 'agent', ...agentArgs(l, cache)]));
    // Every address the description puts on Filer1's mgmt0: its own and its MySQL roles'.
    const d = loaded.description;
    const mgmt = [d.filers['Filer1']!.addresses['mgmt0']!, ...Object.values(d.mysql).filter((r) => r.home === 'Filer1').flatMap((r) => (r.addresses['mgmt0'] ? [r.addresses['mgmt0']] : []))].sort();
    let m;
    for (let i = 0; i < 40 && m === undefined; i++) {
      m = (await discoverOnce({ interfaces: ['eth0'], netns: lab.netnsPath(srv), timeoutMs: 1000 })).members.find((x) => x.instance === 'Filer1 @ flat');
    }
    t.ok(m, 'Filer1 @ flat is advertised');
    t.same(m?.addresses, mgmt, `at its mgmt0 addresses ${mgmt.join(', ')} only (not san0 or data0)`);
    t.equal(m?.txt.ca, caPin, 'with the CA fingerprint from the join');
    t.equal(m?.txt.members, loaded.filers.size);
    agent.child.kill('SIGTERM');
    await agent.child.catch(() => undefined);
    signed.child.kill('SIGTERM');
  });
});
