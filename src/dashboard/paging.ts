/**
 * Forward paging by cursor for a list under the shared Pager: the cursors of the pages seen
 * so far, back to the first page whenever `key` (the list's filter, say) changes.
 */
import { useState } from 'react';

export interface CursorPages {
  /** The cursor the current page starts after (null: the first page). */
  cursor: string | null;
  /** Pager props for a page that may have a next one starting after `nextCursor`. */
  pager(hasNext: boolean, nextCursor: string | null | undefined): {
    hasPrevious: boolean;
    hasNext: boolean;
    onPrevious(): void;
    onNext(): void;
  };
}

/** The current page's cursor and the Pager's props, reset to the first page when `key` changes. */
export function useCursorPages(key = ''): CursorPages {
  const [state, setState] = useState<{ key: string; cursors: (string | null)[] }>({ key, cursors: [null] });
  // A new key forgets the old pages (set while rendering, so coming back to an earlier key
  // starts from its first page too, and no query runs with a stale cursor).
  if (state.key !== key) setState({ key, cursors: [null] });
  const cursors = state.key === key ? state.cursors : [null];
  return {
    cursor: cursors[cursors.length - 1] ?? null,
    pager: (hasNext, nextCursor) => ({
      hasPrevious: cursors.length > 1,
      hasNext,
      onPrevious: () => setState({ key, cursors: cursors.slice(0, -1) }),
      onNext: () => setState({ key, cursors: [...cursors, nextCursor ?? null] }),
    }),
  };
}
