// The agents of the demo's filers, driven as an operator would: an agent.yaml per filer (seed 004's
// config file, checked against the agent's own schema), then `rackstrap agent` (the daemon),
// `rackstrap agent --down` and the status file, each inside the filer's namespace.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_ENV, type AgentConfigFile } from '../bootstrap/agent-config.js';
import { readStatus, type AgentStatus } from '../bootstrap/status.js';
import { makeRunner } from '../net/runner.js';
import { RACKSTRAP_BIN, spawnRackstrap, type Child } from './child.js';
import type { LabFiler } from './lab-plan.js';
import type { ExpectedFiler } from './expect.js';
import { waitAddressed } from './observe-filer.js';
import type { Runner } from '../net/runner.js';

export interface AgentSetup {
  filer: LabFiler;
  clusterId: string;
  vendorClass: string;
  /** The agent's cache and status file; its agent.yaml is written here too. */
  cacheDir: string;
  /** How long the agent waits for a topology answer before it uses its cache. */
  topologyTimeoutMs: number;
  /** First DHCP retransmission (a LAN answers in milliseconds; RFC 2131's 4 s is for WANs). */
  retransmitBaseMs?: number;
  /** How often a running agent asks for the topology again (a new generation shows up within it). */
  refreshIntervalMs?: number;
}

/**
 * The agent's settings for one lab filer, as its config file holds them: what every filer of the
 * cluster shares, and nothing of the filer's own. Its NIC map and base MAC come from its NICs as on
 * a freshly unpacked filer, and the topology it gets tells it which filer it is.
 */
export function agentConfig(s: AgentSetup): AgentConfigFile {
  return {
    clusterId: s.clusterId,
    vendorClass: s.vendorClass,
    cacheDir: s.cacheDir,
    topologyTimeoutMs: s.topologyTimeoutMs,
    retransmitBaseMs: s.retransmitBaseMs ?? 250,
    refreshIntervalMs: s.refreshIntervalMs ?? 5000,
    retryIntervalMs: 2000,
    // The lab reads the agent's events.
    logFormat: 'json',
  };
}

/** Writes <cacheDir>/agent.yaml (JSON is YAML) and returns its path. */
export function writeAgentConfig(s: AgentSetup): string {
  mkdirSync(s.cacheDir, { recursive: true, mode: 0o700 });
  const file = join(s.cacheDir, 'agent.yaml');
  writeFileSync(file, `${JSON.stringify(agentConfig(s), null, 1)}\n`);
  return file;
}

function env(s: AgentSetup): Record<string, string> {
  return { [CONFIG_ENV]: writeAgentConfig(s) };
}

/** The daemon: brings the filer up, then keeps leases and asks for new generations until SIGTERM. */
export function startAgent(s: AgentSetup): Child {
  return spawnRackstrap(`agent ${s.filer.name}`, s.filer.netns, ['agent'], env(s));
}

/** `rackstrap agent --down` (the daemon must be stopped): releases and removes what rackstrap built. */
export async function agentDown(s: AgentSetup): Promise<{ ok: boolean; message: string }> {
  const runner = makeRunner({ netns: s.filer.netns, timeoutMs: 180_000 });
  // Generous: in a guest on a busy host, Node's start alone can take seconds.
  const r = await runner.run(['env', `${CONFIG_ENV}=${writeAgentConfig(s)}`, process.execPath, RACKSTRAP_BIN, 'agent', '--down']);
  const how = r.exitCode === -1 ? 'did not finish within 180 s' : `exit ${r.exitCode}`;
  return { ok: r.exitCode === 0, message: r.exitCode === 0 ? r.stdout.trim().split('\n').slice(-1).join('') : `${how}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ')}` };
}

/** The agent's status file, or undefined when there is none yet. */
export async function agentStatus(s: AgentSetup): Promise<AgentStatus | undefined> {
  try {
    return await readStatus(s.cacheDir);
  } catch {
    return undefined;
  }
}

export interface AgentEvent {
  time: string;
  level: string;
  event: string;
  msg: string;
  [field: string]: unknown;
}

/** The agent's log so far (one JSON object per stderr line). */
export function agentEvents(child: Child): AgentEvent[] {
  const out: AgentEvent[] = [];
  for (const l of child.stderr) {
    try {
      const e = JSON.parse(l) as AgentEvent;
      if (typeof e.event === 'string') out.push(e);
    } catch {
      // not a log line
    }
  }
  return out;
}

export interface AgentUp {
  /** performance.now() when every expected address was there; undefined when not within the time. */
  at: number | undefined;
  missing: string[];
  /** The agent's own log, its "start" line to its (first) "up" line; undefined for a later generation. */
  agentUpMs: number | undefined;
}

const isUpLine = (generation: number | undefined) => (line: string) => {
  try {
    const e = JSON.parse(line) as { event?: unknown; generation?: unknown };
    return e.event === 'up' && (generation === undefined || e.generation === generation);
  } catch {
    return false;
  }
};

/**
 * Waits for the agent's "up" log line, then checks the kernel: the expected addresses present (and
 * `absent` ones gone), polling every `pollMs` for what is still missing until `since + timeoutMs`.
 * Waiting on the log costs nothing, where polling `ip` competes with the agent for the CPU (the
 * demo's guest has one); the time is the "up" line's when the kernel confirms it at once.
 */
export async function waitAgentUp(
  child: Child,
  runner: Runner,
  expected: ExpectedFiler,
  opts: { since: number; timeoutMs: number; generation?: number; absent?: string[]; pollMs?: number },
): Promise<AgentUp> {
  const deadline = opts.since + opts.timeoutMs;
  let upAt: number | undefined;
  try {
    upAt = (await child.waitLine(isUpLine(opts.generation), Math.max(1, deadline - performance.now()), `"up" line${opts.generation ? ` for generation ${opts.generation}` : ''}`)).at;
  } catch {
    upAt = undefined;
  }
  const pollMs = opts.pollMs ?? 250;
  const w = await waitAddressed(runner, expected, { timeoutMs: Math.max(0, deadline - performance.now()), pollMs, ...(opts.absent ? { absent: opts.absent } : {}) });
  // Everything there at the first look after "up": the agent was up when it said so.
  const at = w.at === undefined ? undefined : upAt !== undefined && w.polls === 1 ? upAt : w.at;
  const events = agentEvents(child);
  const start = events.find((e) => e.event === 'start');
  const up = events.find((e) => e.event === 'up');
  return { at, missing: w.missing, agentUpMs: start && up && opts.generation === undefined ? Date.parse(up.time) - Date.parse(start.time) : undefined };
}
