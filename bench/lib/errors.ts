// Errors of the benchmark harness: the project's one error family (src/errors.ts), with a code of
// their own so a failed bench run is never mistaken for a failure of rackstrap itself.
import { RackstrapError } from '../../src/errors.js';

/** Something in the harness or its environment failed (a missing tool, a server that never got ready). */
export class BenchError extends RackstrapError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RS_BENCH', message, options);
  }
}

/** perfdhcp printed something we do not understand. `line` is 1-based, 0 when the problem is a missing part. */
export class PerfdhcpParseError extends RackstrapError {
  readonly line: number;
  constructor(message: string, line: number) {
    super('RS_BENCH_PARSE', line > 0 ? `perfdhcp output line ${line}: ${message}` : `perfdhcp output: ${message}`);
    this.line = line;
  }
}
