/** Previous/next paging under a table, with the total: the pager of every list of the dashboard. */
import { formatCount } from '../format';

/** `12 campaigns`, `1 campaign`. */
export function countOf(total: number, singular: string, plural: string): string {
  return `${formatCount(total)} ${total === 1 ? singular : plural}`;
}

interface PagerProps {
  /** The accessible name of the pager's navigation landmark. */
  label: string;
  /** What the pages hold, in words (`12 campaigns`: see countOf). */
  summary: string;
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious(): void;
  onNext(): void;
}

export function Pager({ label, summary, hasPrevious, hasNext, onPrevious, onNext }: PagerProps) {
  return (
    <nav className="pager" aria-label={label}>
      <span className="muted">{summary}</span>
      <button type="button" disabled={!hasPrevious} onClick={onPrevious}>
        Previous page
      </button>
      <button type="button" disabled={!hasNext} onClick={onNext}>
        Next page
      </button>
    </nav>
  );
}
