/**
 * What one operation may ask for, checked before anything runs. Each refusal is a top-level
 * error with `extensions: { code: 'VALIDATION', limit }`, `limit` naming the setting
 * (`maxTokens`, `maxDepth`, `maxAliases`, `maxDirectives`, `maxCost`, `maxSubscriptionCost`;
 * README, Configuration).
 *
 * - graphql-armor bounds the document: tokens while parsing, then depth, aliases and
 *   directives as validation rules (so `yoga.getEnveloped`'s parse/validate on the WebSocket
 *   apply them too). Introspection's `__schema` is left out of the depth: the standard
 *   introspection query nests a dozen `ofType` levels, and graphql's own
 *   MaxIntrospectionDepthRule (in its specified rules) already stops the nesting that fans out.
 * - The cost is ours, counted with graphql-query-complexity: every field costs 1, and a field
 *   that pages (`first`/`last`) multiplies the cost of everything below it by the page it
 *   asks for (the default page when it names none). armor's own cost limit is switched off:
 *   it multiplies only a literal `first`, so `first: $n` and an omitted `first` (100 rows)
 *   count as one row, it compounds 1.5× per level instead of following list sizes, and it has
 *   one limit for every operation type. Variables are only known at execution, so the cost is
 *   checked as execution starts (`onExecute`/`onSubscribe`, which the WebSocket path shares),
 *   not as a cached validation rule. Subscriptions re-run their selection on every event, so
 *   they get the far smaller `maxSubscriptionCost`.
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { GraphQLError, getOperationAST, getVariableValues, type ExecutionArgs, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { QueryLimits } from '../config.js';
import { DEFAULT_PAGE_SIZE } from '../filters/json-page.js';

function refusal(message: string, limit: keyof QueryLimits): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'VALIDATION', limit } });
}

/**
 * armor's onReject callback: report a coded error instead of armor's own "Syntax Error: …".
 * Validation rules get a context to report to; the token counter runs inside the parser
 * (no context), so there the error is thrown and yoga returns it as the parse error.
 */
function refuse(limit: keyof QueryLimits) {
  return (context: ValidationContext | null, error: GraphQLError) => {
    const coded = refusal(error.message.replace(/^Syntax Error: /, ''), limit);
    if (!context) throw coded;
    context.reportError(coded);
  };
}

/** Every field costs 1; a paging field multiplies its own and its selection's cost by its page size. */
const listSizeEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  // Served from the schema in memory; bounded by the token and introspection-depth rules.
  if (field.name === '__schema' || field.name === '__type') return 0;
  const pages = field.args.some((arg) => arg.name === 'first' || arg.name === 'last');
  if (!pages) return 1 + childComplexity;
  const asked = [args.first, args.last].filter((n): n is number => typeof n === 'number');
  const size = asked.length ? Math.max(0, ...asked) : DEFAULT_PAGE_SIZE;
  return size * (1 + childComplexity);
};

/** What the cost check found for one operation and its variables: nothing to refuse, or why it is refused. */
type CostOutcome = { refused: false } | { refused: true; message: string; limit: keyof QueryLimits };

/** The cost of the operation `args` will run, or a refusal when it is over its limit. */
function costOutcome(args: ExecutionArgs, limits: QueryLimits): CostOutcome {
  const operation = getOperationAST(args.document, args.operationName);
  if (!operation) return { refused: false }; // execution reports the missing or ambiguous operation
  const limit = operation.operation === 'subscription' ? 'maxSubscriptionCost' : 'maxCost';
  const variables = (args.variableValues ?? {}) as Record<string, unknown>;
  // Variables that do not fit their types: execution reports them as usual.
  if (getVariableValues(args.schema, operation.variableDefinitions ?? [], variables).errors) return { refused: false };
  let cost: number;
  try {
    cost = getComplexity({ schema: args.schema, query: args.document, operationName: operation.name?.value, variables, estimators: [listSizeEstimator] });
  } catch (error) {
    // A document whose fragments expand past the counter's node budget (10,000 selections).
    if (error instanceof GraphQLError) return { refused: true, message: error.message, limit };
    throw error;
  }
  const max = limits[limit];
  if (cost <= max) return { refused: false };
  const kind = operation.operation === 'subscription' ? 'Subscription' : 'Query';
  return { refused: true, message: `${kind} cost limit of ${max} exceeded, found ${cost} (each field counts 1, times the page size of every first/last above it).`, limit };
}

const COSTS_PER_DOCUMENT = 64;
const COST_KEY_MAX = 1024;

/**
 * The cost check of `limits`, remembering its outcomes per parsed document (yoga's parse
 * cache hands the same document object to every request with the same text), then per
 * operation name and variables: a dashboard polling one operation is counted once, not on
 * every request (the count walks the whole document: ~0.3 ms). Only small variable sets are
 * kept (mutations are counted every time), at most COSTS_PER_DOCUMENT per document (the oldest dropped first); a document's
 * entry goes with the document.
 */
function costChecker(limits: QueryLimits): (args: ExecutionArgs) => GraphQLError | null {
  const costs = new WeakMap<object, Map<string, CostOutcome>>();
  const outcomeOf = (args: ExecutionArgs): CostOutcome => {
    // Mutations are seldom repeated and their variables can be large: not worth a key.
    if (getOperationAST(args.document, args.operationName)?.operation === 'mutation') return costOutcome(args, limits);
    let key: string | undefined;
    try {
      key = `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
    } catch {
      key = undefined; // not JSON (a BigInt, a cycle): counted without the cache
    }
    if (key === undefined || key.length > COST_KEY_MAX) return costOutcome(args, limits);
    let byVariables = costs.get(args.document);
    if (!byVariables) costs.set(args.document, (byVariables = new Map()));
    const known = byVariables.get(key);
    if (known) return known;
    const outcome = costOutcome(args, limits);
    if (byVariables.size >= COSTS_PER_DOCUMENT) byVariables.delete(byVariables.keys().next().value!);
    byVariables.set(key, outcome);
    return outcome;
  };
  return (args) => {
    const outcome = outcomeOf(args);
    return outcome.refused ? refusal(outcome.message, outcome.limit) : null;
  };
}

/** The yoga/Envelop plugins enforcing `limits`. */
export function armorPlugins(limits: QueryLimits): Plugin[] {
  const armor = EnvelopArmorPlugin({
    maxTokens: { n: limits.maxTokens, onReject: [refuse('maxTokens')], propagateOnRejection: false },
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, onReject: [refuse('maxDepth')], propagateOnRejection: false },
    maxAliases: { n: limits.maxAliases, onReject: [refuse('maxAliases')], propagateOnRejection: false },
    maxDirectives: { n: limits.maxDirectives, onReject: [refuse('maxDirectives')], propagateOnRejection: false },
    costLimit: { enabled: false },
    // The schema is public (schema.graphql, introspection), so "Did you mean …" hides nothing.
    blockFieldSuggestion: { enabled: false },
  });
  const costRefusal = costChecker(limits);
  const cost: Plugin = {
    onExecute({ args, setResultAndStopExecution }) {
      const refused = costRefusal(args);
      if (refused) setResultAndStopExecution({ errors: [refused] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const refused = costRefusal(args);
      if (refused) setResultAndStopExecution({ errors: [refused] });
    },
  };
  return [armor as Plugin, cost];
}
