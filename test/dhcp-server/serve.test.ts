// `rackstrap serve` as an operator meets it: a bad description stops the start with its
// problems; a second server on the same interface or lease log is refused; SIGHUP reloads (a bad
// file is refused and the old one keeps serving, leases kept); a lease log that cannot be
// written means no ACK; SIGTERM flushes and exits 0.

import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { MESSAGE_TYPE } from '../../src/dhcp-packet/index.js';
import { makeLab } from '../helpers/netns.js';
import { exampleText, id } from './helpers/fixtures.js';
import { relayLink, typeOf } from './helpers/relay.js';
import { ServeProcess } from './helpers/serve.js';

const POOL = { 0: { start: '10.1.1.100', end: '10.1.1.110' } };

t.test('rackstrap serve: start, refusals, reload, a failing disk, stop', async (t) => {
  const lab = await makeLab(t, { prefix: 'rssrv' });
  const dir = t.testdir();
  const config = join(dir, 'cluster.yaml');
  const leaseFile = join(dir, 'leases.log');
  const { srv, relay } = await relayLink(t, lab, 'ssrv', 'scli');
  const args = { config, interfaces: ['srv0'], leaseFile, logLevel: 'info' };

  await t.test('an invalid description: exit 1 with file:line:col problems', async (t) => {
    writeFileSync(config, exampleText({ set: [[['filers', 'Filer1', 'addresses', 'mgmt0'], '10.1.1.4']] }));
    const bad = ServeProcess.start(lab, srv, args);
    t.same(await bad.exited, { code: 1, signal: null });
    t.match(bad.stderr.join(''), /cluster\.yaml:\d+:\d+ filers\.Filer1\.addresses\.mgmt0: 10\.1\.1\.4 is also/);
    writeFileSync(config, exampleText({ pools: POOL }));
    // An interface that does not exist (yet) is followed, not fatal: the server warns and serves it once it appears.
    const noIf = await ServeProcess.ready(lab, srv, { ...args, interfaces: ['nosuch0'], leaseFile: join(dir, 'noif.log') });
    t.match(await noIf.waitFor((l) => l.event === 'interface-missing', 5000, 'the missing-interface warning'), { level: 'warn', interface: 'nosuch0', detail: /does not exist \(yet\)/ });
    noIf.signal('SIGTERM');
    t.equal((await noIf.exited).code, 0);
  });

  writeFileSync(config, exampleText({ pools: POOL }));
  const server = await ServeProcess.ready(lab, srv, args);
  const m0 = id('mgmt0:Filer1');
  t.equal((await relay.dora('02:00:00:00:01:01', m0)).reply?.yiaddr, '10.1.1.2', 'serving');
  const pool = await relay.dora('02:00:00:00:01:02');
  t.equal(typeOf(pool.reply), MESSAGE_TYPE.ACK, 'a pool lease');

  await t.test('a second server: refused on the same interface, and on the same lease log', async (t) => {
    const sameIf = ServeProcess.start(lab, srv, { ...args, leaseFile: join(dir, 'other.log') });
    t.equal((await sameIf.exited).code, 1);
    t.match(sameIf.stderr.join(''), /port is already in use on interface srv0/);
    const sameLog = ServeProcess.start(lab, srv, args);
    t.equal((await sameLog.exited).code, 1);
    t.match(sameLog.stderr.join(''), new RegExp(`lease log .*leases\\.log is in use by process ${server.pid}`));
  });

  await t.test('SIGHUP: a new description is served, leases kept; a bad one is refused', async (t) => {
    writeFileSync(config, exampleText({ pools: POOL, set: [[['filers', 'Filer1', 'addresses', 'mgmt0'], '10.1.1.30'], [['cluster', 'generation'], 2]] }));
    server.signal('SIGHUP');
    const reloaded = await server.waitFor((l) => l.event === 'reloaded', 10_000, 'the reload');
    t.equal(reloaded.generation, 2);
    t.equal((await relay.dora('02:00:00:00:01:01', m0)).reply?.yiaddr, '10.1.1.30', 'the changed reservation is served');
    const renew = await relay.ask({ type: MESSAGE_TYPE.REQUEST, mac: '02:00:00:00:01:02', ciaddr: pool.reply!.yiaddr });
    t.equal(typeOf(renew), MESSAGE_TYPE.ACK, 'the pool lease from before the reload is renewed');

    writeFileSync(config, `${exampleText({ pools: POOL })}\nfilers:\n  Broken: 1\n`);
    server.signal('SIGHUP');
    const refused = await server.waitFor((l) => l.event === 'reload-refused', 10_000, 'the refusal');
    t.equal(refused.level, 'error');
    t.match(refused.problems, [/cluster\.yaml:\d+:\d+ /]);
    t.match(refused.detail, /still serving .* generation 2/);
    t.equal((await relay.dora('02:00:00:00:01:01', m0)).reply?.yiaddr, '10.1.1.30', 'the old description keeps serving');
  });

  await t.test('a lease log that cannot be written: OFFER yes, ACK no; ACKs resume when it can', async (t) => {
    execFileSync('chattr', ['+i', leaseFile]);
    t.teardown(() => {
      spawnSync('chattr', ['-i', leaseFile]);
    });
    const { offer, reply } = await relay.dora('02:00:00:00:01:03', id('mgmt1:Filer1'));
    t.equal(offer?.yiaddr, '10.1.1.3', 'the offer needs no disk');
    t.equal(reply, undefined, 'no ACK without the lease on disk');
    const failed = await server.waitFor((l) => l.event === 'lease-log-failed', 5000, 'the failure line');
    t.match(failed, { level: 'error', replyNotSent: { address: '10.1.1.3' } });
    execFileSync('chattr', ['-i', leaseFile]);
    t.equal((await relay.dora('02:00:00:00:01:03', id('mgmt1:Filer1'))).reply?.yiaddr, '10.1.1.3', 'acknowledged once the log takes writes again');
  });

  server.signal('SIGTERM');
  t.same(await server.exited, { code: 0, signal: null }, 'SIGTERM: exit 0');
  const stopped = server.lines.at(-1)!;
  t.equal(stopped.event, 'stopped');
  t.ok(Number(stopped.replied) >= 8, `${String(stopped.replied)} replies sent`);
});
