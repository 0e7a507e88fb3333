// The reading side of a stored format: the same schema with every object, at any depth, skipping
// keys it does not know instead of refusing them. What this rackstrap writes is checked strictly
// (a key it does not know is a bug here); what it reads may come from a newer minor version, which
// may only add optional fields (docs/wire-format.md "Versioning"), so an older reader skips them.
// Only a new major (the file's `format`) is refused. Every check, range, refinement, default and
// union of the original schema stays as it is.
import { z } from 'zod';

type AnySchema = z.ZodType;
type Def = Record<string, unknown> & { type: string };

const made = new WeakMap<AnySchema, AnySchema>();

/** Schemas whose `innerType` is the one to rewrite. */
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'nonoptional', 'readonly', 'catch', 'success']);

/** `schema` with every nested object stripping unknown keys (zod's plain `z.object` behaviour). */
export function lenientSchema<T extends AnySchema>(schema: T): T {
  const done = made.get(schema);
  if (done !== undefined) return done as T;
  const out = rewrite(schema);
  made.set(schema, out);
  return out as T;
}

function rewrite(schema: AnySchema): AnySchema {
  const def = schema._zod.def as unknown as Def;
  const inner = (s: unknown) => lenientSchema(s as AnySchema);
  const clone = (changes: Record<string, unknown>) => schema.clone({ ...def, ...changes } as never);
  if (def.type === 'object') {
    const shape = Object.fromEntries(Object.entries((schema as unknown as z.ZodObject).shape).map(([k, v]) => [k, inner(v)]));
    // An explicit catchall other than "never" (strictObject) is a decision of its own: keep it.
    const catchall = def.catchall as AnySchema | undefined;
    const keep = catchall !== undefined && catchall._zod.def.type !== 'never' ? { catchall: inner(catchall) } : { catchall: undefined };
    return clone({ shape, ...keep });
  }
  if (WRAPPERS.has(def.type)) return clone({ innerType: inner(def.innerType) });
  switch (def.type) {
    case 'array':
      return clone({ element: inner(def.element) });
    case 'record':
    case 'map':
      return clone({ keyType: inner(def.keyType), valueType: inner(def.valueType) });
    case 'set':
      return clone({ valueType: inner(def.valueType) });
    case 'union':
      return clone({ options: (def.options as AnySchema[]).map(inner) });
    case 'intersection':
      return clone({ left: inner(def.left), right: inner(def.right) });
    case 'tuple':
      return clone({ items: (def.items as AnySchema[]).map(inner), rest: def.rest === null || def.rest === undefined ? def.rest : inner(def.rest) });
    case 'pipe':
      return clone({ in: inner(def.in), out: inner(def.out) });
    case 'lazy': {
      const getter = def.getter as () => AnySchema;
      return clone({ getter: () => inner(getter()) });
    }
    default:
      return schema;
  }
}
