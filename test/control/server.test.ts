// The control socket on its own: root is served; anyone else is refused by the file's mode and,
// should the mode be loosened, by the peer's credentials; a request of another protocol version,
// an unknown command and garbage each get a plain error; a reply that breaks its schema is caught.
import { execa } from 'execa';
import { chmodSync, mkdtempSync, rmSync, statSync, chmodSync as chmod } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { controlRequest } from '../../src/control/client.js';
import type { CommandName } from '../../src/control/protocol.js';
import { startControlServer } from '../../src/control/server.js';

const CLIENT = join(process.cwd(), 'dist', 'src', 'control', 'client.js');

function tempDir(t: Tap): string {
  const dir = mkdtempSync(join(tmpdir(), 'qoc-'));
  // Others may enter it (the socket's own mode is what keeps them out).
  chmod(dir, 0o755);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
type Tap = { teardown(fn: () => unknown): void };

const handle = async (command: CommandName): Promise<unknown> => {
  if (command === 'cache') return { dir: '/var/lib/rackstrap', generation: 7, writtenAt: '2026-12-04T10:00:00.000Z' };
  if (command === 'reapply') return { steps: 'not a number' };
  throw Object.assign(new Error('no'), {});
};

/** One raw line to the socket, one raw line back. */
function raw(path: string, line: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const c = connect(path);
    let buf = '';
    c.on('connect', () => c.write(`${line}\n`));
    c.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\n')) {
        c.destroy();
        resolve(JSON.parse(buf.slice(0, buf.indexOf('\n'))));
      }
    });
    c.on('error', reject);
  });
}

/** Runs the client as user nobody (uid 65534). */
async function asNobody(socket: string): Promise<{ code: number | undefined; out: string }> {
  const script = `import(${JSON.stringify(CLIENT)}).then((m) => m.controlRequest(${JSON.stringify(socket)}, 'cache')).then((r) => console.log('ANSWER', JSON.stringify(r)), (e) => console.log('REFUSED', e.code, e.message))`;
  const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script], { reject: false });
  return { code: r.exitCode, out: r.stdout + r.stderr };
}

t.test('root is answered; the socket file is 0600', async (t) => {
  const dir = tempDir(t);
  const server = await startControlServer({ path: join(dir, 'a.sock'), handle });
  t.teardown(() => server.close());
  t.equal(statSync(server.path).mode & 0o777, 0o600);
  t.same(await controlRequest(server.path, 'cache'), { dir: '/var/lib/rackstrap', generation: 7, writtenAt: '2026-12-04T10:00:00.000Z' });
});

t.test('a non-root peer is refused, by the mode and by its credentials', async (t) => {
  const dir = tempDir(t);
  const server = await startControlServer({ path: join(dir, 'a.sock'), handle });
  const byMode = await asNobody(server.path);
  t.match(byMode.out, /REFUSED RS_DENIED permission denied on .*: the agent's control socket is for root/, 'the file mode keeps nobody out');
  t.notMatch(byMode.out, /ANSWER/);
  chmodSync(server.path, 0o666);
  const byCred = await asNobody(server.path);
  t.match(byCred.out, /REFUSED RS_DENIED permission denied: the agent's control socket answers root only \(you are uid 65534\)/, 'with the mode loosened, SO_PEERCRED still refuses');
  t.notMatch(byCred.out, /ANSWER/);
  await server.close();
});

t.test('versions, unknown commands, garbage and schema-breaking replies get plain errors', async (t) => {
  const dir = tempDir(t);
  const errors: string[] = [];
  const server = await startControlServer({ path: join(dir, 'a.sock'), handle, onError: (m) => errors.push(m) });
  t.teardown(() => server.close());
  t.match(await raw(server.path, '{"v":2,"id":5,"command":"info"}'), { v: 1, id: 5, ok: false, error: { code: 'RS_VERSION', message: /speaks control protocol version 1; the request has 2/ } });
  t.match(await raw(server.path, '{"v":1,"id":6,"command":"format-disk"}'), { id: 6, ok: false, error: { code: 'RS_REQUEST' } });
  t.match(await raw(server.path, 'not json'), { id: null, ok: false, error: { code: 'RS_REQUEST', message: 'not a JSON request' } });
  await t.rejects(controlRequest(server.path, 'reapply'), { code: 'RS_BUG', message: /does not match the protocol/ });
  t.match(errors.join('\n'), /reply to reapply does not match its schema/);
  await t.rejects(controlRequest(server.path, 'links'), { message: 'no' });
});

t.test('a second server on a live socket refuses; nothing listening is a plain "no agent"', async (t) => {
  const dir = tempDir(t);
  const server = await startControlServer({ path: join(dir, 'a.sock'), handle });
  await t.rejects(startControlServer({ path: server.path, handle }), { code: 'RS_CONTROL', message: /another agent already answers/ });
  await server.close();
  await t.rejects(controlRequest(server.path, 'info'), { code: 'RS_NO_AGENT', message: /no agent is running/ });
  await t.rejects(startControlServer({ path: `${dir}/${'x'.repeat(120)}.sock`, handle }), { message: /at most 107 bytes/ });
});

t.test('an answer that takes longer than the idle timeout still arrives; an idle connection is closed', async (t) => {
  const dir = tempDir(t);
  const slow = async (command: CommandName): Promise<unknown> => {
    await new Promise((r) => setTimeout(r, 600));
    return handle(command);
  };
  const server = await startControlServer({ path: join(dir, 's.sock'), handle: slow, idleTimeoutMs: 200 });
  t.teardown(() => server.close());
  t.same(await controlRequest(server.path, 'cache'), { dir: '/var/lib/rackstrap', generation: 7, writtenAt: '2026-12-04T10:00:00.000Z' }, 'answered after 600 ms with a 200 ms idle timeout');
  const closed = await new Promise<boolean>((resolve) => {
    const c = connect(server.path);
    const timer = setTimeout(() => resolve(false), 3000);
    c.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    c.on('error', () => undefined);
  });
  t.ok(closed, 'a connection that asks nothing is closed');
});
