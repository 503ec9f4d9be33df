/**
 * Query cost guards: a document may nest at most 12 levels of selections and select at
 * most 200 fields in all (fragments counted where they are spread).
 */
import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext } from 'graphql';

export const MAX_DEPTH = 12;
export const MAX_FIELDS = 200;

function measure(
  set: SelectionSetNode,
  fragments: Record<string, FragmentDefinitionNode>,
  depth: number,
  visiting: Set<string>,
): { depth: number; fields: number } {
  let maxDepth = depth;
  let fields = 0;
  for (const selection of set.selections) {
    let inner: { depth: number; fields: number } | undefined;
    if (selection.kind === Kind.FIELD) {
      fields += 1;
      if (selection.selectionSet) inner = measure(selection.selectionSet, fragments, depth + 1, visiting);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      inner = measure(selection.selectionSet, fragments, depth, visiting);
    } else {
      const fragment = fragments[selection.name.value];
      if (!fragment || visiting.has(fragment.name.value)) continue; // cycles are reported by graphql's own rules
      visiting.add(fragment.name.value);
      inner = measure(fragment.selectionSet, fragments, depth, visiting);
      visiting.delete(fragment.name.value);
    }
    if (inner) {
      maxDepth = Math.max(maxDepth, inner.depth);
      fields += inner.fields;
    }
    if (fields > MAX_FIELDS * 10) break; // enough to reject; stop walking huge documents
  }
  return { depth: maxDepth, fields };
}

/** Validation rule rejecting operations over the depth or field limits. */
export function queryLimitsRule(context: ValidationContext): ASTVisitor {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of context.getDocument().definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  return {
    OperationDefinition(operation) {
      const { depth, fields } = measure(operation.selectionSet, fragments, 1, new Set());
      if (depth > MAX_DEPTH) {
        context.reportError(new GraphQLError(`Query is nested ${depth} levels deep; the limit is ${MAX_DEPTH}`, { nodes: [operation], extensions: { code: 'VALIDATION' } }));
      }
      if (fields > MAX_FIELDS) {
        context.reportError(new GraphQLError(`Query selects more than ${MAX_FIELDS} fields`, { nodes: [operation], extensions: { code: 'VALIDATION' } }));
      }
    },
  };
}
