// YAML text -> validated, normalized cluster description, or a ConfigError listing every problem
// with file:line:col. Three stages: YAML syntax (the first error only, shown with its line and a
// caret), the zod shape (schema.ts), then normalization and the cross-field rules (rules/), these
// two reporting all they find. Positions come from the YAML document itself (parseDocument +
// LineCounter), so a rule only names a path. A clean description is first read quickly, without
// positions (yaml-quick.ts); the document is built only when something is to be reported.
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { core as zcore } from 'zod';
import { ConfigError, type Problem } from '../errors.js';
import { readLimited } from '../input/read-limited.js';
import { ClusterDescription } from './schema.js';
import { normalizeDescription, type ResolvedFiler } from './normalize.js';
import { checkCluster } from './rules/index.js';
import { formatPath, type Finding, type Path } from './rules/context.js';
import { checkDocument, parseDocumentBounded, type BoundProblem } from './yaml-bounds.js';
import { firstLine, firstYamlError, yamlProblemAt } from './yaml-syntax.js';
import { readYamlQuick } from './yaml-quick.js';

/** A cluster description that passed every rule: what every later part of rackstrap starts from. */
export interface LoadedCluster {
  /** The file it came from, as given (used in messages). */
  file: string;
  /** Normalized: interface names lower-case everywhere, defaults filled in. */
  description: ClusterDescription;
  /** Each filer with its stack resolved (template + patch), in file order, by name as written. */
  filers: ReadonlyMap<string, ResolvedFiler>;
  /** Rules the admin may want to act on; they do not stop the description from being used. */
  warnings: Problem[];
  /** cluster.keyFile resolved against the description's folder (not read here). */
  keyFile: string | undefined;
}

/**
 * Largest cluster description read. The largest cluster the wire format can describe (64 filers
 * with 252 virtual servers each, two addresses per server) is about 2 MB of YAML; 16 MiB leaves
 * room for comments and templates and keeps a hostile file's cost bounded (YAML's document model
 * takes roughly 40 times the text in memory).
 */
export const MAX_DESCRIPTION_BYTES = 16 * 2 ** 20;

/** Reads and validates a cluster description file. Throws ConfigError (all problems) or RackstrapError (unreadable). */
export async function loadClusterFile(file: string): Promise<LoadedCluster> {
  const bytes = await readLimited(file, { maxBytes: MAX_DESCRIPTION_BYTES, what: 'cluster description' });
  return loadClusterText(bytes.toString('utf8'), file);
}

/** How many descriptions each read took: the quick one (plain data) or the full one (positions). */
export const descriptionReads = { quick: 0, full: 0 };

export interface LoadTextOptions {
  /**
   * 'full' reads with yaml's document from the start; by default the quick read is tried first
   * and the full one runs only when the quick one cannot vouch for the text or finds anything to
   * report (see yaml-quick.ts).
   */
  read?: 'full';
}

/**
 * Validates description text; `fileName` is used in problems and to resolve cluster.keyFile.
 * A clean description is read quickly (js-yaml, data only); one with any problem, error or warning,
 * is read again with yaml's document, so every problem has its position and the same wording.
 */
export function loadClusterText(text: string, fileName: string, options: LoadTextOptions = {}): LoadedCluster {
  let earlier: Checked | undefined;
  if (options.read !== 'full') {
    const quick = readYamlQuick(text);
    if (quick.ok) {
      const checked = checkData(quick.data);
      if (checked.ok && checked.findings.length === 0) {
        descriptionReads.quick++;
        return loaded(fileName, checked.normalized, []);
      }
      earlier = { data: quick.data, checked };
    }
  }
  descriptionReads.full++;
  return loadFull(text, fileName, earlier);
}

/** The quick read's data and what the checks found in it. */
interface Checked {
  data: unknown;
  checked: CheckedData;
}

type CheckedData =
  | { ok: false; issues: zcore.$ZodIssue[] }
  | { ok: true; normalized: ReturnType<typeof normalizeDescription>; findings: Finding[] };

