// Lazy command loading: one invocation loads its own command's implementation and nothing of the
// others; --help and --version load no implementation, nor yaml, zod or execa. The list of modules
// comes from module hooks in the spawned CLI (helpers/load-log-hooks), not from the code under test.
// bin/rackstrap.js runs the bundle (dist/bundle/): each file of it it loads is counted as the
// sources esbuild put in it (dist/bundle/meta.json), named as their compiled modules in dist/src.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const HOOKS = pathToFileURL(join(process.cwd(), 'dist/test/cli/helpers/load-log-hooks.js')).href;

function loaded(t: Test, args: string[]): Promise<{ code: number; modules: string[]; raw: string[]; stdout: string; stderr: string }> {
  const log = join(t.testdir(), 'loaded.txt');
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', HOOKS, 'bin/rackstrap.js', ...args], { env: { ...process.env, NO_COLOR: '1', RACKSTRAP_LOAD_LOG: log } }, (err, stdout, stderr) => {
      let text = '';
      try {
        text = readFileSync(log, 'utf8');
      } catch {
        // nothing loaded through the hooks: the list stays empty and the assertions say so
      }
      const raw = [...new Set(text.split('\n').filter(Boolean))];
      const modules = [...new Set(raw.flatMap(sourcesOf))];
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, modules, raw, stdout, stderr });
    });
  });
}

const ROOT = pathToFileURL(process.cwd()).href;
const META = JSON.parse(readFileSync('dist/bundle/meta.json', 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };

/** A loaded module's URL -> the modules it stands for: a bundle file's sources, as dist/src modules. */
function sourcesOf(url: string): string[] {
  if (!url.startsWith(`${ROOT}/dist/bundle/`)) return [url];
  const inputs = Object.keys(META.outputs[url.slice(ROOT.length + 1)]?.inputs ?? {});
  return [url, ...inputs.map((i) => `${ROOT}/${i.startsWith('src/') ? `dist/${i.replace(/\.ts$/, '.js')}` : i}`)];
}

const HEAVY = ['/node_modules/yaml/', '/node_modules/zod/', '/node_modules/execa/'];
const runModules = (mods: string[]) => mods.filter((m) => m.includes('/dist/src/cli/run/')).map((m) => m.replace(/.*\/cli\/run\//, ''));

t.test('rackstrap --version loads nothing of the CLI: it answers before the commands are loaded', async (t) => {
  const r = await loaded(t, ['--version']);
  t.equal(r.code, 0);
  t.same(r.raw.filter((m) => m.startsWith(`${ROOT}/dist/`)), []);
});

for (const args of [['--help'], ['gen', '--help'], ['agent', '--help']]) {
  t.test(`rackstrap ${args.join(' ')} loads no command implementation, nor yaml, zod or execa`, async (t) => {
    const r = await loaded(t, args);
    t.equal(r.code, 0);
    t.ok(r.modules.some((m) => m.endsWith('/dist/src/cli/main.js')), 'the hooks saw the CLI load');
    t.same(runModules(r.modules), []);
    t.same(r.modules.filter((m) => HEAVY.some((h) => m.includes(h))), []);
  });
}

t.test('rackstrap --version prints the version of package.json', async (t) => {
  const r = await loaded(t, ['--version']);
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  t.equal(r.stdout, `${pkg.version}\n`);
});

t.test('rackstrap validate loads validate and none of the other commands', async (t) => {
  const r = await loaded(t, ['validate', 'examples/cluster.yaml']);
  t.equal(r.code, 0);
  const mods = runModules(r.modules);
  t.ok(mods.includes('validate.js'), 'its own implementation');
  const help = await loaded(t, ['--help']);
  const others = [...help.stdout.matchAll(/^ {2}([a-z-]+) /gm)].map((m) => `${m[1]}.js`).filter((m) => m !== 'validate.js' && m !== 'help.js');
  t.ok(others.length >= 6, `the other commands (${others.join(', ')})`);
  t.same(mods.filter((m) => others.includes(m)), [], 'none of the other commands');
  t.notOk(r.modules.some((m) => m.includes('/node_modules/execa/')), 'validate runs no commands');
  t.notOk(r.modules.some((m) => m.includes('/dist/src/dhcp-server/server.js')), 'nor the server');
});

t.test('bin/rackstrap.js runs the bundle, which is as new as the compiled modules', async (t) => {
  const r = await loaded(t, ['--help']);
  t.ok(r.raw.includes(`${ROOT}/dist/bundle/main.js`), 'the bundle');
  t.same(r.raw.filter((m) => m.startsWith(`${ROOT}/dist/src/`)), [], 'no compiled module of dist/src');
});

for (const args of [['status', '--cache-dir', 'CACHE'], ['show', 'links', '--cache-dir', 'CACHE']]) {
  t.test(`rackstrap ${args[0]} loads neither yaml nor zod, also with an agent.yaml in place`, async (t) => {
    // Not t.testdir(): loaded() makes the test's folder anew.
    const dir = mkdtempSync(join(tmpdir(), 'rc-lazy-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'cache'));
    writeFileSync(join(dir, 'agent.yaml'), 'clusterId: 00:07:34:04:12:0e\nlogLevel: debug\n');
    const r = await loaded(t, [...args.map((a) => (a === 'CACHE' ? join(dir, 'cache') : a)), '--config', join(dir, 'agent.yaml')]);
    t.equal(r.code, 3, `no agent runs there: ${r.stderr}`);
    t.ok(r.modules.some((m) => m.endsWith(`/dist/src/cli/run/${args[0]}.js`)), 'its implementation');
    t.same(r.modules.filter((m) => m.includes('/node_modules/yaml/') || m.includes('/node_modules/zod/')), []);
  });
}
