// The Debian package as an admin meets it: built from this checkout by scripts/build-deb.sh,
// installed with dpkg -i, used (version, validate, gen, the embedded server and `agent --once`
// in namespaces, all from the installed /usr/bin/rackstrap), its units checked by systemd's own
// tools, then removed with dpkg -r leaving nothing behind. Root only (dpkg, namespaces).
import t from 'tap';
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { agentArgs, actual, expected, FLAT, flatLab, runRackstrap, startServer, stopProcess, writeEmptyConfig } from '../bootstrap/helpers/flat-lab.js';

const INSTALLED = ['/usr/bin/rackstrap'] as const;
const UNITS = ['/lib/systemd/system/rackstrap-agent.service', '/lib/systemd/system/rackstrap-serve.service'];
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

/** dpkg, waiting for its lock when another dpkg/apt runs on this shared machine. */
async function dpkg(...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  for (let i = 0; ; i++) {
    const r = await execa('dpkg', args, { reject: false });
    if (r.exitCode === 0 || !/lock/i.test(r.stderr) || i >= 60) return { exitCode: r.exitCode ?? 1, stdout: r.stdout, stderr: r.stderr };
    await new Promise((res) => setTimeout(res, 1000));
  }
}

async function installed(): Promise<boolean> {
  const r = await execa('dpkg-query', ['-W', '-f=${db:Status-Status}', 'rackstrap'], { reject: false });
  return r.exitCode === 0 && r.stdout.trim() === 'installed';
}

