// The rtnetlink watch against the real kernel, inside network namespaces: every kind of change is
// seen with the fields the kernel reported, bursts arrive as few batches, and a receive buffer
// overflowed by an event storm turns into a single full re-read signal.

import { execaSync } from 'execa';
import { once } from 'node:events';
import t from 'tap';
import { watchKernel, type KernelEvent, type KernelWatch, type ResyncReason } from '../../src/net/kernel-watch.js';
import { makeLab } from '../helpers/netns.js';

/** Collects everything a watch emits. */
function record(watch: KernelWatch): { events: KernelEvent[]; batches: number; resyncs: ResyncReason[] } {
  const log = { events: [] as KernelEvent[], batches: 0, resyncs: [] as ResyncReason[] };
  watch.on('change', (events) => {
    log.batches++;
    log.events.push(...events);
  });
  watch.on('resync', (reason) => log.resyncs.push(reason));
  return log;
}

/** Waits until `pred` holds, checking after each emission of the watch (bounded by `ms`). */
async function until(watch: KernelWatch, pred: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await Promise.race([once(watch, 'change'), once(watch, 'resync'), new Promise((r) => setTimeout(r, 100))]);
  }
}

t.test('links, addresses, routes and rules are seen with what the kernel says about them', async (t) => {
  const lab = await makeLab(t, { prefix: 'qoa' });
  const a = await lab.ns('a');
  const b = await lab.ns('b');
  const watch = watchKernel({ netns: a, settleMs: 20 });
  t.teardown(() => watch.close());
  const log = record(watch);
  await once(watch, 'resync');
  t.same(log.resyncs, ['start'], 'the first signal asks for a full read');

  await lab.veth(a, 'data0', b, 'peer0');
  await lab.ip(a, 'link', 'set', 'data0', 'alias', 'rackstrap:test');
  await lab.ip(a, 'addr', 'add', '10.9.0.2/24', 'dev', 'data0', 'metric', '114');
  await lab.ip(a, 'route', 'add', '10.9.9.0/24', 'via', '10.9.0.1', 'table', '1001', 'proto', '114');
  await lab.ip(a, 'rule', 'add', 'from', '10.9.0.2/32', 'table', '1001', 'priority', '31000', 'protocol', '114');
  await lab.ip(a, 'rule', 'del', 'priority', '31000');
  await lab.ip(a, 'route', 'del', '10.9.9.0/24', 'table', '1001');
  await lab.ip(a, 'addr', 'del', '10.9.0.2/24', 'dev', 'data0');
  await lab.ip(a, 'link', 'del', 'data0');

  const has = (pred: (e: KernelEvent) => boolean) => log.events.some(pred);
  await until(watch, () => has((e) => e.kind === 'link' && e.action === 'del' && e.name === 'data0'));

  const link = log.events.find((e) => e.kind === 'link' && e.action === 'new' && e.alias === 'rackstrap:test');
  t.ok(link, 'the alias (rackstrap mark) is carried on the link event');
  t.match(link, { name: 'data0', linkKind: 'veth', up: true });
  t.ok(
    has((e) => e.kind === 'address' && e.action === 'new' && e.address === '10.9.0.2' && e.prefixLength === 24 && e.metric === 114 && e.index === (link as { index: number } | undefined)?.index),
    'address added, with its metric and interface index',
  );
  t.ok(has((e) => e.kind === 'route' && e.action === 'new' && e.destination === '10.9.9.0/24' && e.table === 1001 && e.protocol === 114 && e.gateway === '10.9.0.1'), 'route added in its table with its protocol');
  t.ok(has((e) => e.kind === 'rule' && e.action === 'new' && e.priority === 31000 && e.table === 1001 && e.protocol === 114 && e.from === '10.9.0.2/32'), 'rule added');
  t.ok(has((e) => e.kind === 'rule' && e.action === 'del' && e.priority === 31000), 'rule deleted');
  t.ok(has((e) => e.kind === 'route' && e.action === 'del' && e.destination === '10.9.9.0/24'), 'route deleted');
  t.ok(has((e) => e.kind === 'address' && e.action === 'del' && e.address === '10.9.0.2'), 'address deleted');
  t.equal(watch.stats.overflows, 0, 'nothing lost at this pace');
});

