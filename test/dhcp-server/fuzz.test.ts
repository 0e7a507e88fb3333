// Garbage and mutated datagrams against a running `rackstrap serve` in a namespace: it counts
// every undecodable one (logging them rate-limited, not one line each), decides on every
// decodable one without an internal error, stays up, and answers a valid DORA afterwards.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { MESSAGE_TYPE, OP, OPTION, createMessage, decodeMessage, encodeMessage, textClientId, type DhcpMessage } from '../../src/dhcp-packet/index.js';
import { DecodeError } from '../../src/errors.js';
import { openInterfaceSocket } from '../../src/net/interface-socket.js';
import { makeLab } from '../helpers/netns.js';
import { Rng } from '../dhcp-packet/helpers/fuzz.js';
import { FIXTURE_NAMES, loadHex } from '../dhcp-packet/helpers/support.js';
import { PRL, exampleText, id } from './helpers/fixtures.js';
import { ServeProcess } from './helpers/serve.js';

const SEED = 0xf022;
const PACKETS = Number(process.env.RS_FUZZ_PACKETS ?? 20_000);

/** Requests the server answers, so mutants reach deep into respond(), not only the decoder. */
function seeds(): Buffer[] {
  const mk = (type: number, options: Array<[number, Buffer | string | number[]]>, extra: { ciaddr?: string } = {}): Buffer =>
    encodeMessage(createMessage({ op: OP.BOOTREQUEST, xid: 7, type: type as 1, chaddr: Buffer.from([2, 0, 0, 0, 0, 9]), giaddr: '10.1.1.9', options, ...extra }), { maxSize: 1500 });
  return [
    ...FIXTURE_NAMES.map(loadHex),
    mk(MESSAGE_TYPE.DISCOVER, [[OPTION.CLIENT_ID, textClientId(id('mgmt0:Filer1'))], [OPTION.PARAMETER_REQUEST_LIST, PRL]]),
    mk(MESSAGE_TYPE.DISCOVER, [[OPTION.CLIENT_ID, textClientId(id('00:07:34:10:00:01'))], [OPTION.VENDOR_CLASS, 'rackstrap'], [OPTION.PARAMETER_REQUEST_LIST, PRL]]),
    mk(MESSAGE_TYPE.REQUEST, [[OPTION.CLIENT_ID, textClientId(id('mgmt0:Filer2'), { typeByte: true })], [OPTION.REQUESTED_ADDRESS, '10.1.1.4'], [OPTION.SERVER_ID, '10.1.1.1']]),
    mk(MESSAGE_TYPE.REQUEST, [[OPTION.REQUESTED_ADDRESS, '10.1.1.101']]),
    mk(MESSAGE_TYPE.DECLINE, [[OPTION.CLIENT_ID, textClientId(id('mgmt1:Filer2'))], [OPTION.REQUESTED_ADDRESS, '10.1.1.5']]),
    mk(MESSAGE_TYPE.RELEASE, [[OPTION.SERVER_ID, '10.1.1.1']], { ciaddr: '10.1.1.100' }),
    mk(MESSAGE_TYPE.INFORM, [[OPTION.CLIENT_ID, textClientId(id('mgmt0:Filer1'))]], { ciaddr: '10.1.1.2' }),
  ];
}

function mutate(rng: Rng, seed: Buffer): Buffer {
  const p = Buffer.from(seed);
  switch (rng.int(6)) {
    case 0: // flip a few bytes anywhere
      for (let i = rng.int(4) + 1; i > 0; i--) p[rng.int(p.length)] = rng.next() & 0xff;
      return p;
    case 1: // flip bytes in the options area only (lengths, codes, values)
      for (let i = rng.int(6) + 1; i > 0; i--) p[240 + rng.int(Math.max(1, p.length - 240))] = rng.next() & 0xff;
      return p;
    case 2: // truncate
      return p.subarray(0, rng.int(p.length));
    case 3: // random bytes, any length up to 1500
      return rng.bytes(rng.int(1500));
    case 4: // append junk after the end option
      return Buffer.concat([p, rng.bytes(rng.int(300))]);
    default: // a random header field: op, htype, hlen, flags, giaddr...
      p[[0, 1, 2, 10, 24, 25, 26, 27][rng.int(8)]!] = rng.next() & 0xff;
      return p;
  }
}

