// The compiled form of a description (src/dhcp-server/compiled.ts): a start serves from it only
// when it was compiled from exactly the description and key as they are now; every other case
// (edited description, other key, damaged file, a file others could have written) falls back to
// the full load, and a description that does not validate is refused even with a compiled form of
// its earlier, valid text next to the lease log.
import t, { type Test as Tap } from 'tap';
import { chmodSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compiledPathFor, readCompiled, writeCompiled } from '../../src/dhcp-server/compiled.js';
import { loadServerConfigInline, revive } from '../../src/dhcp-server/load-config.js';
import { DhcpServer } from '../../src/dhcp-server/server.js';
import { ConfigError } from '../../src/errors.js';
import { exampleText, KEY } from './helpers/fixtures.js';

async function compiledExample(t: Tap): Promise<{ dir: string; config: string; keyFile: string; compiled: string }> {
  const dir = t.testdir();
  const config = join(dir, 'cluster.yaml');
  const keyFile = join(dir, 'cluster.key');
  writeFileSync(keyFile, KEY, { mode: 0o600 });
  writeFileSync(config, exampleText({ keyFile: 'cluster.key' }));
  const loaded = await loadServerConfigInline(config);
  t.ok(loaded.inputs, 'a full load says what it read');
  const compiled = compiledPathFor(join(dir, 'leases.log'));
  writeCompiled(compiled, config, loaded.inputs!, loaded);
  return { dir, config, keyFile, compiled };
}

t.test('the compiled form gives back the tables of the full load, option 43 and signing templates included', async (t) => {
  const { config, compiled } = await compiledExample(t);
  const full = await loadServerConfigInline(config);
  const r = readCompiled(compiled, config);
  if (!r.ok) throw new Error(`not read: ${r.reason}`);
  const fast = revive(r.loaded).config;
  t.equal(statSync(compiled).mode & 0o777, 0o600, 'written private (it holds binding keys)');
  t.same([...fast.reservations.keys()], [...full.config.reservations.keys()], 'same reservations, same order');
  for (const [k, v] of full.config.reservations) {
    const f = fast.reservations.get(k)!;
    t.same({ ...f, subnet: f.subnet.prefix }, { ...v, subnet: v.subnet.prefix }, `reservation ${k}`);
  }
  t.ok(full.config.topologies.size > 0, 'the example has topology requests');
  for (const [k, v] of full.config.topologies) {
    const f = fast.topologies.get(k)!;
    t.ok(Buffer.isBuffer(f.option43) && f.option43.equals(v.option43), `option 43 of ${k}`);
    t.ok(f.exchange && v.exchange && Buffer.from(f.exchange.bindingKey).equals(Buffer.from(v.exchange.bindingKey)), `signing template of ${k}`);
  }
  t.same([...fast.reservedBy], [...full.config.reservedBy]);
  t.same(fast.subnets, full.config.subnets);
  t.equal(fast.keyFingerprint, full.config.keyFingerprint);
  t.same(r.loaded.warnings, full.warnings);
});

t.test('any change to what was validated means a full load', async (t) => {
  await t.test('the description edited', async (t) => {
    const { config, compiled } = await compiledExample(t);
    writeFileSync(config, `${readFileSync(config, 'utf8')}\n# a comment is a change too\n`);
    t.match(readCompiled(compiled, config), { ok: false, reason: 'the description changed' });
  });
  await t.test('another key in the same file', async (t) => {
    const { config, keyFile, compiled } = await compiledExample(t);
    writeFileSync(keyFile, Buffer.from('another-cluster-key-of-32-bytes!!'));
    t.match(readCompiled(compiled, config), { ok: false, reason: 'the key file changed' });
  });
  await t.test('the key file gone', async (t) => {
    const { config, keyFile, compiled } = await compiledExample(t);
    unlinkSync(keyFile);
    t.match(readCompiled(compiled, config), { ok: false, reason: /^key file: ENOENT/ });
  });
  await t.test('one payload byte damaged', async (t) => {
    const { config, compiled } = await compiledExample(t);
    const bytes = readFileSync(compiled);
    const at = bytes.length - 10;
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0x01, at);
    writeFileSync(compiled, bytes, { mode: 0o600 });
    t.match(readCompiled(compiled, config), { ok: false, reason: 'checksum mismatch' });
  });
  await t.test('readable or writable by others', async (t) => {
    const { config, compiled } = await compiledExample(t);
    chmodSync(compiled, 0o644);
    t.match(readCompiled(compiled, config), { ok: false, reason: 'not private to this user' });
  });
  await t.test('the same text under another path (a relative key file would resolve elsewhere)', async (t) => {
    const { dir, config, compiled } = await compiledExample(t);
    const other = join(dir, 'copy.yaml');
    writeFileSync(other, readFileSync(config));
    t.match(readCompiled(compiled, other), { ok: false, reason: 'compiled from another description file' });
  });
  await t.test('none yet', async (t) => {
    t.match(readCompiled(join(t.testdir(), 'nothing.compiled'), 'cluster.yaml'), { ok: false, reason: 'none yet' });
  });
});

t.test('serve: the second start uses the compiled form; a description that no longer validates is refused', async (t) => {
  const dir = t.testdir();
  const config = join(dir, 'cluster.yaml');
  writeFileSync(config, exampleText());
  const leaseFile = join(dir, 'leases.log');
  const lines: Array<Record<string, unknown>> = [];
  const write = (text: string): void => {
    for (const l of text.split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
  };
  const start = (): Promise<DhcpServer> => DhcpServer.start({ configFile: config, interfaces: ['lo'], port: 0, leaseFile, logLevel: 'warn', write });
  const ready = (): Record<string, unknown> | undefined => lines.filter((l) => l.event === 'ready').at(-1);

  let server = await start();
  t.match(ready(), { description: /^validated/ }, 'first start: full validation');
  await new Promise((r) => setTimeout(r, 100)); // the compiled form is written after the start
  await server.stop();
  server = await start();
  t.match(ready(), { description: 'compiled form', reservations: server.config.reservations.size }, 'second start: the compiled form');
  await server.stop();

  // A broken edit: the compiled form of the earlier text is still there, and must not be served.
  writeFileSync(config, exampleText({ set: [[['scope', 'subnets', 0, 'prefix'], '10.1.1.0/33']] }));
  await t.rejects(start(), ConfigError, 'the full load runs and refuses the description');
  writeFileSync(config, exampleText({ leaseTime: 7200 }));
  server = await start();
  t.match(ready(), { description: 'validated (compiled form: the description changed)' });
  t.equal(server.config.subnets[0]?.leaseTime, 7200, 'the edited description is the one served');
  await server.stop();
});
