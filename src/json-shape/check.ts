// Checks a parsed JSON value against a shape: the subset of JSON Schema that zod's
// z.toJSONSchema writes for the schemas of the files and replies the CLI reads (the status file,
// the control socket's replies). The shapes are generated from those zod schemas
// (src/packaging/write-shapes.ts), so there is one definition; this lets `rackstrap status` and
// `show` check what they read without loading zod (most of their start-up otherwise).
// Like zod's parse: defaults are filled in, keys an object schema does not list are dropped
// unless it allows them, and a strict object refuses them. Refinements zod cannot express in JSON
// Schema are not checked here (the writer of these files and replies is the agent, which checked them).

export interface Shape {
  type?: string | string[];
  properties?: Record<string, Shape>;
  required?: string[];
  additionalProperties?: boolean | Shape;
  propertyNames?: Shape;
  items?: Shape;
  anyOf?: Shape[];
  enum?: readonly unknown[];
  const?: unknown;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
  description?: string;
}

/** The keywords above: a shape using any other is refused when checked (the generator's test runs every shape). */
export const SHAPE_KEYWORDS: ReadonlySet<string> = new Set([
  'type', 'properties', 'required', 'additionalProperties', 'propertyNames', 'items', 'anyOf', 'enum', 'const',
  'pattern', 'format', 'minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'default', 'description',
]);

export type ShapeResult = { ok: true; value: unknown } | { ok: false; path: string; message: string };

const patterns = new Map<string, RegExp>();
const regex = (p: string) => {
  let r = patterns.get(p);
  if (r === undefined) patterns.set(p, (r = new RegExp(p, 'u')));
  return r;
};

class Mismatch {
  constructor(
    readonly path: Array<string | number>,
    readonly message: string,
  ) {}
}

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function describe(v: unknown): string {
  const t = typeOf(v);
  return t === 'string' || t === 'number' || t === 'boolean' ? `${t} ${JSON.stringify(v)}` : t;
}

function hasType(shape: Shape, v: unknown): boolean {
  if (shape.type === undefined) return true;
  const t = typeOf(v);
  for (const want of typeof shape.type === 'string' ? [shape.type] : shape.type) {
    if (want === t) return true;
    if (want === 'integer' && t === 'number' && Number.isInteger(v)) return true;
  }
  return false;
}

function walk(shape: Shape, v: unknown, path: Array<string | number>): unknown {
  if (shape.anyOf !== undefined) {
    let first: Mismatch | undefined;
    for (const alt of shape.anyOf) {
      try {
        return walk(alt, v, path);
      } catch (e) {
        if (!(e instanceof Mismatch)) throw e;
        // The deepest mismatch says most (the alternative that got furthest).
        if (first === undefined || e.path.length > first.path.length) first = e;
      }
    }
    throw first ?? new Mismatch(path, 'matches no alternative');
  }
  if (!hasType(shape, v)) throw new Mismatch(path, `expected ${[shape.type].flat().join(' or ')}, got ${describe(v)}`);
  if ('const' in shape && v !== shape.const) throw new Mismatch(path, `expected ${JSON.stringify(shape.const)}, got ${describe(v)}`);
  if (shape.enum !== undefined && !shape.enum.includes(v)) throw new Mismatch(path, `expected one of ${shape.enum.map((x) => JSON.stringify(x)).join(', ')}, got ${describe(v)}`);
  if (typeof v === 'string') {
    if (shape.minLength !== undefined && [...v].length < shape.minLength) throw new Mismatch(path, `shorter than ${shape.minLength}`);
    if (shape.maxLength !== undefined && [...v].length > shape.maxLength) throw new Mismatch(path, `longer than ${shape.maxLength}`);
    if (shape.pattern !== undefined && !regex(shape.pattern).test(v)) throw new Mismatch(path, `not ${shape.format ?? 'in the expected form'}: ${JSON.stringify(v)}`);
    return v;
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Mismatch(path, 'not a finite number');
    if (shape.minimum !== undefined && v < shape.minimum) throw new Mismatch(path, `below ${shape.minimum}`);
    if (shape.maximum !== undefined && v > shape.maximum) throw new Mismatch(path, `above ${shape.maximum}`);
    return v;
  }
  if (Array.isArray(v)) {
    if (shape.minItems !== undefined && v.length < shape.minItems) throw new Mismatch(path, `fewer than ${shape.minItems} item(s)`);
    if (shape.maxItems !== undefined && v.length > shape.maxItems) throw new Mismatch(path, `more than ${shape.maxItems} item(s)`);
    return shape.items === undefined ? v : v.map((x, i) => walk(shape.items!, x, [...path, i]));
  }
  // An object schema always says type object; a shape without one (zod's unknown) takes anything as it is.
  if (v !== null && typeof v === 'object' && shape.type !== undefined) {
    const obj = v as Record<string, unknown>;
    const props = shape.properties ?? {};
    const out: Record<string, unknown> = {};
    for (const [k, sub] of Object.entries(props)) {
      if (Object.hasOwn(obj, k) && obj[k] !== undefined) out[k] = walk(sub, obj[k], [...path, k]);
      else if ('default' in sub) out[k] = structuredClone(sub.default);
      else if (shape.required?.includes(k)) throw new Mismatch([...path, k], 'missing');
    }
    for (const [k, x] of Object.entries(obj)) {
      if (Object.hasOwn(props, k)) continue;
      const extra = shape.additionalProperties;
      // No additionalProperties: zod's plain object, which drops the key.
      if (extra === undefined) continue;
      if (extra === false) throw new Mismatch([...path, k], 'not expected here');
      if (shape.propertyNames !== undefined) walk(shape.propertyNames, k, [...path, k]);
      out[k] = extra === true ? x : walk(extra, x, [...path, k]);
    }
    return out;
  }
  return v;
}

/** `value` checked against `shape`: the value as zod would return it, or where and why it does not fit. */
export function checkShape(shape: Shape, value: unknown): ShapeResult {
  try {
    return { ok: true, value: walk(shape, value, []) };
  } catch (e) {
    if (!(e instanceof Mismatch)) throw e;
    return { ok: false, path: e.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join(''), message: e.message };
  }
}

/** The first keyword of `shape` (or of a shape inside it) that checkShape does not know, if any. */
export function unknownKeyword(shape: Shape, at = '(root)'): string | undefined {
  for (const [k, v] of Object.entries(shape)) {
    if (!SHAPE_KEYWORDS.has(k)) return `${at}: ${k}`;
    const subs: Array<[string, Shape]> =
      k === 'properties' ? Object.entries(v as Record<string, Shape>).map(([p, s]) => [`${at}.${p}`, s])
      : k === 'anyOf' ? (v as Shape[]).map((s, i) => [`${at}|${i}`, s])
      : (k === 'items' || k === 'propertyNames' || k === 'additionalProperties') && typeof v === 'object' ? [[`${at}.${k}`, v as Shape]]
      : [];
    for (const [p, s] of subs) {
      const u = unknownKeyword(s, p);
      if (u !== undefined) return u;
    }
  }
  return undefined;
}
