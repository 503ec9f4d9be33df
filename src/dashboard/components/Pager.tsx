/** Previous/next paging under a table, with the total: the pager of every list of the dashboard. */
import { formatCount } from '../format';

interface PagerProps {
  /** The accessible name of the pager's navigation landmark. */
  label: string;
  /** How many items match, across all pages. */
  total: number;
  /** What the items are, singular and plural (`campaign`, `campaigns`). */
  noun: [string, string];
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious(): void;
  onNext(): void;
}

export function Pager({ label, total, noun, hasPrevious, hasNext, onPrevious, onNext }: PagerProps) {
  return (
    <nav className="pager" aria-label={label}>
      <span className="muted">
        {formatCount(total)} {total === 1 ? noun[0] : noun[1]}
      </span>
      <button type="button" disabled={!hasPrevious} onClick={onPrevious}>
        Previous page
      </button>
      <button type="button" disabled={!hasNext} onClick={onNext}>
        Next page
      </button>
    </nav>
  );
}