t.test(`${PACKETS} mutated datagrams: the server stays up and still answers`, async (t) => {
  const lab = await makeLab(t, { prefix: 'rssrv' });
  const dir = t.testdir();
  const config = join(dir, 'cluster.yaml');
  writeFileSync(config, exampleText({ pools: { 0: { start: '10.1.1.100', end: '10.1.1.110' } } }));
  const srv = await lab.ns('fsrv');
  const cli = await lab.ns('fcli');
  await lab.veth(srv, 'srv0', cli, 'c0');
  await lab.ip(srv, 'addr', 'add', '10.1.1.1/24', 'dev', 'srv0');
  await lab.ip(cli, 'addr', 'add', '10.1.1.9/24', 'dev', 'c0');
  const server = await ServeProcess.ready(lab, srv, { config, interfaces: ['srv0'], leaseFile: join(dir, 'leases.log'), logLevel: 'warn' });

  const sock = await openInterfaceSocket({ ifname: 'c0', port: 67, netns: lab.netnsPath(cli) });
  t.teardown(() => sock.close());
  const replies: DhcpMessage[] = [];
  sock.on('message', (buf) => {
    try {
      replies.push(decodeMessage(buf));
    } catch {
      // not ours to judge
    }
  });

  const rng = new Rng(SEED);
  const corpus = seeds();
  let undecodable = 0;
  const t0 = performance.now();
  for (let i = 0; i < PACKETS; i++) {
    const p = mutate(rng, corpus[rng.int(corpus.length)]!);
    try {
      decodeMessage(p);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      undecodable++;
    }
    // Unicast to the server (from the relay's port), a few hundred at a time so the run is paced.
    await sock.send(p, 67, '10.1.1.1');
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 5));
  }
  const sendMs = performance.now() - t0;
  t.comment(`${PACKETS} datagrams in ${sendMs.toFixed(0)} ms, ${undecodable} undecodable`);
  t.ok(undecodable > PACKETS / 10 && undecodable < PACKETS, 'both sides reached: some decode, some do not');

  // A valid exchange afterwards, through the same relay path. Replies the storm sent to relays
  // and clients that do not exist wait in the kernel for ARP (up to ~3 s) and hold the socket's
  // send buffer meanwhile, so the answer may take that long.
  const xid = 0x5a5a5a5a;
  const discover = createMessage({ op: OP.BOOTREQUEST, xid, type: MESSAGE_TYPE.DISCOVER, giaddr: '10.1.1.9', chaddr: Buffer.from([2, 0, 0, 0, 0, 0x77]), options: [[OPTION.CLIENT_ID, textClientId(id('mgmt1:Filer1'))]] });
  let offer: DhcpMessage | undefined;
  let attempts = 0;
  const asked = performance.now();
  for (; attempts < 40 && !offer; attempts++) {
    await sock.send(encodeMessage(discover), 67, '10.1.1.1');
    await new Promise((r) => setTimeout(r, 200));
    offer = replies.find((m) => m.xid === xid);
  }
  t.equal(offer?.yiaddr, '10.1.1.3', `a valid DISCOVER after the storm is answered (in ${(performance.now() - asked).toFixed(0)} ms)`);
  t.equal(server.exitStatus, undefined, 'the server is still running');

  server.signal('SIGTERM');
  t.same(await server.exited, { code: 0, signal: null });
  const stopped = server.lines.find((l) => l.event === 'stopped')!;
  t.equal(stopped.malformed, undecodable, 'every undecodable datagram was counted');
  t.equal(stopped.received, PACKETS + attempts, 'every datagram reached the server (none lost to a full socket)');
  const malformedLines = server.lines.filter((l) => l.event === 'malformed');
  t.ok(malformedLines.length >= 1 && malformedLines.length <= Math.ceil(sendMs / 1000) + 3, `${malformedLines.length} rate-limited malformed lines, not one per packet`);
  t.equal(malformedLines.reduce((n, l) => n + Number(l.count), 0), undecodable, 'the malformed lines add up to the count');
  t.match(malformedLines[0], { level: 'warn', reasons: Object, last: { interface: 'srv0' } });
  t.same(server.lines.filter((l) => l.event === 'internal-error'), [], 'no internal error on any decodable mutant');
});
