// kill -9 under load: a load client (a relay agent in its own namespace, many concurrent DORAs
// and RELEASEs over a small pool) runs while `rackstrap serve` is killed with SIGKILL at random
// moments and restarted, several times. Every ACK seen on the wire is collected across restarts;
// no address may be ACKed to a client while another client holds it (ACKed, not released), and
// every lease the clients hold at the end is in the server's lease log.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { MESSAGE_TYPE, OP, OPTION, createMessage, decodeMessage, encodeMessage, type DhcpMessage } from '../../src/dhcp-packet/index.js';
import { readLeaseLog } from '../../src/dhcp-server/lease-log.js';
import { openInterfaceSocket, type InterfaceSocket } from '../../src/net/interface-socket.js';
import { makeLab } from '../helpers/netns.js';
import { Rng } from '../dhcp-packet/helpers/fuzz.js';
import { exampleText } from './helpers/fixtures.js';
import { ServeProcess } from './helpers/serve.js';

const SEED = 0x6b1119;
const CLIENTS = 96;
const POOL = { start: '10.3.10.1', end: '10.3.10.64' }; // 64 addresses for 96 clients: reuse is forced
const CONCURRENCY = 16;
const KILLS = 5;
const STEP_TIMEOUT_MS = 400;

interface Event {
  at: number;
  kind: 'ack' | 'release';
  address: string;
  client: number;
}

/** The load: a relay agent (giaddr = its own address, port 67), as perfdhcp is in IPv4. */
class LoadClient {
  readonly events: Event[] = [];
  readonly waiting = new Map<number, (m: DhcpMessage) => void>();
  readonly stats = { dora: 0, acks: 0, naks: 0, timeouts: 0, releases: 0 };
  #xid = 1;
  #stop = false;
  constructor(readonly sock: InterfaceSocket, readonly giaddr: string, readonly server: string, readonly rng: Rng) {
    sock.on('message', (buf) => {
      let m: DhcpMessage;
      try {
        m = decodeMessage(buf);
      } catch {
        return;
      }
      this.waiting.get(m.xid)?.(m);
    });
  }

  #ask(msg: DhcpMessage, want: number[]): Promise<DhcpMessage | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(msg.xid);
        this.stats.timeouts++;
        resolve(undefined);
      }, STEP_TIMEOUT_MS);
      this.waiting.set(msg.xid, (m) => {
        if (!want.includes(m.options.get(OPTION.MESSAGE_TYPE) ?? 0)) return;
        clearTimeout(timer);
        this.waiting.delete(msg.xid);
        resolve(m);
      });
      this.sock.send(encodeMessage(msg), 67, this.server).catch(() => undefined);
    });
  }

  #msg(client: number, type: (typeof MESSAGE_TYPE)[keyof typeof MESSAGE_TYPE], extra: { ciaddr?: string; options?: Array<[number, string]> } = {}): DhcpMessage {
    return createMessage({
      op: OP.BOOTREQUEST, xid: this.#xid++, type, giaddr: this.giaddr, ciaddr: extra.ciaddr ?? '0.0.0.0',
      chaddr: Buffer.from([2, 0x10, 0, 0, client >> 8, client & 255]), options: extra.options ?? [],
    });
  }

  async #one(client: number): Promise<void> {
    this.stats.dora++;
    const offer = await this.#ask(this.#msg(client, MESSAGE_TYPE.DISCOVER), [MESSAGE_TYPE.OFFER]);
    if (!offer) return;
    const request = this.#msg(client, MESSAGE_TYPE.REQUEST, {
      options: [[OPTION.SERVER_ID, offer.options.get(OPTION.SERVER_ID)!], [OPTION.REQUESTED_ADDRESS, offer.yiaddr]],
    });
    const reply = await this.#ask(request, [MESSAGE_TYPE.ACK, MESSAGE_TYPE.NAK]);
    if (!reply) return;
    if (reply.options.get(OPTION.MESSAGE_TYPE) === MESSAGE_TYPE.NAK) {
      this.stats.naks++;
      return;
    }
    this.stats.acks++;
    this.events.push({ at: performance.now(), kind: 'ack', address: reply.yiaddr, client });
    // Half the time the client gives the address back at once; else it keeps it (and asks again later).
    if (this.rng.int(2) === 0) {
      const release = this.#msg(client, MESSAGE_TYPE.RELEASE, { ciaddr: reply.yiaddr, options: [[OPTION.SERVER_ID, reply.options.get(OPTION.SERVER_ID)!]] });
      // Recorded before it is sent: from now on the client no longer uses the address.
      this.events.push({ at: performance.now(), kind: 'release', address: reply.yiaddr, client });
      this.stats.releases++;
      await this.sock.send(encodeMessage(release), 67, this.server).catch(() => undefined);
    }
  }

  run(): Promise<void[]> {
    const busy = new Set<number>();
    const worker = async (): Promise<void> => {
      while (!this.#stop) {
        let c = this.rng.int(CLIENTS);
        while (busy.has(c)) c = (c + 1) % CLIENTS;
        busy.add(c);
        await this.#one(c);
        busy.delete(c);
      }
    };
    return Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }

  stop(): void {
    this.#stop = true;
  }
}