if (process.getuid?.() !== 0) {
  t.fail('needs root: dpkg -i and network namespaces');
} else {
  t.test('rackstrap_<version>_<arch>.deb: built, installed, used, removed without a trace', async (t) => {
    const dir = t.testdir({});
    const arch = (await execa('dpkg', ['--print-architecture'])).stdout.trim();
    // A package left installed by a crashed earlier run would hide what this one installs.
    if (await installed()) t.equal((await dpkg('-r', 'rackstrap')).exitCode, 0, 'an earlier run left the package installed: removed first');

    const build = await execa('bash', ['scripts/build-deb.sh', '--no-compile', join(dir, 'pkg')], { reject: false });
    t.equal(build.exitCode, 0, `build-deb.sh succeeds${build.exitCode === 0 ? '' : `\n${build.stderr}`}`);
    const deb = build.stdout.trim();
    t.equal(basename(deb), `rackstrap_${pkg.version}_${arch}.deb`);

    // `dpkg-deb -c`: "mode owner size date time ./path" per line.
    const listing = (await execa('dpkg-deb', ['-c', deb])).stdout.split('\n');
    const files = listing.map((l) => l.slice(l.indexOf(' ./') + 2).replace(/\/$/, '')).filter((p) => p !== '' && p !== '/');
    for (const want of ['/usr/bin/rackstrap', '/usr/lib/rackstrap/rackstrap_net.node', ...UNITS, '/etc/rackstrap/agent.yaml.example', '/usr/share/bash-completion/completions/rackstrap', '/usr/share/doc/rackstrap/README.md', '/usr/share/man/man1/rackstrap.1.gz']) {
      t.ok(files.includes(want), `the package holds ${want}`);
    }
    const control = (await execa('dpkg-deb', ['-f', deb, 'Depends'])).stdout;
    t.notMatch(control, /nodejs/, 'no dependency on a nodejs package: Node is inside the executable');
    const before = new Set(files.filter((f) => existsSync(f)));

    const install = await dpkg('-i', deb);
    t.equal(install.exitCode, 0, `dpkg -i${install.exitCode === 0 ? '' : `\n${install.stderr}`}`);
    t.teardown(async () => {
      if (await installed()) await dpkg('-r', 'rackstrap');
    });

    await t.test('the installed CLI: version, validate, gen, a manual page per command', async (t) => {
      const v = await execa('/usr/bin/rackstrap', ['--version'], { reject: false });
      t.equal(v.stdout, pkg.version);
      const ok = await execa('/usr/bin/rackstrap', ['validate', 'examples/cluster.yaml'], { reject: false });
      t.equal(ok.exitCode, 0, ok.stderr);
      t.equal(ok.stdout, 'examples/cluster.yaml: ok (2 filers, 3 virtual servers, 25 identifiers)');
      const bad = await execa('/usr/bin/rackstrap', ['validate', 'test/fixtures/config/invalid/duplicate-ip-seed.yaml'], { reject: false });
      t.equal(bad.exitCode, 1, 'an invalid description exits 1');
      const gen = await execa('/usr/bin/rackstrap', ['gen', 'dhcpd', 'examples/cluster.yaml'], { reject: false });
      t.equal(gen.exitCode, 0, gen.stderr);
      const checkout = await execa(process.execPath, ['bin/rackstrap.js', 'gen', 'dhcpd', 'examples/cluster.yaml']);
      t.equal(gen.stdout, checkout.stdout, 'the same dhcpd.conf as the checkout makes');
      await execa('/usr/bin/rackstrap', ['gen', 'dhcpd', 'examples/cluster.yaml', '--out', join(dir, 'gen')]);
      const dhcpd = await execa('dhcpd', ['-t', '-4', '-cf', join(dir, 'gen', 'dhcpd.conf')], { reject: false });
      t.equal(dhcpd.exitCode, 0, `dhcpd -t accepts it${dhcpd.exitCode === 0 ? '' : `\n${dhcpd.stderr}`}`);
      const help = (await execa('/usr/bin/rackstrap', ['--help'])).stdout;
      const commands = [...help.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]!).filter((c) => c !== 'help');
      t.ok(commands.length >= 7, `--help lists the commands (${commands.join(', ')})`);
      for (const c of commands) t.ok(existsSync(`/usr/share/man/man1/rackstrap-${c}.1.gz`), `man page for ${c}`);
      const man = await execa('man', ['-P', 'cat', 'rackstrap-validate'], { reject: false, env: { MANWIDTH: '100' } });
      t.match(man.stdout, /check a cluster description against every rule/, 'man rackstrap-validate reads');
      const bash = await execa('bash', ['-c', 'source /usr/share/bash-completion/completions/rackstrap && COMP_WORDS=(rackstrap va) COMP_CWORD=1 && _rackstrap && echo "${COMPREPLY[*]}"']);
      t.equal(bash.stdout, 'validate', 'bash completion completes a command');
    });

    await t.test('the installed units pass systemd-analyze verify and score at most 3.0 on security', async (t) => {
      const verify = await execa('systemd-analyze', ['verify', ...UNITS], { reject: false });
      t.equal(verify.exitCode, 0, verify.stderr);
      t.equal(verify.stderr.trim(), '', 'no warnings');
      for (const unit of UNITS) {
        const sec = await execa('systemd-analyze', ['security', '--offline=true', unit], { reject: false });
        const score = Number(/Overall exposure level for \S+: ([0-9.]+)/.exec(sec.stdout)?.[1]);
        t.ok(score <= 3.0, `${basename(unit)}: exposure ${score} <= 3.0`);
        t.comment(`${basename(unit)}: systemd-analyze security ${score}`);
      }
    });

    await t.test('the installed server and agent in namespaces: agent --once addresses every alias', async (t) => {
      const l = await flatLab(t, ['Filer1'], 'qpa');
      const run = t.testdir({});
      writeEmptyConfig(run);
      const server = await startServer(l, FLAT, join(run, 'leases.log'), INSTALLED);
      t.teardown(() => stopProcess(server.child));
      const r = await runRackstrap(l, l.ns.get('Filer1')!, ['agent', '--once', ...agentArgs(l, join(run, 'filer1'))], INSTALLED);
      t.equal(r.code, 0, `exit 0${r.code === 0 ? '' : `\n${r.stderr}`}`);
      t.match(r.stdout, /^Filer1: up from DHCP, generation 1$/);
      t.same(await actual(l.lab, l.ns.get('Filer1')!), expected(l.loaded, 'Filer1'), 'addresses, routes and rules as the description says');
      const status = await runRackstrap(l, l.ns.get('Filer1')!, ['status', '--cache-dir', join(run, 'filer1')], INSTALLED);
      t.match(status.stdout, /configuration from DHCP/);
      t.equal(status.code, 3, 'status exits 3: the --once agent no longer runs');
    });

    const remove = await dpkg('-r', 'rackstrap');
    t.equal(remove.exitCode, 0, `dpkg -r${remove.exitCode === 0 ? '' : `\n${remove.stderr}`}`);
    const status = await execa('dpkg-query', ['-W', '-f=${db:Status-Abbrev}', 'rackstrap'], { reject: false });
    t.not(status.exitCode === 0 ? status.stdout.trim() : 'un', 'rc', 'not even config-files are left in dpkg');
    t.ok(status.exitCode !== 0 || /^(un|pn)/.test(status.stdout.trim()), `dpkg knows no rackstrap package (${status.stdout.trim() || 'none'})`);
    const left = files.filter((f) => !before.has(f) && existsSync(f));
    t.same(left, [], 'every file and folder the package brought is gone');
  });
}
