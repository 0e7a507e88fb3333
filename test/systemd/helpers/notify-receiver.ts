// A stand-in for systemd's notification socket: a real unix datagram socket (python's, since Node
// has none) whose messages the test can wait for.
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RECEIVER = `
import socket, sys, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    print(json.dumps(s.recv(4096).decode()), flush=True)
`;

export interface NotifyReceiver {
  socket: string;
  got: string[];
  /** The first message (so far or to come) that `pred` accepts, or undefined after `ms`. */
  waitFor(pred: (m: string) => boolean, ms: number): Promise<string | undefined>;
}

export async function notifyReceiver(t: { teardown(fn: () => unknown): void }, prefix: string): Promise<NotifyReceiver> {
  // sun_path holds 108 bytes: a test folder's path is too long for it.
  const short = mkdtempSync(join(tmpdir(), `${prefix}-`));
  t.teardown(() => rmSync(short, { recursive: true, force: true }));
  const socket = join(short, 'notify');
  const receiver = execa('python3', ['-c', RECEIVER, socket], { buffer: false });
  t.teardown(() => {
    receiver.kill('SIGKILL');
    return receiver.catch(() => undefined);
  });
  const got: string[] = [];
  const waiters: Array<() => void> = [];
  receiver.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) got.push(line === 'listening' ? line : (JSON.parse(line) as string));
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = (pred: (m: string) => boolean, ms: number) =>
    new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), ms);
      const check = () => {
        const m = got.find(pred);
        if (m !== undefined) {
          clearTimeout(timer);
          resolve(m);
        } else waiters.push(check);
      };
      check();
    });
  if ((await waitFor((m) => m === 'listening', 10_000)) === undefined) throw new Error('the stand-in for systemd did not start');
  return { socket, got, waitFor };
}
