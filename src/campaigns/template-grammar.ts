/**
 * The grammar of campaign templates (spec §5): literal text and `{{ path }}` tags, where a
 * path is a namespace (`user`, `receiver`, `sender`, `channel`) and one or more names
 * (`[A-Za-z_][A-Za-z0-9_]*`) joined by dots. Nothing else may stand between `{{` and `}}`:
 * no expressions, calls, operators, Eta prefixes (`=`, `~`, `-`, `_`) or quotes, so no tag
 * can ever be read as code. A lone `}}` outside a tag is literal text; every `{{` opens a tag.
 */
import { ValidationError } from '../errors.js';

/** At most this many tags per template; more is a VALIDATION error. */
export const MAX_TEMPLATE_TAGS = 100;

export type TemplateNamespace = 'user' | 'receiver' | 'sender' | 'channel';
const NAMESPACES: ReadonlySet<string> = new Set<TemplateNamespace>(['user', 'receiver', 'sender', 'channel']);

/** Names that would reach an object's prototype machinery; refused anywhere in a path. */
const FORBIDDEN_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** A plain dotted path; `\w` is ASCII only, so no look-alike letters or operators pass. */
const DOTTED_PATH = /^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$/;
/** Eta's output and whitespace-control prefixes, which this grammar does not support. */
const ETA_PREFIX = /^(?:[=~-]|_\s)/;

const OPEN = '{{';
const CLOSE = '}}';
/** Tags quoted in messages are cut to this many characters. */
const QUOTE_MAX = 60;

/** One accepted tag: its namespace, the names after it, and the canonical dotted path. */
export interface TemplateTag {
  readonly namespace: TemplateNamespace;
  readonly names: readonly string[];
  /** `namespace.name.name`, without whitespace. */
  readonly path: string;
}

/** Literal text (a string) or a tag, in template order. */
export type TemplatePart = string | TemplateTag;

/** Splits `source` into text and tags; throws ValidationError at `path` for the first bad tag. */
export function parseTemplate(source: string, path: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let pos = 0;
  let tags = 0;
  for (let open = source.indexOf(OPEN); open !== -1; open = source.indexOf(OPEN, pos)) {
    if (open > pos) parts.push(source.slice(pos, open));
    const close = source.indexOf(CLOSE, open + OPEN.length);
    if (close === -1) throw tagError(path, source, open, source.slice(open), 'is not closed with }}');
    const tagText = source.slice(open, close + CLOSE.length);
    tags += 1;
    if (tags > MAX_TEMPLATE_TAGS) {
      throw tagError(path, source, open, tagText, `is one tag too many: a template may hold at most ${MAX_TEMPLATE_TAGS} tags`);
    }
    parts.push(parseTag(source.slice(open + OPEN.length, close), (reason) => tagError(path, source, open, tagText, reason)));
    pos = close + CLOSE.length;
  }
  if (pos < source.length) parts.push(source.slice(pos));
  return parts;
}

/** Checks what stands between the braces; `fail` builds the error that names the tag. */
function parseTag(content: string, fail: (reason: string) => ValidationError): TemplateTag {
  const text = content.trim();
  if (text === '') throw fail('is empty: write a path such as {{ user.name }}');
  if (ETA_PREFIX.test(text)) {
    throw fail('is not allowed: tag prefixes (=, ~, -, _) are not supported; write a path such as {{ user.name }}');
  }
  if (!DOTTED_PATH.test(text)) {
    throw fail('is not allowed: a tag holds only a dotted path such as {{ user.name }} or {{ user.address.city }}; expressions are never evaluated');
  }
  const [namespace, ...names] = text.split('.') as [string, ...string[]];
  const forbidden = [namespace, ...names].find((name) => FORBIDDEN_NAMES.has(name));
  if (forbidden !== undefined) throw fail(`is not allowed: "${forbidden}" may not appear in a tag`);
  if (!NAMESPACES.has(namespace)) {
    throw fail(`is not allowed: "${namespace}" is not a template namespace; use user, receiver, sender or channel`);
  }
  if (names.length === 0) throw fail(`needs a field after "${namespace}", such as {{ ${namespace}.name }}`);
  return { namespace: namespace as TemplateNamespace, names, path: text };
}

/** `path: {{ tag }} at line L, column C <reason>` — the tag quoted as written, cut if long. */
function tagError(path: string, source: string, index: number, tagText: string, reason: string): ValidationError {
  const before = source.slice(0, index);
  const line = before.split('\n').length;
  const column = index - before.lastIndexOf('\n');
  const quoted = tagText.length > QUOTE_MAX ? `${tagText.slice(0, QUOTE_MAX)}…` : tagText;
  return new ValidationError(`${path}: ${quoted} at line ${line}, column ${column} ${reason}`, path);
}
