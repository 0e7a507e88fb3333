// The counter store: figures that only go up while the kernel's own counters restart (a counting
// rule re-created, a reboot), across agent restarts (the store read back from its file), with a
// reset epoch that `zero-stats` advances and that survives a restart too.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CounterStore, STATS_FILE } from '../../src/stats/store.js';

const T0 = new Date('2026-12-01T00:00:00.000Z');
const T1 = new Date('2026-12-02T00:00:00.000Z');
const c = (packets: number, bytes: number) => ({ packets, bytes });

t.test('a fresh store is epoch 1 and shows the kernel values', async (t) => {
  const s = await CounterStore.open(t.testdir(), T0);
  t.equal(s.epoch, 1);
  t.equal(s.since, T0.toISOString());
  t.same(s.observe('in VsvrA 10.2.2.3', c(10, 1000)), c(10, 1000));
  t.same(s.observe('in VsvrA 10.2.2.3', c(15, 1500)), c(15, 1500));
});

t.test('a kernel counter that restarts from zero does not take the figure back', async (t) => {
  const s = await CounterStore.open(t.testdir(), T0);
  s.observe('k', c(100, 9000));
  t.same(s.observe('k', c(3, 300)), c(103, 9300), 'the last value seen is kept as a base');
  t.same(s.observe('k', c(5, 500)), c(105, 9500), 'and counting goes on from there');
});

t.test('an agent restart reads the figures back and keeps counting from them', async (t) => {
  const dir = t.testdir();
  const a = await CounterStore.open(dir, T0);
  a.observe('k', c(100, 9000));
  a.observe('other', c(7, 70));
  await a.save();
  // The rule was re-created while the agent was down: the kernel starts again below the last value.
  const b = await CounterStore.open(dir, T1);
  t.equal(b.epoch, 1, 'same epoch');
  t.equal(b.since, T0.toISOString(), 'same start of counting');
  t.same(b.observe('k', c(4, 400)), c(104, 9400));
  t.same(b.observe('other', c(9, 90)), c(9, 90), 'a counter still running on is not doubled');
});

t.test('zero-stats: a new epoch, every counter reads 0 from its current kernel value, also after a restart', async (t) => {
  const dir = t.testdir();
  const a = await CounterStore.open(dir, T0);
  a.observe('k', c(100, 9000));
  a.zero(T1);
  t.equal(a.epoch, 2);
  t.equal(a.since, T1.toISOString());
  t.same(a.observe('k', c(100, 9000)), c(0, 0));
  t.same(a.observe('k', c(110, 9900)), c(10, 900));
  await a.save();
  const b = await CounterStore.open(dir, T0);
  t.equal(b.epoch, 2, 'the epoch survives the restart');
  t.same(b.observe('k', c(112, 10_100)), c(12, 1100));
  t.same(JSON.parse(readFileSync(join(dir, STATS_FILE), 'utf8')).version, 1);
});

t.test('an unreadable store starts a new epoch 1 instead of failing', async (t) => {
  const dir = t.testdir();
  writeFileSync(join(dir, STATS_FILE), '{"version":1,"epoch":"two"');
  const s = await CounterStore.open(dir, T1);
  t.equal(s.epoch, 1);
  t.same(s.observe('k', c(1, 1)), c(1, 1));
});

t.test('saves that overlap land in call order: the file ends with the latest figures', async (t) => {
  const dir = t.testdir();
  const s = await CounterStore.open(dir, T0);
  for (let i = 1; i <= 20; i++) {
    s.observe('k', c(i, i * 10));
    void s.save();
  }
  await s.settled();
  const back = await CounterStore.open(dir, T0);
  t.same(back.observe('k', c(20, 200)), c(20, 200), 'the last value seen is the 20th');
  t.same(back.observe('k', c(1, 10)), c(21, 210), 'so a restart of the kernel counter adds exactly it');
});