/** The zod shape, normalization and the cross-field rules on plain data. */
function checkData(data: unknown): CheckedData {
  const parsed = ClusterDescription.safeParse(data);
  if (!parsed.success) return { ok: false, issues: parsed.error.issues };
  const normalized = normalizeDescription(parsed.data);
  // A filer whose template is missing has an unknown stack: every rule about it would only echo
  // that one mistake (no mgmt0, VsvrB cannot start there, ...), so stop at normalization then.
  const findings = normalized.unresolved.length
    ? normalized.findings
    : [...normalized.findings, ...checkCluster(normalized.description, normalized.filers)];
  return { ok: true, normalized, findings };
}

function loaded(fileName: string, normalized: ReturnType<typeof normalizeDescription>, warnings: Problem[]): LoadedCluster {
  const keyFile = normalized.description.cluster.keyFile;
  return {
    file: fileName,
    description: normalized.description,
    filers: normalized.filers,
    warnings,
    keyFile: keyFile === undefined ? undefined : path.resolve(path.dirname(fileName), keyFile),
  };
}

/**
 * The full read: yaml's document with every node's position, for the messages. `earlier` is the
 * quick read's data and findings, used again only when the document's data is the same.
 */
function loadFull(text: string, fileName: string, earlier?: Checked): LoadedCluster {
  const lineCounter = new LineCounter();
  // Repeated keys are found by checkDocument (one walk, with the alias limit), not by yaml's own
  // uniqueKeys, which is quadratic in the keys of a mapping.
  const at = (line: number, col: number) => ({ file: fileName, line, col });
  const boundProblem = (b: BoundProblem): ConfigError => new ConfigError([yamlProblemAt(b.offset, b.rule, text, lineCounter, fileName)]);
  const parsedYaml = parseDocumentBounded(text, { lineCounter, uniqueKeys: false });
  if (!parsedYaml.ok) throw boundProblem(parsedYaml.problem);
  const doc = parsedYaml.doc;
  // A syntax error stops at the first one, shown with its line: the parser's later errors mostly
  // come from where it lost its place.
  const checked = checkDocument(doc);
  const syntax = firstYamlError([...doc.errors, ...checked.duplicateKeys], text, lineCounter, fileName);
  if (syntax !== undefined) throw new ConfigError([syntax]);
  const yamlWarnings: Problem[] = doc.warnings.map((w) => ({ file: fileName, ...lineCounter.linePos(w.pos[0]), field: '(yaml)', rule: firstLine(w.message), severity: 'warning' }));
  if (text.includes('\0')) throw new ConfigError([{ ...at(1, 1), field: '(document)', rule: 'binary data, not a YAML cluster description', severity: 'error' }]);
  if (doc.contents === null) throw new ConfigError([{ ...at(1, 1), field: '(document)', rule: 'the file is empty: a cluster description has cluster, scope and filers', severity: 'error' }]);

  const locate = makeLocator(doc, lineCounter);
  const toProblem = (f: Finding): Problem => ({ file: fileName, ...locate(f.path), field: formatPath(f.path), rule: f.rule, severity: f.severity });

  if (checked.aliases) throw boundProblem(checked.aliases);
  // checkDocument bounds what aliases expand to; yaml's own count (a product per anchor) would
  // refuse some of what it allows, and only with an exception.
  const data: unknown = doc.toJS({ maxAliasCount: -1 });
  if (!isMap(doc.contents)) {
    throw new ConfigError([{ ...at(1, 1), field: '(document)', rule: 'a cluster description is a YAML mapping with cluster, scope and filers', severity: 'error' }]);
  }
  // The checks are a function of the data: when the quick read gave the same data, what they found
  // there is what they would find again (the rules' work is not done twice).
  const result = earlier !== undefined && isDeepStrictEqual(data, earlier.data) ? earlier.checked : checkData(data);
  if (!result.ok) {
    throw new ConfigError([...yamlWarnings, ...result.issues.flatMap((i) => issueFindings(i, data)).map(toProblem)].sort(byPosition));
  }
  const problems = [...yamlWarnings, ...result.findings.map(toProblem)].sort(byPosition);
  if (problems.some((p) => p.severity === 'error')) throw new ConfigError(problems);
  return loaded(fileName, result.normalized, problems);
}

function byPosition(a: Problem, b: Problem): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0);
}

