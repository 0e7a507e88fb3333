// The shapes (JSON Schema, as zod writes it) of what the CLI reads without zod: the control
// socket's replies and the status file. Generated from their zod schemas, the one definition, into
// two checked-in modules; test/packaging/shapes.test.ts fails when they differ from what the
// schemas give now. Regenerate with: npm run build && node dist/src/packaging/write-shapes.js
import { z } from 'zod';
import { AgentStatus, MAX_STATUS_BYTES, STATUS_FILE, STATUS_VERSION } from '../bootstrap/status.js';
import { COMMANDS, CONTROL_VERSION, MAX_LINE_BYTES, Reply, REPLIES } from '../control/protocol.js';
import type { Shape } from '../json-shape/check.js';

/** The input side of `schema` (what a reader accepts), without the `$schema` marker. */
export function shapeOf(schema: z.ZodType): Shape {
  const { $schema: _, ...shape } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as Record<string, unknown>;
  return shape as Shape;
}

const HEADER = (from: string) =>
  `// Generated from the zod schemas of ${from} by src/packaging/shapes.ts: do not edit.\n` +
  '// Regenerate: npm run build && node dist/src/packaging/write-shapes.js (test/packaging/shapes.test.ts\n' +
  '// fails while this file differs from what the schemas give).\n';

const lit = (v: unknown) => JSON.stringify(v);

/** File (relative to the checkout) -> its generated text. */
export function generatedShapes(): Record<string, string> {
  const replies = Object.entries(REPLIES).map(([c, s]) => `  ${lit(c)}: ${lit(shapeOf(s))},`).join('\n');
  return {
    'src/control/reply-shapes.ts':
      `${HEADER('src/control/protocol.ts')}import type { Shape } from '../json-shape/check.js';\n` +
      `import type { CommandName } from './protocol.js';\n\n` +
      `export const CONTROL_VERSION = ${lit(CONTROL_VERSION)};\n` +
      `export const MAX_LINE_BYTES = ${lit(MAX_LINE_BYTES)};\n` +
      `export const COMMANDS: readonly CommandName[] = ${lit(COMMANDS)};\n` +
      `export const REPLY_SHAPE: Shape = ${lit(shapeOf(Reply))};\n` +
      `export const REPLY_SHAPES: Record<CommandName, Shape> = {\n${replies}\n};\n`,
    'src/bootstrap/status-shape.ts':
      `${HEADER('src/bootstrap/status.ts')}import type { Shape } from '../json-shape/check.js';\n\n` +
      `export const STATUS_FILE = ${lit(STATUS_FILE)};\n` +
      `export const STATUS_VERSION = ${lit(STATUS_VERSION)};\n` +
      `export const MAX_STATUS_BYTES = ${lit(MAX_STATUS_BYTES)};\n` +
      `export const STATUS_SHAPE: Shape = ${lit(shapeOf(AgentStatus))};\n`,
  };
}
