// Module hooks (node --import) that append every module URL the process loads to $RACKSTRAP_LOAD_LOG:
// lets a test see what one CLI invocation imported.
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

type Next = (specifier: string, context: unknown) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: unknown, next: Next): Promise<{ url: string }> {
  const r = await next(specifier, context);
  const log = process.env.RACKSTRAP_LOAD_LOG;
  if (log) appendFileSync(log, `${r.url}\n`);
  return r;
}

// Loaded with --import, this file registers itself as the hooks module (hooks run on a thread of
// their own, which loads this file again: register only from the main thread).
if (process.env.RACKSTRAP_LOAD_LOG && isMainThread) register(import.meta.url);
