/**
 * The `users` filter of the Users page: the search box (a prefix of the id or of a word of
 * the name) ANDed with the filter builder's conditions. Conditions still being written (no
 * field yet) and groups left empty are left out, so adding a row does not fail the list.
 */
import type { CombinedError } from 'urql';
import { toJson, type FilterGroup, type FilterNode } from '../segments/filter-model';

function prune(group: FilterGroup): FilterGroup {
  const children = group.children
    .map((node): FilterNode | null => {
      if (node.kind === 'row') return node.field.trim() === '' ? null : node;
      const pruned = prune(node);
      return pruned.children.length === 0 ? null : pruned;
    })
    .filter((node): node is FilterNode => node !== null);
  return { ...group, children };
}

/** The filter for `users(filter:)`, or null for every user. */
export function userFilter(search: string, root: FilterGroup): Record<string, unknown> | null {
  const parts: Record<string, unknown>[] = [];
  const text = search.trim();
  if (text) parts.push({ $or: [{ id: { $autocomplete: text } }, { name: { $autocomplete: text } }] });
  const built = toJson(prune(root));
  if (Object.keys(built).length > 0) parts.push(built);
  if (parts.length === 0) return null;
  return parts.length === 1 ? parts[0]! : { $and: parts };
}

/** The API's words for a refused filter, with the place it names (`filter.plan.$gt: …`). */
export function filterErrorText(error: CombinedError): string {
  const first = error.graphQLErrors[0];
  if (!first) return error.message.replace(/^\[(GraphQL|Network)\]\s*/, '');
  const path = first.extensions?.path;
  return typeof path === 'string' && path ? `${path}: ${first.message}` : first.message;
}