// ---- zod issues -> findings -----------------------------------------------------------------

function valueAt(data: unknown, p: Path): unknown {
  let v = data;
  for (const seg of p) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

function issueFindings(issue: zcore.$ZodIssue, data: unknown): Finding[] {
  const p = issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s));
  const err = (where: Path, rule: string): Finding => ({ path: where, rule, severity: 'error' });
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysHint(p);
      return issue.keys.map((k) => err([...p, k], `unknown field "${k}"${known}`));
    }
    case 'invalid_key':
      return [err(p, `invalid name "${String(p[p.length - 1])}": ${issue.issues[0]?.message ?? issue.message}`)];
    case 'invalid_type':
      if (valueAt(data, p) === undefined) return [err(p, `required field is missing (${issue.expected})`)];
      return [err(p, `expected ${issue.expected}, got ${describe(valueAt(data, p))}`)];
    case 'invalid_value':
      return [err(p, `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`)];
    default:
      return [err(p, issue.message)];
  }
}

function describe(v: unknown): string {
  if (v === null) return 'nothing (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** A short list of the fields allowed where an unknown one was found, for the common places. */
function knownKeysHint(p: Path): string {
  const last = p[p.length - 1];
  const parent = p[0];
  const stackKeys = ' (fields: bonds, failovers, vlans, aliases, mtu)';
  if (p.length === 0) return ' (fields: cluster, scope, templates, filers, vservers, mysql)';
  if (parent === 'templates' && p.length === 2) return stackKeys;
  if (parent === 'filers' && p.length === 3 && last === 'stack') return stackKeys;
  if (parent === 'filers' && p.length === 2) return ' (fields: baseMac, nics, template, stack, addresses)';
  if (parent === 'vservers' && p.length === 2) return ' (fields: table, gateway, filers, home, addresses)';
  return '';
}

// ---- paths -> positions ---------------------------------------------------------------------

/**
 * Finds a path in the YAML document: map keys compare as text (instance 0 is the key 0), first
 * exactly, then ignoring case (interface names were lower-cased by normalize). A scalar is located
 * at its value; a mapping or list at its key, which is the line an admin looks for. A path that
 * leaves the document (a missing field) is located at the deepest node it reached.
 */
function makeLocator(doc: Document, lc: LineCounter): (p: Path) => { line: number; col: number } {
  const pos = (offset: number) => lc.linePos(offset);
  const resolve = (n: unknown): unknown => (isAlias(n) ? n.resolve(doc) : n);
  // Each mapping's keys indexed on first use: locating every finding stays linear in findings,
  // where scanning a 10,000-entry mapping per finding was quadratic.
  type Keyed = { exact: Map<string, Pair>; folded: Map<string, Pair> };
  const keyText = (k: unknown) => (isScalar(k) ? String(k.value) : String(k));
  const indexes = new WeakMap<YAMLMap, Keyed>();
  const keysOf = (m: YAMLMap): Keyed => {
    let ix = indexes.get(m);
    if (!ix) {
      ix = { exact: new Map(), folded: new Map() };
      for (const it of m.items) {
        const t = keyText(it.key);
        if (!ix.exact.has(t)) ix.exact.set(t, it);
        if (!ix.folded.has(t.toLowerCase())) ix.folded.set(t.toLowerCase(), it);
      }
      indexes.set(m, ix);
    }
    return ix;
  };
  return (p) => {
    let node = resolve(doc.contents);
    let keyNode: Node | undefined;
    for (const seg of p) {
      if (isMap(node)) {
        const text = String(seg);
        const ix = keysOf(node);
        const pair = ix.exact.get(text) ?? ix.folded.get(text.toLowerCase());
        if (!pair) break;
        keyNode = isScalar(pair.key) ? pair.key : keyNode;
        node = resolve(pair.value);
        if (node === null || node === undefined) {
          node = undefined;
          break;
        }
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)];
        if (item === undefined) break;
        keyNode = undefined;
        node = resolve(item);
      } else break;
    }
    const range = isScalar(node) && node.range ? node.range : keyNode?.range ?? (node as Node | undefined)?.range;
    if (!range) return { line: 1, col: 1 };
    return pos(range[0]);
  };
}
