// Limits on what a YAML text may make rackstrap do, checked before the work they bound:
//
// - nesting: at most MAX_NESTING collections inside each other. Checked while the text is parsed
//   (the parser's own stack of open collections), so a 10,000-level document stops at level 65
//   with its position, before anything recursive (the composer, toJS, zod) sees it.
// - aliases: `*name` repeats the node anchored `&name`, and aliases of aliases multiply (the
//   "billion laughs"). Every later stage walks the expanded tree, so the values aliases add, in
//   all, are counted on the document (each anchored node's size once, memoized) and the first
//   alias past MAX_ALIAS_VALUES is reported at its position.
import { Composer, isAlias, isMap, isPair, isScalar, isSeq, Lexer, Parser, YAMLParseError, type Document, type LineCounter, type Node } from 'yaml';

/** Deepest nesting of mappings and lists; a cluster description needs 7. */
export const MAX_NESTING = 64;
/** Most values (scalars, mappings, lists) all aliases together may add to the document. */
export const MAX_ALIAS_VALUES = 10_000;

export interface BoundProblem {
  /** Offset in the text. */
  offset: number;
  rule: string;
}

export type BoundedParse = { ok: true; doc: Document } | { ok: false; problem: BoundProblem };

class TooDeep extends Error {
  constructor(readonly offset: number) {
    super('too deep');
  }
}

/**
 * parseDocument (one document) with the nesting limit enforced while parsing. Options are
 * parseDocument's; a text nested too deeply gives its problem instead of a document.
 */
export function parseDocumentBounded(text: string, options: { lineCounter: LineCounter; uniqueKeys: boolean }): BoundedParse {
  const parser = new Parser(options.lineCounter.addNewLine);
  const lexer = new Lexer();
  // The parser's stack holds the document, each open collection, and at most a pair or scalar
  // being built; more than MAX_NESTING + 2 entries is more than MAX_NESTING collections.
  function* tokens() {
    options.lineCounter.addNewLine(0); // Parser.parse() does this; next() does not
    for (const lexeme of lexer.lex(text)) {
      yield* parser.next(lexeme);
      if (parser.stack.length > MAX_NESTING + 2) throw new TooDeep(parser.offset);
    }
    yield* parser.end();
  }
  const composer = new Composer({ uniqueKeys: options.uniqueKeys });
  let doc: Document | undefined;
  // yaml's Parser looks up process.env.LOG_TOKENS (its debugging switch) for every token, and
  // each look-up of process.env is a call into the C library: about a sixth of the parse of a
  // large description. The parse is synchronous, so a plain copy stands in meanwhile.
  const env = process.env;
  process.env = { ...env };
  try {
    for (const d of composer.compose(tokens(), true, text.length)) {
      if (!doc) doc = d as Document;
      else {
        // As parseDocument does: a second document is an error on the first.
        doc.errors.push(new YAMLParseError([d.range[0], d.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; a cluster description is one YAML document'));
        break;
      }
    }
  } catch (e) {
    if (e instanceof TooDeep) return { ok: false, problem: { offset: e.offset, rule: `nested more than ${MAX_NESTING} levels deep; a cluster description nests at most ${MAX_NESTING} mappings and lists` } };
    throw e;
  } finally {
    process.env = env;
  }
  return { ok: true, doc: doc! };
}

/** A key repeated in one mapping, as yaml's uniqueKeys would report it (at the repeated key). */
export interface DuplicateKey {
  pos: [number, number];
  message: string;
}

/** What one walk over a document finds: repeated keys, and the first alias past the limit. */
export interface DocumentCheck {
  duplicateKeys: DuplicateKey[];
  aliases: BoundProblem | undefined;
}

/**
 * The first alias that takes the values all aliases add past MAX_ALIAS_VALUES, or an alias that
 * refers to a node containing itself; undefined when the aliases are within bounds.
 */
export function checkAliases(doc: Document, limit = MAX_ALIAS_VALUES): BoundProblem | undefined {
  return checkDocument(doc, limit).aliases;
}

/**
 * One walk over the document's own nodes (aliases are not followed: an anchored node's size is
 * computed where it stands and an alias adds it) finding both the keys repeated in a mapping and
 * the aliases past `limit`. yaml's own uniqueKeys compares each key with every earlier key of its
 * map (quadratic: seconds for a 16,000-server cluster); a set per map makes it one pass. The walk
 * goes on after an alias problem, so a repeated key later in the file is still found (a syntax
 * error is reported before the limits).
 */
export function checkDocument(doc: Document, limit = MAX_ALIAS_VALUES): DocumentCheck {
  const anchors = new Map<string, Node>();
  const sizes = new Map<Node, number>();
  const inProgress = new Set<Node>();
  const duplicateKeys: DuplicateKey[] = [];
  let added = 0;
  let problem: BoundProblem | undefined;
  const at = (n: Node) => n.range?.[0] ?? 0;

  // Values a node stands for once expanded. Recursion is bounded by MAX_NESTING (checked at parse).
  function size(n: unknown): number {
    if (n === null || n === undefined) return 0;
    if (isAlias(n)) {
      const target = anchors.get(n.source);
      if (target === undefined) return 1; // yaml reports the unresolved alias itself
      if (inProgress.has(target)) {
        problem ??= { offset: at(n), rule: `alias *${n.source} refers to a node that contains it` };
        return 0;
      }
      // An anchor is only ever seen before its aliases, and a collection is sized once it closes.
      const s = sizes.get(target) ?? 1;
      added += s;
      if (added > limit && !problem) {
        problem = { offset: at(n), rule: `alias *${n.source} takes what aliases repeat past ${limit.toLocaleString('en')} values; a description may repeat at most ${limit.toLocaleString('en')} values through aliases` };
      }
      return s;
    }
    if (isScalar(n)) {
      if (n.anchor) anchors.set(n.anchor, n);
      return 1;
    }
    if (isMap(n) || isSeq(n)) {
      if (n.anchor) anchors.set(n.anchor, n);
      inProgress.add(n);
      let s = 1;
      const seen = isMap(n) ? new Set<unknown>() : undefined;
      for (const it of n.items) {
        if (isPair(it)) {
          if (seen) {
            const k = it.key;
            const id = isScalar(k) ? k.value : k;
            if (seen.has(id)) {
              const start = (isScalar(k) && k.range?.[0]) || 0;
              duplicateKeys.push({ pos: [start, start + 1], message: `Map keys must be unique${isScalar(k) ? ` ("${String(k.value)}" appears twice)` : ''}` });
            }
            seen.add(id);
          }
          s += size(it.key) + size(it.value);
        } else s += size(it);
      }
      inProgress.delete(n);
      sizes.set(n, s);
      return s;
    }
    return 1;
  }
  size(doc.contents);
  return { duplicateKeys, aliases: problem };
}
