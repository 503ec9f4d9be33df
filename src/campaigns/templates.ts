/**
 * Campaign templates (spec §5), rendered by Eta. Eta compiles tag contents into JavaScript,
 * so Eta never parses a template here: `PathOnlyEta.parse` hands it the output of our own
 * grammar (template-grammar.ts) — literal text as escaped string literals and every tag as a
 * call of one custom tag whose argument is the dotted path as a JSON string literal. The
 * compiled function can therefore only append text and look values up in the data.
 *
 * Lookup: `user.`/`receiver.`/`sender.` read `id`, `name`, `role`, `language` from the
 * person, any other name (or `custom.` explicitly) reads the person's custom JSON along the
 * dotted path; `channel.` reads `id`, `type`, `cid`, else custom data. Only own properties of
 * plain objects are read. Missing values and null render as '', objects and arrays as JSON.
 */
import { Eta } from 'eta/core';
import { parseTemplate, type TemplatePart } from './template-grammar.js';

/** A user or sender as templates see it. */
export interface TemplatePerson { id: string; name: string | null; role: string; language: string | null; custom: unknown }
/** A channel as templates see it. */
export interface TemplateChannel { id: string; type: string; cid: string; custom: unknown }
/** What one render can read; `user` is set only in 1:1 conversations (else `user.*` is ''). */
export interface TemplateData { user?: TemplatePerson | null; sender?: TemplatePerson | null; channel?: TemplateChannel | null }

/** A template checked and compiled once; `render` runs once per recipient. */
export interface CompiledTemplate {
  readonly source: string;
  /** The dotted paths of its tags (`user.id`, `receiver.name`, …), in order. */
  readonly paths: readonly string[];
  render(data: TemplateData): string;
}

/** Throws ValidationError at `path`, its message naming the offending tag and its position. */
export function validateTemplate(source: string, path: string): void {
  parseTemplate(source, path);
}

/** Validates (same errors as validateTemplate) and compiles once. */
export function compileTemplate(source: string, path: string): CompiledTemplate {
  const paths = parseTemplate(source, path).flatMap((part) => (typeof part === 'string' ? [] : [part.path]));
  const fn = eta.compile(source);
  return { source, paths, render: (data) => eta.render(fn, data) };
}

/** The function body Eta generates for `source` (for review and tests); validates first. */
export function templateCode(source: string, path: string): string {
  parseTemplate(source, path);
  return eta.compileToString(source);
}

type RecordName = keyof TemplateData;
/** Where a path points: the record, a column (or the custom JSON when null), then keys. */
interface Lookup { readonly record: RecordName; readonly column: string | null; readonly keys: readonly string[] }

const RECORDS: ReadonlyMap<string, RecordName> = new Map<string, RecordName>([
  ['user', 'user'], ['receiver', 'user'], ['sender', 'sender'], ['channel', 'channel'],
]);
const COLUMNS: { readonly [R in RecordName]: ReadonlySet<string> } = {
  user: new Set(['id', 'name', 'role', 'language']),
  sender: new Set(['id', 'name', 'role', 'language']),
  channel: new Set(['id', 'type', 'cid']),
};

/** Parsed paths, shared by every template; paths come from validated templates only. */
const lookups = new Map<string, Lookup | null>();
const LOOKUP_CACHE_MAX = 10_000;

function lookupOf(path: string): Lookup | null {
  let lookup = lookups.get(path);
  if (lookup !== undefined) return lookup;
  const [namespace = '', first, ...rest] = path.split('.');
  const record = RECORDS.get(namespace);
  if (record === undefined || first === undefined) lookup = null;
  else if (COLUMNS[record].has(first)) lookup = { record, column: first, keys: rest };
  else if (first === 'custom') lookup = { record, column: null, keys: rest };
  else lookup = { record, column: null, keys: [first, ...rest] };
  if (lookups.size >= LOOKUP_CACHE_MAX) lookups.clear();
  lookups.set(path, lookup);
  return lookup;
}

function isPlainObject(value: unknown): value is { readonly [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads an own property only, never the prototype chain. */
function own(value: unknown, key: string): unknown {
  return isPlainObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

/** The value a path names in `data`, or undefined when any step is missing. */
function read(lookup: Lookup, data: unknown): unknown {
  const record = own(data, lookup.record);
  let value = own(record, lookup.column ?? 'custom');
  for (const key of lookup.keys) value = own(value, key);
  return value;
}

/** Text for a value: '' for missing/null, JSON for objects and arrays, String() otherwise. */
function toText(value: unknown): string {
  switch (typeof value) {
    case 'string': return value;
    case 'number': case 'boolean': case 'bigint': return String(value);
    case 'object': {
      if (value === null) return '';
      try {
        return JSON.stringify(value) ?? '';
      } catch {
        return '';
      }
    }
    default: return '';
  }
}

/** The custom tag every template tag becomes: renders the value of `path` in `data`. */
function renderPath(path: string, data: unknown): string {
  const lookup = lookupOf(path);
  return lookup === null ? '' : toText(read(lookup, data));
}

/** The only custom tag; literal text and this tag are all a compiled template contains. */
const PATH_TAG = '@path';

/** Text as the body of a single-quoted JS string literal (Eta wraps it in '…' verbatim). */
function stringLiteralBody(text: string): string {
  return JSON.stringify(text).slice(1, -1).replace(/'/g, "\\'");
}

/** Our parts as Eta's AST: escaped strings and custom-tag nodes holding the dotted path. */
function toEtaAst(parts: readonly TemplatePart[]): ReturnType<Eta['parse']> {
  return parts.map((part) => (typeof part === 'string' ? stringLiteralBody(part) : { t: PATH_TAG, val: part.path }));
}

/**
 * Eta whose parser is our grammar: it throws on any tag that is not a plain path, so even a
 * direct `compile` of a hostile template cannot produce code; Eta's exec/raw/interpolate
 * prefixes and `<% %>` never reach its code generator.
 */
class PathOnlyEta extends Eta {
  override parse: Eta['parse'] = (source) => toEtaAst(parseTemplate(source, 'template'));
}

const eta = new PathOnlyEta({
  tags: ['{{', '}}'],
  autoEscape: false,
  autoFilter: false,
  autoTrim: false,
  rmWhitespace: false,
  useWith: false,
  functionHeader: '"use strict";',
  customTags: { [PATH_TAG]: renderPath },
});
