// rackstrap show <topic> (definition: ../commands/show.ts): one control-socket request, rendered.
// With no agent running it says so, shows what the status file and cache hold, and exits 3.
import { findAgentLocations } from '../../bootstrap/agent-locations.js';
import { readStatus } from '../../bootstrap/status-read.js';
import { controlRequest, NoAgentError } from '../../control/client.js';
import { renderCache, renderDrift, renderFeatures, renderInfo, renderLeases, renderLinks, renderStats } from '../../control/render.js';
import type { CommandName } from '../../control/protocol.js';
import { UsageError } from '../../errors.js';
import { SHOW_TOPICS, type ShowOptions } from '../commands/show.js';
import { ExitCode, type Io } from '../main.js';

/** `show` and `status` exit with this when no agent answers (what they print comes from files). */
export const EXIT_NO_AGENT = 3;

const RENDER: Record<(typeof SHOW_TOPICS)[number], (r: never) => string> = {
  links: renderLinks,
  leases: renderLeases,
  cache: renderCache,
  features: renderFeatures,
  stats: renderStats,
  drift: renderDrift,
  info: renderInfo,
};

export async function run(io: Io, topic: string, o: ShowOptions): Promise<void> {
  if (!(SHOW_TOPICS as readonly string[]).includes(topic)) throw new UsageError(`show: unknown topic "${topic}" (topics: ${SHOW_TOPICS.join(', ')})`);
  const t = topic as (typeof SHOW_TOPICS)[number];
  const where = await findAgentLocations({
    ...(o.config === undefined ? {} : { file: o.config }),
    flags: { ...(o.cacheDir === undefined ? {} : { cacheDir: o.cacheDir }), ...(o.controlSocket === undefined ? {} : { controlSocket: o.controlSocket }) },
  });
  try {
    const reply = await controlRequest(where.controlSocket, t as CommandName);
    io.out(o.json ? JSON.stringify(reply, null, 1) : RENDER[t](reply as never));
    return;
  } catch (err) {
    if (!(err instanceof NoAgentError)) throw err;
    io.err(`${err.message}; showing what the status file in ${where.cacheDir} holds`);
  }
  let status;
  try {
    status = await readStatus(where.cacheDir);
  } catch (err) {
    io.err((err as Error).message);
    throw new ExitCode(EXIT_NO_AGENT);
  }
  const fromFile: Partial<Record<typeof t, unknown>> = {
    leases: { leases: status.leases },
    cache: status.cache,
    ...(status.drift === undefined ? {} : { drift: status.drift }),
  };
  const value = fromFile[t];
  if (value === undefined) io.err(`the status file does not hold ${t}: only a running agent can show it`);
  else io.out(o.json ? JSON.stringify(value, null, 1) : RENDER[t](value as never));
  throw new ExitCode(EXIT_NO_AGENT);
}
