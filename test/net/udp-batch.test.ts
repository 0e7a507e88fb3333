// UDP sockets read with recvmmsg() and written with sendmmsg() through the project's addon, in
// real network namespaces joined by a veth pair:
//
//   a  eth0 10.9.0.2/24 ───────────── eth0 10.9.0.1/24  b

import t from 'tap';
import { SocketError } from '../../src/errors.js';
import { openInterfaceSocket, type InterfaceSocket } from '../../src/net/interface-socket.js';
import { ipv4Number, ipv4Text, openBatchSocket, type BatchSocket, type BatchSocketOptions } from '../../src/net/udp-batch.js';
import { makeLab, type TeardownHost } from '../helpers/netns.js';

const B_PORT = 67;
const A_PORT = 68;
const A_IP = '10.9.0.2';
const B_IP = '10.9.0.1';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function makePair(t: TeardownHost): Promise<{ a: string; b: string }> {
  const lab = await makeLab(t, { prefix: 'rpbatch' });
  const a = await lab.ns('a');
  const b = await lab.ns('b');
  await lab.veth(a, 'eth0', b, 'eth0');
  await lab.ip(a, 'addr', 'add', `${A_IP}/24`, 'dev', 'eth0');
  await lab.ip(b, 'addr', 'add', `${B_IP}/24`, 'dev', 'eth0');
  return { a, b };
}

function batchSocket(t: TeardownHost, netns: string, port: number, extra: Partial<BatchSocketOptions> = {}): BatchSocket {
  const s = openBatchSocket({ ifname: 'eth0', port, netns, reuseAddress: false, ...extra });
  t.teardown(() => s.close());
  return s;
}

async function dgramSocket(t: TeardownHost, netns: string, port: number): Promise<InterfaceSocket> {
  const s = await openInterfaceSocket({ ifname: 'eth0', port, netns });
  t.teardown(() => s.close());
  return s;
}

/** Waits until `cond` holds, or fails after `ms`. */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

t.test('addresses as numbers and back', async (t) => {
  t.equal(ipv4Number('10.9.0.1'), 0x0a090001);
  t.equal(ipv4Number('255.255.255.255'), 0xffffffff);
  t.equal(ipv4Number('0.0.0.0'), 0);
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', 'a.b.c.d', '1.2.3.4 ', '-1.2.3.4']) t.equal(ipv4Number(bad), undefined, `"${bad}" is not an address`);
  t.equal(ipv4Text(0xc0a80a01), '192.168.10.1');
});

t.test('a burst is read in batches, in order, each datagram with its sender', async (t) => {
  const { a, b } = await makePair(t);
  const server = batchSocket(t, b, B_PORT, { slots: 16, recvBufferSize: 1 << 20 });
  const got: Array<{ text: string; from: string; port: number }> = [];
  const sizes: number[] = [];
  server.receive(
    (batch) => {
      sizes.push(batch.count);
      // The views are the socket's own buffer: copied here, as a user must.
      for (let i = 0; i < batch.count; i++) got.push({ text: batch.data(i).toString(), from: ipv4Text(batch.address(i)), port: batch.port(i) });
    },
    (err) => t.fail(`receive error ${err.message}`),
  );
  const client = batchSocket(t, a, A_PORT, { maxPerSend: 512 });
  const N = 300;
  // All queued in one turn, so they arrive together and queue up before b's socket is read.
  for (let i = 0; i < N; i++) client.send(Buffer.from(`datagram ${i}`), B_PORT, B_IP);
  await until(() => got.length >= N, 5000, `${N} datagrams`);
  t.equal(client.stats.sendCalls, 1, 'the 300 datagrams left in one sendmmsg call');
  t.equal(client.stats.sent, N);
  t.same(got.map((g) => g.text), Array.from({ length: N }, (_, i) => `datagram ${i}`), 'every datagram, in the order sent, intact');
  t.ok(got.every((g) => g.from === A_IP && g.port === A_PORT), "each with a's address and port");
  t.ok(Math.max(...sizes) > 1, `read several per call (largest batch ${Math.max(...sizes)})`);
  t.ok(Math.max(...sizes) <= 16, 'no batch larger than the slots');
  t.equal(server.stats.received, N);
});

