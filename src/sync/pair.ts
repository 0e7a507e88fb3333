// One server of a hot-standby pair. It speaks the sync format (format.ts) to its partner:
//  - a TCP connection carries hellos, both lease tables on every new connection (snapshots),
//    every lease change (updates) and acknowledgments, plus heartbeats;
//  - UDP heartbeats go to the partner on every configured path (the sync link and the client
//    network), so a cut sync link is told apart from a dead partner.
// Roles: the active answers clients; the standby copies every change to its own disk and
// acknowledges it; in sync mode the active sends a reply only once the change is on both disks.
// The standby takes over when it hears its partner on no path at all. A server that cannot reach
// its partner serves alone under the split-brain guard (guard.ts). When the two meet again they
// exchange tables, merge them and settle on one active (the preferred server on a tie).
// The service address (what relays point at) is held by whichever server answers.

import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { RackstrapError } from '../errors.js';
import type { ServerConfig } from '../dhcp-server/config.js';
import { LeaseTable, type DurableOp } from '../dhcp-server/lease-table.js';
import type { LeaseStore } from '../dhcp-server/leases.js';
import type { Logger } from '../dhcp-server/logger.js';
import type { PairHooks } from '../dhcp-server/pair-hooks.js';
import {
  FLAG, HEADER_BYTES, LEASES_PER_MESSAGE, MESSAGE, MessageSplitter, decodeSyncMessage, encodeSyncMessage, readHeader,
  type HeartbeatEntry, type LeaseEntry, type Role, type SyncEntry, type SyncMessage,
} from './format.js';
import { cutStateOf, dynamicRanges, partnerDownGuard, type CutState, type Half } from './guard.js';
import { futureActive, mergeOps, replaceChunkOps, replaceEndOps } from './merge.js';
import type { ServiceAddress } from './service-address.js';

export type SyncMode = 'sync' | 'async';

export interface Endpoint {
  host: string;
  port: number;
}

export interface PairSettings {
  /** This server's name (the pair's two names differ). */
  name: string;
  /** On a tie (both or neither active) the preferred server is the active one; it owns the lower half of each dynamic range. */
  preferred: boolean;
  /** Where this server listens (TCP and UDP heartbeats, same port). */
  listen: Endpoint;
  /** The partner's sync endpoint. */
  partner: Endpoint;
  /** More addresses of the partner that heartbeats go to (same port): the evidence beyond one link. */
  paths: readonly string[];
  secret: Buffer;
  mode: SyncMode;
  heartbeatMs?: number;
  /** A connection with nothing received for this long is closed (the active then serves alone). */
  sessionDeadMs?: number;
  /** The partner counts as gone when nothing came on any path for this long (the standby takes over). */
  partnerDeadMs?: number;
  /** A starting server that hears no partner for this long serves alone. */
  startupWaitMs?: number;
  /** The active closes a connection whose oldest unacknowledged update is this old. */
  ackTimeoutMs?: number;
  /** Where the status is written (JSON, replaced atomically about once a second). */
  statusFile?: string;
}

export interface PairDeps {
  store: LeaseStore;
  config: () => ServerConfig;
  log: Logger;
  /** The service address, when the pair has one. */
  service?: ServiceAddress;
  /** Called when the interfaces' addresses changed (the service address came or went). */
  interfacesChanged: () => void;
}

export interface PairStatus {
  name: string;
  role: Role;
  since: string;
  mode: SyncMode;
  partner: {
    name: string | undefined;
    heard: boolean;
    lastHeardMsAgo: number | undefined;
    role: Role | undefined;
    connected: boolean;
    synced: boolean;
  };
  sync: { pending: number; oldestPendingMs: number; lastAckMs: number | undefined; sent: number; acked: number; received: number; refused: Record<string, number> };
  service: { address: string | undefined; held: boolean };
  leases: number;
  partnerDown: { since: string; half: Half; held: number } | undefined;
  lastResync: { leases: number; ms: number } | undefined;
}

const ZERO8 = Buffer.alloc(8);

function syncError(message: string): RackstrapError {
  return new RackstrapError('RS_SYNC', message);
}

interface Pending {
  seq: number;
  dones: Array<(err?: Error) => void>;
  addresses: number[];
  sentAt: number;
}

class Session {
  readonly splitter = new MessageSplitter();
  partnerNonce: Buffer | undefined;
  partnerName: string | undefined;
  lastReceived = performance.now();
  /** Our snapshot went out (updates may follow it). */
  sentSnapshot = false;
  /** The partner's snapshot is on our disk. */
  haveTheirs = false;
  /** The partner has our snapshot on its disk. */
  theyHaveMine = false;
  settled = false;
  partnerHelloRole: Role | undefined;
  /** The role this server announced in its hello on this connection. */
  myHelloRole: Role | undefined;
  /** Who becomes the active, decided from the two hellos (the same answer on both sides). */
  future: 'me' | 'partner' | undefined;
  /** The partner writes 1.1 or older: both tables are exchanged at once and merged on both sides. */
  legacy = false;
  /** Address → client of the active's table so far (the standby releases the rest after the last chunk). */
  want = new Map<number, string>();
  /** Lease-log writes of the partner's table not yet on disk. */
  copyWrites = 0;
  /** The partner's last chunk came; the copy is done once every write of it is on disk. */
  copyLast = false;
  copyDone = false;
  copyFailed = false;
  /** What follows the copy (acknowledge it, answer with the merged table, settle). */
  copyFinish: (() => void) | undefined;
  /** performance.now() of the hello, the first and the last chunk of the partner's table. */
  /** Frames read but not yet handled (a table copy is handled one chunk per turn of the event loop). */
  frames: Buffer[] = [];
  draining = false;
  streamError: string | undefined;
  helloAt = 0;
  firstChunkAt = 0;
  lastChunkAt = 0;
  /** The partner said it closes this connection on purpose (it is alive). */
  partnerClosing = false;
  received = 0;
  started = performance.now();
  closed = false;
  constructor(readonly socket: net.Socket) {}
}

