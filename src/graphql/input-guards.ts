/**
 * Input guards every operation passes before anything walks its values, on every transport
 * (HTTP, SSE, graphql-ws). They refuse what would otherwise fail deep inside as INTERNAL:
 * - documents nested deeper than MAX_DOCUMENT_NESTING brackets, checked on the text before
 *   graphql's recursive-descent parser sees it (thousands of levels overflow its stack);
 * - JSON values (variables and literals) nested deeper than MAX_JSON_DEPTH: the JSON scalar,
 *   JSON.stringify and PostgreSQL's jsonb all recurse over them;
 * - strings holding U+0000 (PostgreSQL text cannot store it) or a lone UTF-16 surrogate
 *   (not Unicode text: PostgreSQL refuses its `\ud800` escape in jsonb, and writing one to
 *   a text column failed as INTERNAL too). Literal strings with lone surrogates are already syntax
 *   errors in graphql's lexer; NUL literals are refused by `noNulStringsRule`.
 * Each refusal is a top-level error with `extensions.code: "VALIDATION"`.
 */
import { GraphQLError, type ASTVisitor, type ListValueNode, type ObjectValueNode, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Deepest nesting of objects and lists inside one variable or literal. */
export const MAX_JSON_DEPTH = 32;
/** Deepest nesting of `{`, `[` and `(` in a document's text (selections, arguments, literals). */
export const MAX_DOCUMENT_NESTING = 64;

const LONE_SURROGATE = /\p{Surrogate}/u;

function validationError(message: string, path?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'VALIDATION', ...(path ? { path } : {}) } });
}

/** Why `text` cannot be stored, or null. */
function badString(text: string): string | null {
  if (text.includes('\u0000')) return 'contains the NUL character (U+0000)';
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate (not valid Unicode text)';
  return null;
}

/**
 * The first problem in a variable value: a bad string (or object key), or nesting deeper
 * than MAX_JSON_DEPTH. Recursion stops at that depth, so the walk itself is bounded.
 */
function checkVariable(value: unknown, path: string, depth = 0): GraphQLError | null {
  if (typeof value === 'string') {
    const problem = badString(value);
    return problem ? validationError(`${path} ${problem}`, path) : null;
  }
  if (value === null || typeof value !== 'object') return null;
  if (depth >= MAX_JSON_DEPTH) return validationError(`${path} nests objects and lists deeper than ${MAX_JSON_DEPTH} levels`, path);
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = checkVariable(item, `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    const keyProblem = badString(key);
    if (keyProblem) return validationError(`A key in ${path} ${keyProblem}`, path);
    const found = checkVariable(item, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return null;
}

/**
 * The deepest bracket nesting of a GraphQL document's text, counted without parsing it
 * (strings, block strings and comments skipped); stops counting once past `limit`.
 */
export function documentNesting(source: string, limit = MAX_DOCUMENT_NESTING): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < source.length; i += 1) {
    const c = source.charCodeAt(i);
    if (c === 0x23 /* # */) {
      while (i < source.length && source.charCodeAt(i) !== 0x0a && source.charCodeAt(i) !== 0x0d) i += 1;
    } else if (c === 0x22 /* " */) {
      if (source.startsWith('"""', i)) {
        // A block string ends at the first """ not escaped as \""" (its only escape).
        i += 3;
        while (i < source.length && !source.startsWith('"""', i)) i += source.startsWith('\\"""', i) ? 4 : 1;
        i += 2;
      } else {
        for (i += 1; i < source.length; i += 1) {
          const s = source.charCodeAt(i);
          if (s === 0x5c) i += 1;
          else if (s === 0x22 || s === 0x0a || s === 0x0d) break;
        }
      }
    } else if (c === 0x7b || c === 0x5b || c === 0x28 /* { [ ( */) {
      depth += 1;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x7d || c === 0x5d || c === 0x29 /* } ] ) */) {
      depth = Math.max(0, depth - 1);
    }
  }
  return deepest;
}

/** Refuses string literals holding U+0000 (see the module comment). */
export function noNulStringsRule(context: ValidationContext): ASTVisitor {
  return {
    StringValue(node) {
      if (node.value.includes('\u0000')) {
        context.reportError(new GraphQLError('Strings may not contain the NUL character (U+0000)', { nodes: [node], extensions: { code: 'VALIDATION' } }));
      }
    },
  };
}

/** Refuses object and list literals nested deeper than MAX_JSON_DEPTH (once per operation). */
export function jsonLiteralDepthRule(context: ValidationContext): ASTVisitor {
  let depth = 0;
  let reported = false;
  const into = {
    enter(node: ObjectValueNode | ListValueNode) {
      depth += 1;
      if (depth > MAX_JSON_DEPTH && !reported) {
        reported = true;
        context.reportError(
          new GraphQLError(`Object and list values may nest at most ${MAX_JSON_DEPTH} levels`, { nodes: [node], extensions: { code: 'VALIDATION' } }),
        );
      }
    },
    leave() {
      depth -= 1;
    },
  };
  return { ObjectValue: into, ListValue: into };
}

/** Refuses an operation whose variables hold a bad string or nest too deep. */
function refuseBadVariables(variables: unknown, stop: (result: { errors: GraphQLError[] }) => void): void {
  if (variables === null || typeof variables !== 'object') return;
  for (const [name, value] of Object.entries(variables)) {
    const error = checkVariable(value, `variables.${name}`);
    if (error) return stop({ errors: [error] });
  }
}

/** The envelop plugin applying every guard above. */
export const useInputGuards: Plugin = {
  onParse({ params, setParseFn }) {
    const source = typeof params.source === 'string' ? params.source : params.source.body;
    if (documentNesting(source) > MAX_DOCUMENT_NESTING) {
      setParseFn(() => {
        throw validationError(`The document nests {, [ and ( deeper than ${MAX_DOCUMENT_NESTING} levels`);
      });
    }
  },
  onValidate({ addValidationRule }) {
    addValidationRule(noNulStringsRule);
    addValidationRule(jsonLiteralDepthRule);
  },
  onExecute({ args, setResultAndStopExecution }) {
    refuseBadVariables(args.variableValues, setResultAndStopExecution);
  },
  onSubscribe({ args, setResultAndStopExecution }) {
    refuseBadVariables(args.variableValues, (result) => setResultAndStopExecution(result));
  },
};
