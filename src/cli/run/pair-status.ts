// rackstrap pair-status (definition: ../commands/pair-status.ts): what a server of a pair wrote
// about itself, at most a second ago: role, partner, sync lag, service address.
import { LimitedReadError, readLimited } from '../../input/read-limited.js';
import { RackstrapError } from '../../errors.js';
import type { PairStatus } from '../../sync/pair.js';
import type { PairStatusOptions } from '../commands/pair-status.js';
import type { Io } from '../main.js';

/** A pair's status file is a few hundred bytes. */
const MAX_PAIR_STATUS_BYTES = 1 << 20;

export async function run(io: Io, o: PairStatusOptions): Promise<void> {
  const file = `${o.leaseFile}.pair.json`;
  let text: string;
  try {
    text = (await readLimited(file, { maxBytes: MAX_PAIR_STATUS_BYTES, what: 'the pair status', code: 'RS_PAIR_STATUS' })).toString('utf8');
  } catch (err) {
    if (err instanceof LimitedReadError && err.kind === 'missing') throw new RackstrapError('RS_PAIR_STATUS', `${file}: no status: is rackstrap serve running as one of a pair with this --lease-file?`);
    throw err;
  }
  let s: PairStatus & { writtenAt?: string; pid?: number };
  try {
    s = JSON.parse(text) as typeof s;
  } catch {
    throw new RackstrapError('RS_PAIR_STATUS', `${file}: not a status file (bad JSON)`);
  }
  if (o.json) {
    io.out(JSON.stringify(s, null, 1));
    return;
  }
  const age = s.writtenAt ? Math.round((Date.now() - Date.parse(s.writtenAt)) / 1000) : undefined;
  const p = s.partner;
  io.out([
    `${s.name}: ${s.role} since ${s.since}${age !== undefined && age > 5 ? ` (status ${age} s old: is the server running?)` : ''}`,
    `  partner     ${p.name ?? 'unknown'} · ${p.heard ? 'heard' : 'not heard'}${p.lastHeardMsAgo !== undefined ? ` (${p.lastHeardMsAgo} ms ago)` : ''} · ${p.connected ? 'connected' : 'not connected'} · role ${p.role ?? 'unknown'}${p.synced ? ' · tables in step' : ''}`,
    `  sync        ${s.mode} · ${s.sync.pending} change(s) waiting${s.sync.pending ? ` (oldest ${s.sync.oldestPendingMs} ms)` : ''} · last acknowledgment ${s.sync.lastAckMs ?? '-'} ms · sent ${s.sync.sent}, acknowledged ${s.sync.acked}, received ${s.sync.received}`,
    `  service     ${s.service.address ?? 'none'}${s.service.address ? (s.service.held ? ' · held here' : ' · not held here') : ''}`,
    `  leases      ${s.leases}${s.lastResync ? ` · last table copy ${s.lastResync.leases} leases in ${s.lastResync.ms} ms` : ''}`,
    ...(s.partnerDown ? [`  alone since ${s.partnerDown.since}: new addresses from the ${s.partnerDown.half} half of each range only; ${s.partnerDown.held} held`] : []),
    ...(Object.keys(s.sync.refused).length ? [`  refused     ${Object.entries(s.sync.refused).map(([k, v]) => `${k} ${v}`).join(', ')}`] : []),
  ].join('\n'));
}