t.test('a burst of changes arrives in a few batches, none lost', async (t) => {
  const lab = await makeLab(t, { prefix: 'qoa' });
  const a = await lab.ns('a');
  const b = await lab.ns('b');
  await lab.veth(a, 'data0', b, 'peer0');
  const watch = watchKernel({ netns: a, settleMs: 100, kinds: ['address'], families: [4] });
  t.teardown(() => watch.close());
  const log = record(watch);
  await once(watch, 'resync');
  const batch = Array.from({ length: 100 }, (_, i) => `addr add 10.8.${Math.floor(i / 250)}.${(i % 250) + 1}/32 dev data0`).join('\n');
  await lab.exec(a, 'ip', ['-batch', '-'], { input: `${batch}\n` });
  await until(watch, () => log.events.length >= 100);
  t.equal(log.events.length, 100, 'one event per address');
  t.ok(log.events.every((e) => e.kind === 'address'), 'only the kind asked for');
  t.ok(log.batches < 10, `coalesced into ${log.batches} batch(es)`);
});

t.test('an overflowed receive buffer becomes one full re-read, and the watch keeps working', async (t) => {
  const lab = await makeLab(t, { prefix: 'qoa' });
  const a = await lab.ns('a');
  const b = await lab.ns('b');
  await lab.veth(a, 'data0', b, 'peer0');
  // The smallest buffer the kernel allows (it rounds up to SOCK_MIN_RCVBUF).
  const watch = watchKernel({ netns: a, settleMs: 50, recvBufferSize: 1 });
  t.teardown(() => watch.close());
  const log = record(watch);
  await once(watch, 'resync');
  // The storm runs while our event loop is blocked, so nothing is read until it is over.
  const storm = Array.from({ length: 400 }, (_, i) => `addr add 10.7.${Math.floor(i / 250)}.${(i % 250) + 1}/32 dev data0`).join('\n');
  execaSync('ip', ['-n', a, '-batch', '-'], { input: `${storm}\n` });
  await until(watch, () => log.resyncs.length >= 2);
  t.same(log.resyncs, ['start', 'overflow'], 'lost events are signalled once, as an overflow');
  t.ok(watch.stats.overflows >= 1, 'the overflow is counted');
  t.ok(log.events.length < 400, 'the events that were held are superseded by the re-read');

  // After the re-read the watch goes on reporting single changes.
  const before = log.events.length;
  await lab.ip(a, 'addr', 'add', '10.6.0.1/32', 'dev', 'data0');
  await until(watch, () => log.events.slice(before).some((e) => e.kind === 'address' && e.address === '10.6.0.1'));
  t.pass('a later change is seen');
});

t.test('periodic and requested re-reads are signalled', async (t) => {
  const lab = await makeLab(t, { prefix: 'qoa' });
  const a = await lab.ns('a');
  const watch = watchKernel({ netns: a, resyncIntervalMs: 200 });
  t.teardown(() => watch.close());
  const log = record(watch);
  await until(watch, () => log.resyncs.includes('periodic'));
  watch.resync();
  await until(watch, () => log.resyncs.includes('requested'));
  t.equal(log.resyncs[0], 'start');
});

t.test('a namespace that does not exist is a plain error', async (t) => {
  t.throws(() => watchKernel({ netns: '/run/netns/qoa-does-not-exist' }), {
    code: 'RS_WATCH',
    message: /network namespace \/run\/netns\/qoa-does-not-exist: the namespace does not exist/,
  });
});

t.test('closing twice is harmless and stops every signal', async (t) => {
  const lab = await makeLab(t, { prefix: 'qoa' });
  const a = await lab.ns('a');
  const watch = watchKernel({ netns: a, resyncIntervalMs: 50 });
  const log = record(watch);
  watch.close();
  watch.close();
  await new Promise((r) => setTimeout(r, 200));
  t.same(log.resyncs, [], 'nothing after close, not even the start signal');
});
