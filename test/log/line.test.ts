// Log lines: text with a severity for the journal (priority prefix when the stream is the
// journal's, time and level word elsewhere), JSON for programs, and the limit per source of
// trouble (held lines come out later with their count, nothing is lost silently).
import t from 'tap';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatLogLine, isJournalStream } from '../../src/log/line.js';
import { LineLimiter } from '../../src/log/limiter.js';
import { makeAgentLog } from '../../src/bootstrap/agent-log.js';

const TIME = Date.parse('2026-12-04T21:00:00.000Z');

t.test('text for the journal: the priority prefix journald stores, the event, the sentence', async (t) => {
  const journal = { format: 'text' as const, journal: true };
  t.equal(formatLogLine(journal, { time: TIME, level: 'info', event: 'up', msg: 'Filer1 is up from DHCP, generation 3', fields: { generation: 3 } }), '<6>up: Filer1 is up from DHCP, generation 3\n');
  t.equal(formatLogLine(journal, { time: TIME, level: 'warn', event: 'nak', msg: 'x' }), '<4>nak: x\n');
  t.equal(formatLogLine(journal, { time: TIME, level: 'error', event: 'apply', msg: 'x' }), '<3>apply: x\n');
  t.equal(formatLogLine(journal, { time: TIME, level: 'debug', event: 'dhcp', msg: 'INIT -> SELECTING' }), '<7>dhcp: INIT -> SELECTING\n');
  t.equal(formatLogLine(journal, { time: TIME, level: 'warn', event: 'e', msg: 'two\nlines' }), '<4>e: two\\nlines\n', 'one entry per line');
  t.equal(formatLogLine(journal, { time: TIME, level: 'warn', event: 'e', msg: 'again', fields: { suppressed: 4 } }), '<4>e: again (4 like it left out)\n');
  // No sentence (the server's records): the fields, quoted where they need it.
  t.equal(
    formatLogLine(journal, { time: TIME, level: 'info', event: 'exchange', fields: { type: 'DISCOVER', client: 'a b', address: '10.1.1.4', n: 2, o: { x: 1 } } }),
    '<6>exchange: type=DISCOVER client="a b" address=10.1.1.4 n=2 o="{\\"x\\":1}"\n',
  );
});

t.test('text elsewhere: time and level word; JSON: one object with every field', async (t) => {
  t.equal(formatLogLine({ format: 'text', journal: false }, { time: TIME, level: 'warn', event: 'e', msg: 'm' }), '2026-12-04T21:00:00.000Z warn  e: m\n');
  const j = JSON.parse(formatLogLine({ format: 'json', journal: false }, { time: TIME, level: 'info', event: 'up', msg: 'm', fields: { generation: 3 } }));
  t.same(j, { time: '2026-12-04T21:00:00.000Z', level: 'info', event: 'up', msg: 'm', generation: 3 });
  t.same(Object.keys(j).slice(0, 3), ['time', 'level', 'event'], 'time, level and event first');
});

t.test('the journal stream is recognised by device and inode, and only that stream', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-log-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fd = openSync(join(dir, 'a'), 'w');
  t.teardown(() => closeSync(fd));
  const st = statSync(join(dir, 'a'));
  t.ok(isJournalStream(fd, { JOURNAL_STREAM: `${st.dev}:${st.ino}` }));
  t.notOk(isJournalStream(fd, { JOURNAL_STREAM: `${st.dev}:${st.ino + 1}` }), 'another inode: redirected elsewhere');
  t.notOk(isJournalStream(fd, {}), 'not under systemd');
  // A process whose stderr is that file, told so by JOURNAL_STREAM, writes the prefix.
  const url = pathToFileURL(join(process.cwd(), 'dist/src')).href;
  const script = `const {makeAgentLog}=await import('${url}/bootstrap/agent-log.js');const {lineStyle}=await import('${url}/log/line.js');makeAgentLog({style:lineStyle('text',2)}).info('up','Filer1 is up');`;
  for (const [env, want] of [[`${st.dev}:${st.ino}`, /^<6>up: Filer1 is up\n$/], ['1:1', /^\S+Z info  up: Filer1 is up\n$/]] as const) {
    const file = join(dir, 'stderr');
    const err = openSync(file, 'w');
    const own = statSync(file);
    const journal = env === '1:1' ? env : `${own.dev}:${own.ino}`;
    const code = await new Promise<number | null>((resolve) => {
      spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, JOURNAL_STREAM: journal }, stdio: ['ignore', 'ignore', err] }).on('exit', resolve);
    });
    closeSync(err);
    t.equal(code, 0);
    t.match(readFileSync(file, 'utf8'), want, env === '1:1' ? 'redirected elsewhere: time and level' : 'the journal: priority prefix');
  }
});

t.test('warnings: one line per second per kind and source; the latest held one follows with its count', async (t) => {
  let now = 0;
  const lines: string[] = [];
  const log = makeAgentLog({ level: 'info', now: () => now, write: (l) => lines.push(l), style: { format: 'text', journal: true } });
  for (let i = 0; i < 50; i++) {
    log.warn('rogue-server', `topology from 10.9.9.1 refused (${i})`, { server: '10.9.9.1' });
    log.warn('rogue-server', `topology from 10.9.9.2 refused (${i})`, { server: '10.9.9.2' });
    log.info('lease', `lease ${i}`);
  }
  t.equal(lines.filter((l) => l.startsWith('<6>')).length, 50, 'info lines are not limited');
  t.same(lines.filter((l) => l.startsWith('<4>')), ['<4>rogue-server: topology from 10.9.9.1 refused (0)\n', '<4>rogue-server: topology from 10.9.9.2 refused (0)\n'], 'one line per source at once');
  now = 1000;
  log.flush();
  t.same(lines.filter((l) => l.startsWith('<4>')).slice(2), [
    '<4>rogue-server: topology from 10.9.9.1 refused (49) (48 like it left out)\n',
    '<4>rogue-server: topology from 10.9.9.2 refused (49) (48 like it left out)\n',
  ], 'the latest, with the count of those between');
  // A DHCP client line without a source field: its numbers do not make it another source.
  lines.length = 0;
  now = 5000;
  for (let i = 0; i < 10; i++) log.dhcp('warn', `eth0: NAK in REQUESTING from 10.1.1.${i}`);
  t.equal(lines.length, 1, 'one line for ten NAKs');
});

t.test('a held line comes out by itself when the interval is over', async (t) => {
  const out: Array<[string, number]> = [];
  const l = new LineLimiter<string>({ intervalMs: 50, emit: (line, n) => out.push([line, n]) });
  l.add('k', 'a');
  l.add('k', 'b');
  l.add('k', 'c');
  t.same(out, [['a', 0]]);
  await new Promise((r) => setTimeout(r, 120));
  t.same(out, [['a', 0], ['c', 1]], 'c, standing for b too');
  const many = new LineLimiter<string>({ intervalMs: 60_000, maxKeys: 4, emit: (line) => out.push([line, 0]) });
  for (let i = 0; i < 1000; i++) many.add(`source ${i}`, `line ${i}`);
  t.equal(out.length, 2 + 4 + 1, 'past the key limit, new sources share one key: its first line, the rest held');
  many.flush();
  t.equal(out.length, 2 + 4 + 1 + 1, 'the latest held line of the shared key');
});

