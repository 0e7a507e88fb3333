// Kea's own high availability for sites that run Kea: the hot-standby configuration of the
// libdhcp_ha.so hook (with libdhcp_lease_cmds.so, which it needs), both shipped by Debian's
// kea-dhcp4-server. The peers talk over Kea's dedicated HTTP listener (multi-threading on), so no
// kea-ctrl-agent is needed. Timing: Kea's defaults, or the fastest settings that keep Kea's own
// split-brain guard (partner-down needs the response delay to pass *and* unanswered clients).

import { UsageError } from '../errors.js';

export const KEA_HOOKS_DIR = '/usr/lib/x86_64-linux-gnu/kea/hooks';

export interface KeaHaSpec {
  primary: string;
  standby: string;
  /** Which of the two this file is for. */
  self: 'primary' | 'standby';
  timing: 'default' | 'fast';
}

/** Parses `primary=URL,standby=URL`. */
export function parseKeaHa(text: string, self: string | undefined, timing: string | undefined): KeaHaSpec {
  const parts = new Map<string, string>();
  for (const p of text.split(',')) {
    const m = /^(primary|standby)=(https?:\/\/[^\s,]+)$/.exec(p.trim());
    if (!m) throw new UsageError(`--ha: expected primary=URL,standby=URL (e.g. primary=http://10.9.0.1:8000/,standby=http://10.9.0.2:8000/), got ${JSON.stringify(text)}`);
    parts.set(m[1]!, m[2]!.endsWith('/') ? m[2]! : `${m[2]!}/`);
  }
  if (!parts.has('primary') || !parts.has('standby')) throw new UsageError('--ha: give both primary=URL and standby=URL');
  const who = self ?? 'primary';
  if (who !== 'primary' && who !== 'standby') throw new UsageError(`--ha-self: expected primary or standby, got ${JSON.stringify(self)}`);
  const t = timing ?? 'default';
  if (t !== 'default' && t !== 'fast') throw new UsageError(`--ha-timing: expected default or fast, got ${JSON.stringify(timing)}`);
  return { primary: parts.get('primary')!, standby: parts.get('standby')!, self: who, timing: t };
}

/**
 * Kea's defaults (heartbeat 10 s, partner-down after 60 s and more than 10 unanswered clients),
 * or the fastest that keep Kea's split-brain guard: a heartbeat every 100 ms, the partner's
 * silence counts after 500 ms, and partner-down still needs more than one client that has been
 * retrying without an answer (its `secs` field, whole seconds, above max-ack-delay: any value
 * below 1000 ms means "for a second or more"). A merely slow or cut-off primary whose clients
 * are answered never meets the second condition; max-unacked-clients 0 would drop the guard.
 */
function timingOf(t: KeaHaSpec['timing']): Record<string, number> {
  return t === 'fast'
    ? { 'heartbeat-delay': 100, 'max-response-delay': 500, 'max-ack-delay': 500, 'max-unacked-clients': 1 }
    : { 'heartbeat-delay': 10000, 'max-response-delay': 60000, 'max-ack-delay': 10000, 'max-unacked-clients': 10 };
}

/** The "hooks-libraries" and "multi-threading" keys to put into "Dhcp4". */
export function keaHaKeys(spec: KeaHaSpec): Record<string, unknown> {
  return {
    'multi-threading': { 'enable-multi-threading': true, 'thread-pool-size': 2, 'packet-queue-size': 64 },
    'hooks-libraries': [
      { library: `${KEA_HOOKS_DIR}/libdhcp_lease_cmds.so` },
      {
        library: `${KEA_HOOKS_DIR}/libdhcp_ha.so`,
        parameters: {
          'high-availability': [{
            'this-server-name': spec.self,
            mode: 'hot-standby',
            ...timingOf(spec.timing),
            'multi-threading': { 'enable-multi-threading': true, 'http-dedicated-listener': true, 'http-listener-threads': 2, 'http-client-threads': 2 },
            peers: [
              { name: 'primary', url: spec.primary, role: 'primary', 'auto-failover': true },
              { name: 'standby', url: spec.standby, role: 'standby', 'auto-failover': true },
            ],
          }],
        },
      },
    ],
  };
}

/** Adds the HA keys to generated Kea text: into "Dhcp4" of a standalone file, else to the fragment. */
export function withKeaHa(text: string, spec: KeaHaSpec): string {
  const doc = JSON.parse(text) as Record<string, unknown>;
  const target = (doc.Dhcp4 as Record<string, unknown> | undefined) ?? doc;
  Object.assign(target, keaHaKeys(spec));
  return `${JSON.stringify(doc, null, 2)}\n`;
}
