// `rackstrap show` output, golden-tested: each topic's text from a fixed reply (the replies are
// checked against the protocol's schemas first, so the fixtures cannot drift from the protocol).
// To update after an intended change: RACKSTRAP_UPDATE_GOLDEN=1 and review the diff.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { z } from 'zod';
import { REPLIES } from '../../src/control/protocol.js';
import { renderCache, renderDrift, renderFeatures, renderInfo, renderLeases, renderLinks, renderStats } from '../../src/control/render.js';

const DIR = join(process.cwd(), 'test', 'fixtures', 'control');
const replies = JSON.parse(readFileSync(join(DIR, 'replies.json'), 'utf8')) as Record<string, unknown>;
const RENDER = { links: renderLinks, leases: renderLeases, cache: renderCache, features: renderFeatures, stats: renderStats, drift: renderDrift, info: renderInfo } as const;

for (const [topic, render] of Object.entries(RENDER)) {
  t.test(`show ${topic}`, async (t) => {
    const parsed = REPLIES[topic as keyof typeof RENDER].safeParse(replies[topic]);
    t.ok(parsed.success, 'the fixture is a valid reply');
    const text = `${(render as (r: unknown) => string)(parsed.data)}\n`;
    const file = join(DIR, `show-${topic}.txt`);
    if (process.env.RACKSTRAP_UPDATE_GOLDEN === '1') writeFileSync(file, text);
    t.equal(text, readFileSync(file, 'utf8'));
  });
}

// Per-protocol counters were added to `stats` after its first release, as optional fields: the
// reply of an older agent (the `stats` fixture, without them) still parses and renders with '-',
// and a client built against the first schema (below, as it was) still parses a newer reply.
t.test('show stats with per-protocol counters, and both directions of compatibility', async (t) => {
  const parsed = REPLIES.stats.safeParse(replies['stats-protocols']);
  t.ok(parsed.success, 'the fixture is a valid reply');
  const text = `${renderStats(parsed.data!)}\n`;
  const file = join(DIR, 'show-stats-protocols.txt');
  if (process.env.RACKSTRAP_UPDATE_GOLDEN === '1') writeFileSync(file, text);
  t.equal(text, readFileSync(file, 'utf8'));
  t.match(renderStats(REPLIES.stats.parse(replies.stats)), /VsvrA\s+\(all\)\s+25\/3200\s+25\/3200\s+-\s+-\s+-/, "an older agent's reply shows '-' for the protocols");

  const Counter = z.object({ packets: z.number().int().min(0), bytes: z.number().int().min(0) });
  const FirstStats = z.object({
    epoch: z.int(),
    since: z.iso.datetime({ offset: true }),
    source: z.string(),
    servers: z.array(z.object({ server: z.string(), in: Counter, out: Counter, addresses: z.array(z.object({ address: z.string(), in: Counter, out: Counter })) })),
    devices: z.array(z.object({ ifname: z.string(), rx: Counter, tx: Counter, rxErrors: z.number(), txErrors: z.number(), rxDropped: z.number(), txDropped: z.number() })),
    note: z.string().nullable(),
  });
  const old = FirstStats.safeParse(replies['stats-protocols']);
  t.ok(old.success, 'the first version of the schema parses a reply with per-protocol counters');
  t.same(old.data?.servers[0]?.in, { packets: 30, bytes: 3620 }, 'and reads the same totals');
});