/** Replays the wire view: who holds each address. Returns violations and the final holders. */
function check(events: Event[]): { violations: string[]; holders: Map<string, number> } {
  const holder = new Map<string, number>();
  const addressOf = new Map<number, string>();
  const violations: string[] = [];
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    if (e.kind === 'release') {
      if (holder.get(e.address) === e.client) holder.delete(e.address);
      addressOf.delete(e.client);
      continue;
    }
    const other = holder.get(e.address);
    if (other !== undefined && other !== e.client) violations.push(`${e.address} ACKed to client ${e.client} while client ${other} held it`);
    const previous = addressOf.get(e.client);
    if (previous !== undefined && previous !== e.address && holder.get(previous) === e.client) holder.delete(previous);
    holder.set(e.address, e.client);
    addressOf.set(e.client, e.address);
  }
  return { violations, holders: holder };
}

t.test('kill -9 at random moments under load: no address is ever ACKed to two clients', async (t) => {
  const lab = await makeLab(t, { prefix: 'rssrv' });
  const dir = t.testdir();
  const config = join(dir, 'cluster.yaml');
  writeFileSync(config, exampleText({ pools: { 2: POOL } }));
  const srv = await lab.ns('ksrv');
  const cli = await lab.ns('kcli');
  await lab.veth(srv, 'srv0', cli, 'c0');
  await lab.ip(srv, 'addr', 'add', '10.3.0.1/16', 'dev', 'srv0');
  await lab.ip(cli, 'addr', 'add', '10.3.0.2/16', 'dev', 'c0');
  const leaseFile = join(dir, 'leases.log');
  const serveArgs = { config, interfaces: ['srv0'], leaseFile, logLevel: 'warn' };

  const sock = await openInterfaceSocket({ ifname: 'c0', port: 67, netns: lab.netnsPath(cli), recvBufferSize: 4 << 20 });
  t.teardown(() => sock.close());
  const rng = new Rng(SEED);
  const load = new LoadClient(sock, '10.3.0.2', '10.3.0.1', rng);

  let server = await ServeProcess.ready(lab, srv, serveArgs);
  const running = load.run();
  const acksAtKill: number[] = [];
  for (let k = 0; k < KILLS; k++) {
    await new Promise((r) => setTimeout(r, 300 + rng.int(900)));
    acksAtKill.push(load.stats.acks);
    server.signal('SIGKILL');
    const exit = await server.exited;
    t.equal(exit.signal, 'SIGKILL', `kill ${k + 1}: killed mid-load after ${load.stats.acks} ACKs`);
    server = await ServeProcess.ready(lab, srv, serveArgs);
  }
  await new Promise((r) => setTimeout(r, 800));
  load.stop();
  await running;
  server.signal('SIGTERM');
  t.same(await server.exited, { code: 0, signal: null }, 'last server stops cleanly');

  t.comment(`load: ${JSON.stringify(load.stats)}; ACKs before each kill: ${acksAtKill.join(', ')}`);
  t.ok(load.stats.acks > 500, `enough traffic to mean something (${load.stats.acks} ACKs)`);
  t.ok(acksAtKill.every((n, i) => i === 0 || n > acksAtKill[i - 1]!), 'every restarted server answered before it was killed again');
  t.ok(load.stats.naks > 0 || load.stats.acks > 0, 'the pool was contended');

  const { violations, holders } = check(load.events);
  t.same(violations.slice(0, 10), [], `no address ACKed to two clients (${violations.length} violations)`);
  t.ok(holders.size > 0, `${holders.size} addresses held at the end`);

  // Every address a client still holds is in the lease log the last server left.
  const replay = await readLeaseLog(leaseFile);
  t.same(replay.skipped, [], 'the log the last server left has no bad line');
  const onDisk = new Map<string, string>();
  for (const r of replay.records) if (r.op === 'bind') onDisk.set(r.address, r.client);
  const missing = [...holders].filter(([address, client]) => onDisk.get(address) !== `hw:1:02:10:00:00:${(client >> 8).toString(16).padStart(2, '0')}:${(client & 255).toString(16).padStart(2, '0')}`);
  t.same(missing, [], 'every held lease is on disk, with its holder');
});
