import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { RackstrapError } from '../../src/errors.js';
import { loadAddonFrom, loadNative } from '../../src/net/native.js';

t.test('the built addon loads and has its functions', async (t) => {
  const native = loadNative();
  t.equal(typeof native.openUdpSocket, 'function');
  t.equal(typeof native.setArpEntry, 'function');
  t.equal(typeof native.interfaceInfo, 'function');
  t.equal(loadNative(), native, 'loaded once');
  t.equal(native.interfaceInfo('lo').index, 1, 'lo is interface 1');
});

t.test('an unbuilt addon is a RackstrapError that says how to build it', async (t) => {
  const root = t.testdir({ 'binding.gyp': '{}' });
  const err = (() => {
    try {
      loadAddonFrom(root);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  t.type(err, RackstrapError);
  t.equal((err as RackstrapError).code, 'RS_NATIVE');
  t.match((err as Error).message, /native socket addon is not built: .*build\/Release\/rackstrap_net\.node is missing\. Run `npm rebuild`/);
});

t.test('a broken addon file is a RackstrapError with the loader cause', async (t) => {
  const root = t.testdir({ 'binding.gyp': '{}' });
  mkdirSync(path.join(root, 'build', 'Release'), { recursive: true });
  writeFileSync(path.join(root, 'build', 'Release', 'rackstrap_net.node'), 'not an ELF file');
  t.throws(() => loadAddonFrom(root), { code: 'RS_NATIVE', message: /cannot load the native socket addon .*rebuild it/ });
});

t.test('peerCredentials reads who is at the other end of a unix socket', async (t) => {
  const { createServer, connect } = await import('node:net');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(path.join(tmpdir(), 'qo-peer-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 's.sock');
  const native = loadNative();
  const seen = new Promise<{ pid: number; uid: number; gid: number }>((resolve) => {
    const server = createServer((conn) => {
      const fd = (conn as unknown as { _handle: { fd: number } })._handle.fd;
      resolve(native.peerCredentials(fd));
      conn.end();
      server.close();
    });
    server.listen(file, () => connect(file).on('data', () => undefined));
  });
  const cred = await seen;
  t.equal(cred.pid, process.pid, 'our own pid (client and server in one process)');
  t.equal(cred.uid, process.getuid?.());
  t.equal(cred.gid, process.getgid?.());
  t.throws(() => native.peerCredentials(0x7ffffff0), { code: 'EBADF', message: /getsockopt\(SO_PEERCRED\) failed/ });
});
