// The quick way to the agent's cache folder and control socket (status, show) gives what the full
// settings loader gives, for every way of setting them, and leaves the cases it cannot decide to it.
import t from 'tap';
import { join } from 'node:path';
import { CONFIG_ENV, ENV_NAMES, loadAgentLocations, type ConfigSources } from '../../src/bootstrap/agent-config.js';
import { findAgentLocations, LOCATION_ENV } from '../../src/bootstrap/agent-locations.js';

t.test('the same variable names as the settings loader', async (t) => {
  t.same(LOCATION_ENV, { config: CONFIG_ENV, cacheDir: ENV_NAMES.cacheDir, controlSocket: ENV_NAMES.controlSocket });
});

t.test('the same locations as the full loader, however they are set', async (t) => {
  const dir = t.testdir({
    'plain.yaml': 'clusterId: 00:07:34:04:12:0e\nlogLevel: debug\n',
    'empty.yaml': '',
    'sets-cache.yaml': 'clusterId: 00:07:34:04:12:0e\ncacheDir: ./state\n',
    'sets-socket.yaml': 'controlSocket: /run/x.sock\n',
    'quoted.yaml': '"cacheDir": /srv/rs\n',
  });
  const cases: Array<[string, ConfigSources]> = [
    ['nothing set (no default file here)', { env: {}, file: join(dir, 'plain.yaml') }],
    ['an empty file', { env: {}, file: join(dir, 'empty.yaml') }],
    ['the environment', { env: { RACKSTRAP_CACHE_DIR: '/srv/a' }, file: join(dir, 'plain.yaml') }],
    ['the environment, both', { env: { RACKSTRAP_CACHE_DIR: 'rel/a', RACKSTRAP_CONTROL_SOCKET: 's.sock' }, cwd: '/tmp', file: join(dir, 'plain.yaml') }],
    ['a flag over the environment', { env: { RACKSTRAP_CACHE_DIR: '/srv/a' }, flags: { cacheDir: '/srv/b' }, file: join(dir, 'plain.yaml') }],
    ['a relative flag', { env: {}, flags: { cacheDir: 'here', controlSocket: 'c.sock' }, cwd: '/var/tmp', file: join(dir, 'plain.yaml') }],
    ['the file names the cache folder', { env: {}, file: join(dir, 'sets-cache.yaml') }],
    ['the file names the socket', { env: {}, file: join(dir, 'sets-socket.yaml') }],
    ['a quoted key', { env: {}, file: join(dir, 'quoted.yaml') }],
    ['a flag over the file', { env: {}, flags: { cacheDir: '/srv/c' }, file: join(dir, 'sets-cache.yaml') }],
    ['the file through RACKSTRAP_CONFIG', { env: { RACKSTRAP_CONFIG: join(dir, 'sets-cache.yaml') } }],
    ['an empty environment value is no value', { env: { RACKSTRAP_CACHE_DIR: '' }, file: join(dir, 'plain.yaml') }],
  ];
  for (const [name, sources] of cases) t.same(await findAgentLocations(sources), await loadAgentLocations(sources), name);
});

t.test('what the full loader refuses, it refuses with the same message', async (t) => {
  const dir = t.testdir({ 'bad.yaml': 'cacheDir: [1, 2\n' });
  for (const sources of [{ env: {}, file: join(dir, 'missing.yaml') }, { env: {}, file: join(dir, 'bad.yaml') }, { env: {}, flags: { cacheDir: '' }, file: join(dir, 'bad.yaml') }]) {
    const full = await loadAgentLocations(sources).then(() => undefined, (e: Error) => e.message);
    t.ok(full, `the loader refuses ${JSON.stringify(sources)}`);
    await t.rejects(findAgentLocations(sources), { message: full! });
  }
});