export class Pair implements PairHooks {
  readonly #s: Required<Omit<PairSettings, 'statusFile'>> & { statusFile: string | undefined };
  readonly #d: PairDeps;
  readonly #nonce = randomBytes(8);
  #role: Role = 'starting';
  #roleSince = Date.now();
  readonly #startedAt = performance.now();
  #session: Session | undefined;
  #server: net.Server | undefined;
  #udp: dgram.Socket | undefined;
  #timers: NodeJS.Timeout[] = [];
  #lastUdp = -Infinity;
  /** When the partner's side closed the connection (FIN or reset): its process ended, or it restarts. */
  #peerClosedAt = -Infinity;
  #udpNonce: Buffer | undefined;
  #udpSeq = 0;
  #udpSendSeq = 0;
  #partnerRole: Role | undefined;
  #partnerName: string | undefined;
  #updateSeq = 0;
  #batch: { entries: LeaseEntry[]; dones: Array<(err?: Error) => void>; addresses: number[] } | undefined;
  #pending: Pending[] = [];
  #ackUpTo = 0;
  #ackScheduled = false;
  #guard: ((address: number, client: string) => boolean) | undefined;
  #cut: CutState | undefined;
  #holding = false;
  #serviceBusy: Promise<void> = Promise.resolve();
  #stopped = false;
  #stopping = false;
  #lastResync: { leases: number; ms: number } | undefined;
  #lastAckMs: number | undefined;
  readonly #refused: Record<string, number> = {};
  /**
   * The lease table as the partner is told it: every durable change (ours and its), no offers.
   * The guard holds every lease in it: the partner may renew any of them for its client.
   */
  readonly #told = new LeaseTable();
  readonly stats = { sent: 0, acked: 0, received: 0 };

