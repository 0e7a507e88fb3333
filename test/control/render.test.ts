// `rackstrap show` output, golden-tested: each topic's text from a fixed reply (the replies are
// checked against the protocol's schemas first, so the fixtures cannot drift from the protocol).
// To update after an intended change: RACKSTRAP_UPDATE_GOLDEN=1 and review the diff.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
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
