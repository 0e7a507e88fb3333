// The host shows only what the guest prints between its marks, whole lines, however the console
// output is chunked.
import t from 'tap';
import { consoleFilter } from '../../src/lab/host.js';
import { GUEST_DONE_MARK, GUEST_START_MARK } from '../../src/lab/marks.js';

t.test('console filter', async (t) => {
  const got: string[] = [];
  const feed = consoleFilter((s) => got.push(s));
  const all = `SELinux: noise\nmmapper_init - find_iomem failed\n${GUEST_START_MARK}\n1. Boot\n   detail\n${GUEST_DONE_MARK}\nreboot: System halted\n`;
  for (let i = 0; i < all.length; i += 7) feed(all.slice(i, i + 7));
  t.same(got, ['1. Boot\n', '   detail\n']);
});
