// The guest half of the lab: user-mode Linux runs this as root inside the guest (see host.ts).
//   node dist/src/lab/guest-main.js --out DIR --work DIR --cluster FILE [--console /dev/console]
//                                   [--dhcp-timeout MS] [--skip-live] [--skip-cache] [--filer NAME]...
// Output for people goes to --console (the guest console, which the host streams live) and to
// DIR/transcript.txt; results to DIR/results.json. Exit status 0 when every check passed.
import { closeSync, openSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { GUEST_DONE_MARK, GUEST_START_MARK } from './marks.js';
import { runFlow } from './flow.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    work: { type: 'string', default: '/run/rackstrap-lab' },
    cluster: { type: 'string', default: 'examples/cluster.yaml' },
    console: { type: 'string' },
    'dhcp-timeout': { type: 'string', default: '3000' },
    'skip-live': { type: 'boolean', default: false },
    'skip-cache': { type: 'boolean', default: false },
    filer: { type: 'string', multiple: true },
    'host-start': { type: 'string' },
  },
});
if (values.out === undefined) {
  process.stderr.write('guest-main: --out is required\n');
  process.exit(2);
}
async function main(out: string): Promise<number> {
  const fd = values.console === undefined ? 1 : openSync(values.console, 'w');
  const sink = (text: string) => writeSync(fd, text);
  sink(`${GUEST_START_MARK}\n`);
  let code = 1;
  try {
    const res = await runFlow({
      cluster: values.cluster,
      out,
      work: values.work,
      sink,
      dhcpTimeoutMs: Number(values['dhcp-timeout']),
      skipLiveUpdate: values['skip-live'],
      skipCache: values['skip-cache'],
      ...(values.filer === undefined ? {} : { filers: values.filer }),
      ...(values['host-start'] === undefined ? {} : { hostStartMs: Number(values['host-start']) }),
    });
    code = res.ok ? 0 : 1;
  } catch (err) {
    sink(`lab failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  } finally {
    sink(`${GUEST_DONE_MARK}\n`);
    if (fd !== 1) closeSync(fd);
  }
  return code;
}

// No top-level await: the lab also runs this module bundled as CommonJS (bundle.ts).
// A program of its own (the guest's init waits for it): exit as soon as it is done rather than
// wait for a stray handle, since the guest powers off right after.
void main(values.out).then((code) => process.exit(code));