t.test('replies sent in one turn reach an ordinary socket; one that fails does not stop the rest', async (t) => {
  const { a, b } = await makePair(t);
  const server = batchSocket(t, b, B_PORT);
  server.receive(() => undefined, () => undefined);
  const client = await dgramSocket(t, a, A_PORT);
  const got: string[] = [];
  let fromPort = 0;
  client.on('message', (buf, rinfo) => {
    got.push(buf.toString());
    fromPort = rinfo.port;
  });
  const results: Array<SocketError | undefined> = [];
  const done = (i: number) => (err?: SocketError): void => {
    results[i] = err ?? undefined;
  };
  server.send(Buffer.from('one'), A_PORT, A_IP, done(0));
  // The kernel refuses UDP to port 0 (EINVAL): this one fails alone, in the middle of the batch.
  server.send(Buffer.from('lost'), 0, A_IP, done(1));
  server.send(Buffer.from('two'), A_PORT, A_IP, done(2));
  server.send(Buffer.from('bad'), A_PORT, 'not-an-address', done(3));
  await until(() => got.length >= 2 && results.length === 4 && results[0] !== null, 3000, 'two datagrams and four results');
  await sleep(100);
  t.same(got, ['one', 'two'], 'the two that could be sent arrived, in order');
  t.equal(fromPort, B_PORT, 'from the server port');
  t.equal(results[0], undefined, 'first sent');
  t.equal(results[2], undefined, 'third sent');
  t.ok(results[1] instanceof SocketError, 'the one to port 0 failed');
  t.equal(results[1]?.errno, 'EINVAL', "with the kernel's reason");
  t.match(results[1]?.message, /10\.9\.0\.2:0 /);
  t.equal(results[3]?.errno, 'EINVAL', 'a text that is no address fails without a system call');
  t.equal(server.stats.sendFailures, 1);
});

t.test('more than maxPerSend queued leave over several turns of the loop, in order', async (t) => {
  const { a, b } = await makePair(t);
  const server = batchSocket(t, b, B_PORT, { recvBufferSize: 1 << 20 });
  const got: string[] = [];
  server.receive((batch) => {
    for (let i = 0; i < batch.count; i++) got.push(batch.data(i).toString());
  }, () => undefined);
  const client = batchSocket(t, a, A_PORT, { maxPerSend: 64 });
  let sentCallbacks = 0;
  for (let i = 0; i < 300; i++) client.send(Buffer.from(`d${i}`), B_PORT, B_IP, (err) => {
    if (!err) sentCallbacks++;
  });
  await until(() => got.length >= 300, 5000, '300 datagrams');
  t.equal(client.stats.sendCalls, 5, '300 datagrams in 5 sendmmsg calls of at most 64');
  t.equal(sentCallbacks, 300, 'each reported sent');
  t.same(got, Array.from({ length: 300 }, (_, i) => `d${i}`), 'in the order queued');
});

t.test('a datagram longer than its slot is flagged and cut to the slot', async (t) => {
  const { a, b } = await makePair(t);
  const server = batchSocket(t, b, B_PORT, { slotSize: 64 });
  const got: Array<{ len: number; truncated: boolean }> = [];
  server.receive((batch) => {
    for (let i = 0; i < batch.count; i++) got.push({ len: batch.data(i).length, truncated: batch.truncated(i) });
  }, () => undefined);
  const client = batchSocket(t, a, A_PORT);
  client.send(Buffer.alloc(100, 1), B_PORT, B_IP);
  client.send(Buffer.alloc(64, 2), B_PORT, B_IP);
  await until(() => got.length === 2, 3000, 'two datagrams');
  t.same(got, [{ len: 64, truncated: true }, { len: 64, truncated: false }]);
});

t.test("the receive backlog is the kernel's count of queued bytes", async (t) => {
  const { a, b } = await makePair(t);
  const server = batchSocket(t, b, B_PORT);
  let received = 0;
  server.receive((batch) => {
    received += batch.count;
  }, () => undefined);
  t.equal(server.backlog(), 0, 'nothing queued at first');
  const client = batchSocket(t, a, A_PORT);
  for (let i = 0; i < 50; i++) client.send(Buffer.alloc(300), B_PORT, B_IP);
  // Sent now, synchronously: the server's loop has had no turn to read them yet.
  client.flush();
  let queued = 0;
  const end = Date.now() + 200;
  while (queued === 0 && Date.now() < end) queued = server.backlog();
  t.ok(queued >= 50 * 300, `the 50 datagrams are queued (${queued} bytes, kernel accounting)`);
  await until(() => received === 50, 3000, 'the 50 datagrams read');
  t.equal(server.backlog(), 0, 'empty once read');
});

t.test('after close nothing is received and a send reports the closed socket', async (t) => {
  const { a, b } = await makePair(t);
  const server = batchSocket(t, b, B_PORT);
  let received = 0;
  server.receive((batch) => {
    received += batch.count;
  }, () => undefined);
  const client = batchSocket(t, a, A_PORT);
  client.send(Buffer.from('before'), B_PORT, B_IP);
  await until(() => received === 1, 3000, 'the first datagram');
  await server.close();
  const err = await new Promise<SocketError | undefined>((resolve) => server.send(Buffer.from('x'), A_PORT, A_IP, resolve));
  t.equal(err?.errno, 'EBADF', 'send after close fails');
  client.send(Buffer.from('after'), B_PORT, B_IP);
  await sleep(200);
  t.equal(received, 1, 'nothing read after close');
  // The port is free again: the fd was closed.
  const again = batchSocket(t, b, B_PORT);
  t.ok(again, 'the port can be bound again');
});