  constructor(settings: PairSettings, deps: PairDeps) {
    this.#s = {
      // The same defaults as serve's (settings.ts): dead after ten heartbeats, the connection
      // and acknowledgment timeouts three heartbeats short of that.
      heartbeatMs: 100,
      sessionDeadMs: 700,
      partnerDeadMs: 1000,
      startupWaitMs: 1000,
      ackTimeoutMs: 700,
      ...settings,
      statusFile: settings.statusFile,
    };
    this.#d = deps;
  }

  get role(): Role {
    return this.#role;
  }

  // ---- hooks the server calls ----

  answering(): boolean {
    return !this.#stopping && (this.#role === 'active' || this.#role === 'active-alone');
  }

  guard(): ((address: number, client: string) => boolean) | undefined {
    return this.#role === 'active-alone' ? this.#guard : undefined;
  }

  serviceAddress(): string | undefined {
    return this.#holding ? this.#d.service?.address : undefined;
  }

  replicate(ops: readonly DurableOp[], now: number, done: (err?: Error) => void): void {
    if (!this.answering()) {
      // A request taken in while this server still answered, decided after it stopped (it is
      // copying the active's table, or stopping): no reply. The active's table, which replaces
      // this one, does not have the change, so nothing of it remains on either side.
      done(syncError('this server no longer answers (its partner is or becomes the active): reply not sent'));
      return;
    }
    for (const op of ops) this.#told.apply(op);
    const session = this.#session;
    const open = session !== undefined && !session.closed && session.sentSnapshot;
    if (!open) {
      // Nobody to tell: the partner gets this change with our table when it comes back.
      done();
      return;
    }
    const waits = this.#role === 'active' && this.#s.mode === 'sync';
    const batch = (this.#batch ??= { entries: [], dones: [], addresses: [] });
    for (const op of ops) {
      batch.entries.push(entryOf(op, now, this.#s.name));
      batch.addresses.push(op.address);
    }
    if (waits) batch.dones.push(done);
    else queueMicrotask(() => done());
    if (batch.entries.length === ops.length) setImmediate(() => this.#flushBatch());
  }

  // ---- start and stop ----

  async start(): Promise<void> {
    const now = Date.now();
    for (const l of this.#d.store.table.bound(now)) this.#told.apply({ op: 'bind', address: l.address, client: l.client, expires: l.expires, label: '', hw: '' });
    for (const [address, until] of this.#d.store.table.quarantines(now)) this.#told.apply({ op: 'decline', address, client: '', until });
    // Whatever an earlier run left: a server that is not yet active holds no service address.
    await this.#releaseService('start');
    this.#server = net.createServer((socket) => this.#accept(socket));
    this.#server.on('error', (err) => this.#d.log.log('error', 'pair-listen-error', { error: err.message }));
    await new Promise<void>((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(this.#s.listen.port, this.#s.listen.host, () => {
        this.#server!.off('error', reject);
        resolve();
      });
    });
    this.#udp = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    this.#udp.on('message', (buf) => this.#onHeartbeatDatagram(buf));
    this.#udp.on('error', (err) => this.#d.log.log('warn', 'pair-heartbeat-error', { error: err.message }));
    await new Promise<void>((resolve) => this.#udp!.bind(this.#s.listen.port, '0.0.0.0', resolve));
    this.#d.log.notice('pair-start', {
      name: this.#s.name, preferred: this.#s.preferred, mode: this.#s.mode, listen: `${this.#s.listen.host}:${this.#s.listen.port}`,
      partner: `${this.#s.partner.host}:${this.#s.partner.port}`, paths: this.#s.paths, service: this.#d.service?.describe(),
      heartbeatMs: this.#s.heartbeatMs, partnerDeadMs: this.#s.partnerDeadMs,
    });
    this.#timers.push(setInterval(() => this.#sendHeartbeats(), this.#s.heartbeatMs));
    this.#timers.push(setInterval(() => this.#tick(), Math.max(10, Math.floor(this.#s.heartbeatMs / 4))));
    this.#timers.push(setInterval(() => this.#writeStatus(), 1000));
    this.#sendHeartbeats();
    this.#dial();
    this.#writeStatus();
  }

  async stop(): Promise<void> {
    if (this.#stopped || this.#stopping) return;
    // Answer nobody from here on, and let the partner confirm what it was sent (bounded), so a
    // stop loses no change the standby should have.
    this.#stopping = true;
    this.#flushBatch();
    const deadline = performance.now() + this.#s.ackTimeoutMs;
    while (this.#pending.length > 0 && this.#session && !this.#session.closed && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#closeSession('stopping');
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    this.#udp?.close();
    await this.#releaseService('stop');
    this.#writeStatus();
  }

  // ---- connections ----

  /** The server with the smaller sync endpoint dials; the other only accepts. One connection at a time. */
  #dials(): boolean {
    const key = (e: Endpoint): string => `${e.host}:${String(e.port).padStart(5, '0')}`;
    return key(this.#s.listen) < key(this.#s.partner);
  }

  #dial(): void {
    if (this.#stopped || this.#session || !this.#dials()) return;
    const socket = net.connect({ host: this.#s.partner.host, port: this.#s.partner.port });
    socket.setNoDelay(true);
    const session = this.#open(socket);
    socket.once('error', () => undefined);
    void session;
  }

  #accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    // A candidate until its hello checks out: a stranger's connection never disturbs the session.
    const session = this.#open(socket, false);
    setTimeout(() => {
      if (!session.partnerNonce && !session.closed) {
        session.closed = true;
        socket.destroy();
      }
    }, 2000).unref();
  }

  #open(socket: net.Socket, dialed = true): Session {
    const session = new Session(socket);
    if (dialed) this.#session = session;
    socket.on('data', (chunk: Buffer) => this.#onData(session, chunk));
    const peerClosed = (): void => {
      if (session.partnerNonce && this.#session === session && !session.partnerClosing) this.#peerClosedAt = performance.now();
    };
    socket.on('end', peerClosed);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET') peerClosed();
    });
    socket.on('close', () => this.#onClosed(session));
    const send = (): void => this.#sendHello(session);
    if (socket.connecting) socket.once('connect', send);
    else if (dialed) send();
    return session;
  }

  #closeSession(why: string): void {
    const s = this.#session;
    if (!s || s.closed) return;
    // Tell the partner this close is on purpose, so it does not read the FIN as our death.
    if (s.partnerNonce) s.socket.write(encodeSyncMessage({ kind: 'heartbeat', seq: 0, flags: 0, entries: [{ ...this.#heartbeat(), closing: true }] }, this.#s.secret, this.#sessionKeys(s).send));
    s.socket.end();
    setTimeout(() => s.socket.destroy(), 1000).unref();
    this.#onClosed(s, why);
  }

  /** Closes `session`, whether it is the current one or a candidate. */
  #dropSession(session: Session, why: string): void {
    if (session === this.#session) this.#closeSession(why);
    else if (!session.closed) {
      session.closed = true;
      session.socket.destroy();
    }
  }

  #onClosed(session: Session, why = 'connection closed'): void {
    if (session.closed) return;
    session.closed = true;
    if (this.#session !== session) return;
    this.#session = undefined;
    if (session.partnerNonce) this.#d.log.log('warn', 'pair-disconnected', { partner: session.partnerName, reason: why, role: this.#role });
    // Changes the partner never confirmed: their replies are not sent, and the guard treats the
    // addresses as held (the partner does not know them, so only this server may keep them).
    const unconfirmed = new Set<number>();
    const failed = this.#pending.splice(0);
    if (this.#batch) {
      failed.push({ seq: 0, dones: this.#batch.dones, addresses: this.#batch.addresses, sentAt: 0 });
      this.#batch = undefined;
    }
    for (const p of failed) for (const a of p.addresses) unconfirmed.add(a);
    if (this.#role === 'active') this.#goAlone(`lost the connection to the partner (${why})`, unconfirmed);
    else if (this.#role === 'syncing') this.#setRole('standby', `lost the connection to the partner while copying its table (${why}); serving alone once it is heard on no path`);
    else if (unconfirmed.size > 0 && this.#cut) for (const a of unconfirmed) (this.#cut.held as Set<number>).add(a);
    for (const p of failed) for (const d of p.dones) d(syncError('the partner did not confirm the lease change: reply not sent'));
  }

  #sessionKeys(session: Session): { send: Buffer; recv: Buffer } {
    return { send: Buffer.concat([this.#nonce, session.partnerNonce!]), recv: Buffer.concat([session.partnerNonce!, this.#nonce]) };
  }

  #onData(session: Session, chunk: Buffer): void {
    if (session.closed || session.streamError !== undefined) return;
    const { frames, error } = session.splitter.push(chunk);
    for (const f of frames) session.frames.push(f);
    session.streamError = error;
    this.#drain(session);
  }

  /**
   * Handles the frames read so far, in order. After a chunk of a table copy the rest waits for
   * the next turn of the event loop: a copy of many chunks that arrived at once would otherwise
   * hold the loop for all of them, and the heartbeats (timers) this server owes its partner
   * would stop for that long — long enough, on a busy machine, for the partner to close the
   * connection as dead and start the copy over.
   */
  #drain(session: Session): void {
    if (session.draining) return;
    session.draining = true;
    while (session.frames.length > 0) {
      if (session.closed) return;
      const frame = session.frames.shift()!;
      this.#onFrame(session, frame);
      if (frame[4] === MESSAGE.snapshot && session.frames.length > 0) {
        setImmediate(() => {
          session.draining = false;
          this.#drain(session);
        });
        return;
      }
    }
    session.draining = false;
    const error = session.streamError;
    if (error !== undefined && !session.closed) {
      this.#refuse('malformed', { detail: error });
      this.#dropSession(session, `unreadable stream: ${error}`);
    }
  }

  /** Counts a refused message; logs the first of each reason, then every 100th (a flood must not flood the log). */
  #refuse(reason: string, fields: Record<string, unknown>): void {
    const n = (this.#refused[reason] = (this.#refused[reason] ?? 0) + 1);
    if (n === 1 || n % 100 === 0) this.#d.log.log('warn', 'pair-message-refused', { reason, count: n, ...fields });
  }

  #onFrame(session: Session, frame: Buffer): void {
    if (!session.partnerNonce) {
      // The first message must be the partner's hello, tagged with its own nonce.
      const nonce = frame.length >= HEADER_BYTES + 12 ? frame.subarray(HEADER_BYTES + 4, HEADER_BYTES + 12) : ZERO8;
      const got = decodeSyncMessage(frame, this.#s.secret, Buffer.concat([nonce, ZERO8]));
      if (!got.ok) {
        this.#refuse(got.reason, { detail: got.detail, stage: 'hello' });
        this.#dropSession(session, `hello refused: ${got.reason}`);
        return;
      }
      const hello = got.message.entries[0];
      if (got.message.kind !== 'hello' || hello?.kind !== 'hello') {
        this.#refuse('malformed', { detail: 'first message is not a hello' });
        this.#dropSession(session, 'no hello');
        return;
      }
      if (hello.name === this.#s.name) {
        this.#refuse('malformed', { detail: `partner calls itself ${hello.name}, this server's own name` });
        this.#dropSession(session, 'same name');
        return;
      }
      if (this.#session !== session) {
        // An accepted connection proved itself: it replaces the one we had (maybe half dead after a cut).
        if (this.#session) this.#closeSession('replaced by a new connection');
        this.#session = session;
        this.#sendHello(session);
      }
      session.helloAt = performance.now();
      session.partnerNonce = Buffer.from(hello.nonce);
      session.partnerName = hello.name;
      session.lastReceived = performance.now();
      this.#partnerName = hello.name;
      this.#partnerRole = hello.role;
      session.partnerHelloRole = hello.role;
      const h = readHeader(frame);
      session.legacy = typeof h === 'object' && h.minor < 2;
      const mine = session.myHelloRole ?? this.#wireRole();
      session.future = futureActive(
        { role: mine === 'syncing' ? 'starting' : mine, preferred: this.#s.preferred, name: this.#s.name },
        { role: hello.role === 'syncing' ? 'starting' : hello.role, preferred: hello.preferred, name: hello.name },
      );
      this.#d.log.notice('pair-connected', { partner: hello.name, partnerRole: hello.role, partnerLeases: hello.leases, role: this.#role, futureActive: session.future === 'me' ? this.#s.name : hello.name });
      if (session.legacy) {
        // A 1.1 partner sends its table at once and merges ours: do the same.
        this.#sendSnapshot(session, false);
      } else if (session.future === 'partner') {
        // The future standby stops answering first, so that the table it sends is its last word.
        if (this.#role !== 'syncing') this.#setRole('syncing', `copying the table of ${hello.name}, which stays or becomes the active`);
        this.#sendSnapshot(session, false);
      }
      // The future active sends its table only once it has merged the standby's.
      return;
    }
    const got = decodeSyncMessage(frame, this.#s.secret, this.#sessionKeys(session).recv);
    if (!got.ok) {
      // Refused without effect; the connection goes on (a newer major, a forged or bad message).
      this.#refuse(got.reason, { detail: got.detail });
      return;
    }
    session.lastReceived = performance.now();
    const m = got.message;
    switch (m.kind) {
      case 'heartbeat':
        for (const e of m.entries) {
          if (e.kind !== 'heartbeat') continue;
          this.#partnerRole = e.role;
          if (e.closing) session.partnerClosing = true;
        }
        this.#maybeSettle(session);
        return;
      case 'update':
        this.stats.received += m.entries.length;
        this.#applyUpdate(session, m);
        return;
      case 'snapshot':
        this.#applySnapshot(session, m);
        return;
      case 'ack':
        for (const e of m.entries) {
          if (e.kind === 'ack') this.#onAck(e.upTo);
          if (e.kind === 'snapshot-end') {
            session.theyHaveMine = true;
            this.#maybeSettle(session);
          }
        }
        return;
      case 'hello':
        this.#refuse('malformed', { detail: 'a second hello on one connection' });
        return;
    }
  }

  #send(session: Session, msg: SyncMessage): void {
    if (session.closed || !session.partnerNonce) return;
    session.socket.write(encodeSyncMessage(msg, this.#s.secret, this.#sessionKeys(session).send));
  }

  // ---- snapshots (every new connection) ----

  #sendHello(session: Session): void {
    const role = this.#wireRole();
    session.myHelloRole = role;
    const hello: SyncMessage = {
      kind: 'hello', seq: 0, flags: 0,
      entries: [{ kind: 'hello', nonce: this.#nonce, role, preferred: this.#s.preferred, leases: this.#d.store.table.size.leases, name: this.#s.name }],
    };
    session.socket.write(encodeSyncMessage(hello, this.#s.secret, Buffer.concat([this.#nonce, ZERO8])));
  }

  /** The whole table; `pairTable`: the active's merged table, which the standby makes its own. */
  #sendSnapshot(session: Session, pairTable: boolean): void {
    const now = Date.now();
    const entries: LeaseEntry[] = [];
    for (const l of this.#d.store.table.bound(now)) {
      entries.push({ kind: 'lease', op: 'bind', address: l.address, until: l.expires, at: now, client: l.client, label: l.label, hw: l.hw, origin: this.#s.name });
    }
    for (const [address, until] of this.#d.store.table.quarantines(now)) {
      entries.push({ kind: 'lease', op: 'decline', address, until, at: now, client: '', label: '', hw: '' });
    }
    let seq = 0;
    for (let i = 0; i < entries.length || i === 0; i += LEASES_PER_MESSAGE) {
      const chunk: SyncEntry[] = entries.slice(i, i + LEASES_PER_MESSAGE);
      const last = i + LEASES_PER_MESSAGE >= entries.length;
      if (last) chunk.push({ kind: 'snapshot-end', total: entries.length });
      this.#send(session, { kind: 'snapshot', seq: seq++, flags: (last ? FLAG.last : 0) | (pairTable ? FLAG.pairTable : 0), entries: chunk });
    }
    session.sentSnapshot = true;
  }

  /**
   * A chunk of the partner's table. The future active (and either side with a 1.1 partner) merges
   * it into its own table (merge.ts); the future standby makes its table the active's merged one,
   * chunk by chunk as they come (the binds of each chunk on disk while the next is on its way),
   * and after the last releases whatever the active's table does not have.
   */
  #applySnapshot(session: Session, m: SyncMessage): void {
    const now = Date.now();
    const table = this.#d.store.table;
    const last = (m.flags & FLAG.last) !== 0;
    const replace = (m.flags & FLAG.pairTable) !== 0 && session.future === 'partner';
    if (session.firstChunkAt === 0) session.firstChunkAt = performance.now();
    if (last) session.lastChunkAt = performance.now();
    let total: number | undefined;
    const leases: LeaseEntry[] = [];
    for (const e of m.entries) {
      if (e.kind === 'snapshot-end') total = e.total;
      if (e.kind !== 'lease') continue;
      session.received++;
      leases.push(e);
    }
    this.#writeCopy(session, replace ? replaceChunkOps(table, leases, now, session.want) : mergeOps(table, leases, now), now);
    if (!last) return;
    if (replace) {
      this.#writeCopy(session, replaceEndOps(table, session.want, now), now);
      session.want = new Map();
    }
    session.copyLast = true;
    const finish = (): void => {
      session.haveTheirs = true;
      // The active's table is sent after the active has merged ours: it has ours.
      if (replace) session.theyHaveMine = true;
      const ms = performance.now() - session.started;
      this.#lastResync = { leases: session.received, ms: Math.round(ms) };
      this.#d.log.notice('pair-resynced', { partner: session.partnerName, leases: session.received, expected: total, ms: Math.round(ms), leasesNow: table.size.leases,
        phases: { hello: Math.round(session.helloAt - session.started), firstChunk: Math.round(session.firstChunkAt - session.started), lastChunk: Math.round(session.lastChunkAt - session.started) }, how: replace ? 'replaced by the active\'s table' : 'merged' });
      this.#send(session, { kind: 'ack', seq: 0, flags: 0, entries: [{ kind: 'snapshot-end', total: session.received }] });
      // The future active answers with the merged table, which the standby makes its own.
      if (!session.legacy && session.future === 'me' && !session.sentSnapshot) this.#sendSnapshot(session, true);
      this.#maybeSettle(session);
    };
    session.copyFinish = finish;
    this.#maybeFinishCopy(session);
  }

  /** Queues one chunk's changes for the lease log (one write and one sync for the chunk). */
  #writeCopy(session: Session, ops: DurableOp[], now: number): void {
    for (const op of ops) this.#told.apply(op);
    session.copyWrites++;
    const queued = this.#d.store.commit(ops, now, (err) => {
      session.copyWrites--;
      if (err) {
        if (session.copyFailed) return;
        session.copyFailed = true;
        this.#d.log.log('error', 'pair-resync-write-failed', { error: err.message });
        this.#dropSession(session, 'cannot write the partner table');
        return;
      }
      this.#maybeFinishCopy(session);
    });
    if (!queued) session.copyWrites--;
  }

  #maybeFinishCopy(session: Session): void {
    if (!session.copyLast || session.copyWrites > 0 || session.copyDone || session.copyFailed || session.closed) return;
    session.copyDone = true;
    const finish = session.copyFinish;
    session.copyFinish = undefined;
    finish?.();
  }

  // ---- updates and acknowledgments ----

  #flushBatch(): void {
    const batch = this.#batch;
    this.#batch = undefined;
    const session = this.#session;
    if (!batch) return;
    if (!session || session.closed) {
      for (const d of batch.dones) d(syncError('the connection to the partner closed before the change was sent: reply not sent'));
      return;
    }
    for (let i = 0; i < batch.entries.length; i += LEASES_PER_MESSAGE) {
      const entries = batch.entries.slice(i, i + LEASES_PER_MESSAGE);
      const seq = ++this.#updateSeq;
      const last = i + LEASES_PER_MESSAGE >= batch.entries.length;
      this.#send(session, { kind: 'update', seq, flags: 0, entries });
      this.stats.sent += entries.length;
      if (last) this.#pending.push({ seq, dones: batch.dones, addresses: batch.addresses, sentAt: performance.now() });
    }
  }

  #onAck(upTo: number): void {
    while (this.#pending.length > 0 && this.#pending[0]!.seq <= upTo) {
      const p = this.#pending.shift()!;
      this.#lastAckMs = performance.now() - p.sentAt;
      this.stats.acked += p.addresses.length;
      for (const d of p.dones) d();
    }
  }

  #applyUpdate(session: Session, m: SyncMessage): void {
    const ops: DurableOp[] = [];
    for (const e of m.entries) if (e.kind === 'lease') ops.push(opOfEntry(e));
    for (const op of ops) this.#told.apply(op);
    const seq = m.seq;
    const ack = (): void => {
      this.#ackUpTo = Math.max(this.#ackUpTo, seq);
      if (this.#ackScheduled) return;
      this.#ackScheduled = true;
      setImmediate(() => {
        this.#ackScheduled = false;
        if (this.#session === session) this.#send(session, { kind: 'ack', seq: 0, flags: 0, entries: [{ kind: 'ack', upTo: this.#ackUpTo }] });
      });
    };
    // Written to our own disk (group commit with whatever else is queued) before it is acknowledged.
    if (!this.#d.store.commit(ops, Date.now(), (err) => {
      if (err) {
        this.#d.log.log('error', 'pair-update-write-failed', { error: err.message });
        return; // never acknowledged: the active does not answer
      }
      ack();
    })) ack();
  }

  // ---- heartbeats ----

  #wireRole(): Role {
    return this.#role === 'starting' && this.#session?.partnerNonce ? 'syncing' : this.#role;
  }

  #heartbeat(): HeartbeatEntry {
    return {
      kind: 'heartbeat', nonce: this.#nonce, role: this.#wireRole(), holdsService: this.#holding, hearsPartner: this.#hears(),
      acked: this.#ackUpTo, leases: this.#d.store.table.size.leases,
    };
  }

  #sendHeartbeats(): void {
    if (this.#stopped) return;
    const hb = this.#heartbeat();
    const datagram = encodeSyncMessage({ kind: 'heartbeat', seq: ++this.#udpSendSeq, flags: 0, entries: [hb] }, this.#s.secret, Buffer.concat([this.#nonce, ZERO8]));
    for (const host of new Set([this.#s.partner.host, ...this.#s.paths])) {
      this.#udp?.send(datagram, this.#s.partner.port, host, () => undefined);
    }
    const s = this.#session;
    if (s && s.partnerNonce && !s.closed) this.#send(s, { kind: 'heartbeat', seq: 0, flags: 0, entries: [hb] });
  }

  #onHeartbeatDatagram(buf: Buffer): void {
    const h = readHeader(buf);
    if (!h || typeof h === 'string' || buf.length < HEADER_BYTES + 12) {
      this.#refuse('malformed', { detail: typeof h === 'string' ? h : 'short datagram', channel: 'heartbeat' });
      return;
    }
    const nonce = buf.subarray(HEADER_BYTES + 4, HEADER_BYTES + 12);
    if (nonce.equals(this.#nonce)) return; // our own (a path that loops back)
    const got = decodeSyncMessage(buf, this.#s.secret, Buffer.concat([nonce, ZERO8]));
    if (!got.ok) {
      this.#refuse(got.reason, { detail: got.detail, channel: 'heartbeat' });
      return;
    }
    const hb = got.message.entries[0];
    if (got.message.kind !== 'heartbeat' || hb?.kind !== 'heartbeat') return;
    // A recorded heartbeat replayed later has an old sequence number for its nonce.
    if (this.#udpNonce && this.#udpNonce.equals(hb.nonce) && got.message.seq <= this.#udpSeq) {
      // The same heartbeat by another path (or late): not news. A recorded one replayed later
      // lands here too, and is likewise ignored.
      if (got.message.seq < this.#udpSeq - 50) this.#refuse('replayed', { channel: 'heartbeat' });
      return;
    }
    this.#udpNonce = Buffer.from(hb.nonce);
    this.#udpSeq = got.message.seq;
    this.#lastUdp = performance.now();
    if (!this.#session) this.#partnerRole = hb.role;
  }

  #lastHeard(): number {
    const s = this.#session;
    return Math.max(this.#lastUdp, s && s.partnerNonce && !s.closed ? s.lastReceived : -Infinity);
  }

  #hears(): boolean {
    return performance.now() - this.#lastHeard() < this.#s.partnerDeadMs;
  }

  // ---- roles ----

  #tick(): void {
    // Decided after this turn's reads: a server whose own event loop was held up (a busy
    // machine, a long write) has its partner's heartbeats waiting in its sockets, and must read
    // them before it judges the partner silent. Timers run before the reads of a turn, checks
    // (setImmediate) after them.
    setImmediate(() => this.#judge());
  }

  #judge(): void {
    if (this.#stopped) return;
    const now = performance.now();
    const s = this.#session;
    if (s && !s.closed && now - s.lastReceived > this.#s.sessionDeadMs && (s.partnerNonce || now - s.started > this.#s.sessionDeadMs * 3)) {
      this.#closeSession(`nothing received for ${Math.round(now - s.lastReceived)} ms`);
    }
    const oldest = this.#pending[0];
    if (oldest && now - oldest.sentAt > this.#s.ackTimeoutMs) this.#closeSession(`no acknowledgment for ${Math.round(now - oldest.sentAt)} ms`);
    if (!this.#session) this.#dial();
    const hears = this.#hears();
    switch (this.#role) {
      case 'standby':
        // The partner's kernel closed the connection (its process is gone, or it is restarting) and
        // no heartbeat came on any path since: no need to wait the whole dead time.
        if (hears && this.#peerClosedAt > this.#lastHeard() - this.#s.heartbeatMs && now - Math.max(this.#lastHeard(), this.#peerClosedAt) > 2.5 * this.#s.heartbeatMs && !this.#session?.partnerNonce) {
          this.#goAlone(`partner closed the sync connection and sent no heartbeat on any path for ${Math.round(now - this.#lastHeard())} ms`, new Set());
        } else if (!hears) this.#goAlone(`partner heard on no path for ${this.#s.partnerDeadMs} ms (sync link${this.#s.paths.length ? ` and ${this.#s.paths.join(', ')}` : ''})`, new Set());
        break;
      case 'starting':
        if (!hears && !this.#session?.partnerNonce && now - this.#startedAt > this.#s.startupWaitMs) this.#goAlone(`no partner heard within ${this.#s.startupWaitMs} ms of start`, new Set());
        break;
      default:
        break;
    }
  }

  #maybeSettle(session: Session): void {
    if (session.settled || !session.haveTheirs || !session.theyHaveMine || session.future === undefined) return;
    session.settled = true;
    const next: Role = session.future === 'me' ? 'active' : 'standby';
    const how = next === 'active' ? 'this server merged the partner\'s table into its own and is the active' : 'the partner merged this server\'s table into its own and is the active; this server holds a copy';
    this.#setRole(next, `one table with ${session.partnerName}: ${how} (this server was ${session.myHelloRole}, the partner ${session.partnerHelloRole})`);
    // Tell the partner at once, so it settles on what we are now.
    this.#sendHeartbeats();
  }

  #goAlone(reason: string, unconfirmed: ReadonlySet<number>): void {
    // A connection still open counts for nothing from here on: no change of the partner's is
    // confirmed by a server that serves alone (the connection timeout, shorter than the dead
    // time, has normally closed it already).
    if (this.#session && !this.#session.closed) this.#closeSession('serving alone');
    const now = Date.now();
    this.#cut = cutStateOf(this.#d.store.table, now, unconfirmed, this.#told);
    const half: Half = this.#s.preferred ? 'lower' : 'upper';
    this.#guard = partnerDownGuard(dynamicRanges(this.#d.config()), half, this.#cut);
    this.#setRole('active-alone', reason);
  }

  #setRole(role: Role, reason: string): void {
    const from = this.#role;
    if (from === role) return;
    this.#role = role;
    this.#roleSince = Date.now();
    if (role !== 'active-alone') {
      this.#guard = undefined;
      this.#cut = undefined;
    }
    const fields: Record<string, unknown> = { role, from, reason, partner: this.#partnerName, leases: this.#d.store.table.size.leases };
    if (role === 'active-alone') fields.partnerDown = { half: this.#s.preferred ? 'lower' : 'upper', held: this.#cut?.held.size };
    this.#d.log.notice('pair-role', fields);
    this.#d.log.flush();
    if (role === 'active' || role === 'active-alone') void this.#takeService(reason);
    else void this.#releaseService(reason);
    this.#writeStatus();
  }

  // ---- the service address ----

  #takeService(reason: string): Promise<void> {
    const service = this.#d.service;
    if (!service) return Promise.resolve();
    this.#serviceBusy = this.#serviceBusy.then(async () => {
      if (this.#stopped || !this.answering()) return;
      const t0 = performance.now();
      try {
        await service.take();
        this.#holding = true;
        this.#d.interfacesChanged();
        this.#d.log.notice('service-address-taken', { address: service.describe(), ms: Math.round(performance.now() - t0), reason });
      } catch (err) {
        this.#d.log.log('error', 'service-address-failed', { address: service.describe(), error: (err as Error).message });
      }
    });
    return this.#serviceBusy;
  }

  #releaseService(reason: string): Promise<void> {
    const service = this.#d.service;
    if (!service) return Promise.resolve();
    this.#serviceBusy = this.#serviceBusy.then(async () => {
      const was = this.#holding;
      this.#holding = false;
      try {
        await service.release();
      } catch (err) {
        this.#d.log.log('error', 'service-address-failed', { address: service.describe(), error: (err as Error).message });
      }
      this.#d.interfacesChanged();
      if (was) this.#d.log.notice('service-address-released', { address: service.describe(), reason });
    });
    return this.#serviceBusy;
  }

  // ---- status ----

  status(): PairStatus {
    const now = performance.now();
    const s = this.#session;
    const last = this.#lastHeard();
    const oldest = this.#pending[0];
    return {
      name: this.#s.name,
      role: this.#wireRole(),
      since: new Date(this.#roleSince).toISOString(),
      mode: this.#s.mode,
      partner: {
        name: this.#partnerName,
        heard: this.#hears(),
        lastHeardMsAgo: Number.isFinite(last) ? Math.round(now - last) : undefined,
        role: this.#partnerRole,
        connected: s !== undefined && !s.closed && s.partnerNonce !== undefined,
        synced: s?.settled ?? false,
      },
      sync: {
        pending: this.#pending.reduce((n, p) => n + p.addresses.length, 0),
        oldestPendingMs: oldest ? Math.round(now - oldest.sentAt) : 0,
        lastAckMs: this.#lastAckMs === undefined ? undefined : Math.round(this.#lastAckMs * 10) / 10,
        sent: this.stats.sent,
        acked: this.stats.acked,
        received: this.stats.received,
        refused: { ...this.#refused },
      },
      service: { address: this.#d.service?.describe(), held: this.#holding },
      leases: this.#d.store.table.size.leases,
      partnerDown: this.#cut ? { since: new Date(this.#cut.at).toISOString(), half: this.#s.preferred ? 'lower' : 'upper', held: this.#cut.held.size } : undefined,
      lastResync: this.#lastResync,
    };
  }

  #writeStatus(): void {
    const file = this.#s.statusFile;
    if (!file) return;
    try {
      const tmp = `${file}.tmp-${process.pid}`;
      writeFileSync(tmp, `${JSON.stringify({ ...this.status(), writtenAt: new Date().toISOString(), pid: process.pid })}\n`, { mode: 0o644 });
      renameSync(tmp, file);
    } catch (err) {
      this.#d.log.log('warn', 'pair-status-write-failed', { file, error: (err as Error).message });
    }
  }
}

function entryOf(op: DurableOp, at: number, origin: string): LeaseEntry {
  switch (op.op) {
    case 'bind':
      return { kind: 'lease', op: 'bind', address: op.address, until: op.expires, at, client: op.client, label: op.label, hw: op.hw, origin };
    case 'release':
      return { kind: 'lease', op: 'release', address: op.address, until: 0, at, client: op.client, label: '', hw: '', origin };
    case 'decline':
      return { kind: 'lease', op: 'decline', address: op.address, until: op.until, at, client: op.client, label: '', hw: '', origin };
  }
}

function opOfEntry(e: LeaseEntry): DurableOp {
  switch (e.op) {
    case 'bind':
      return { op: 'bind', address: e.address, client: e.client, expires: e.until, label: e.label, hw: e.hw };
    case 'release':
      return { op: 'release', address: e.address, client: e.client };
    case 'decline':
      return { op: 'decline', address: e.address, client: e.client, until: e.until };
  }
}
