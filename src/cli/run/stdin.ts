// `-` as a file argument: the text comes from standard input, read whole within a cap (the same
// cap as for a file), so a pipe cannot make a command hold unbounded memory.
import { UsageError } from '../../errors.js';

export async function readStdinLimited(maxBytes: number, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > maxBytes) throw new UsageError(`${what} on standard input is larger than ${maxBytes} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}
