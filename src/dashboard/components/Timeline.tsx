/**
 * Messages sent over time: the API's buckets of recipients' sentAt as a bar chart in plain
 * SVG (a chart library would outweigh the whole page). Refetched from the page's live
 * counters, at most every 2 s, like the Recipients table.
 */
import { useId } from 'react';
import { useQuery } from 'urql';
import { CampaignTimelineDocument } from '../generated/graphql';
import { formatCount } from '../format';
import { useThrottledRefresh } from '../refresh';
import { ErrorMessage } from './CampaignBits';

const BUCKETS = 60;
// The drawing's own units; the SVG stretches to the card's width.
const WIDTH = 600;
const HEIGHT = 120;
const GAP = 0.15;

type Bucket = { start: string; end: string; sent: number };

// With seconds: a small campaign is sent within a minute.
const moment = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const formatMoment = (value: string) => moment.format(new Date(value));

/** A bucket's width in words: buckets of a fast campaign are fractions of a second. */
function formatSpan(bucket: Bucket): string {
  const ms = Math.max(0, Date.parse(bucket.end) - Date.parse(bucket.start));
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 6000) / 10} min`;
  return `${Math.round(ms / 360_000) / 10} h`;
}

function summaryOf(buckets: Bucket[]): string {
  const total = buckets.reduce((sum, bucket) => sum + bucket.sent, 0);
  const first = buckets[0]!;
  const last = buckets[buckets.length - 1]!;
  const peak = Math.max(...buckets.map((bucket) => bucket.sent));
  const messages = `${formatCount(total)} message${total === 1 ? '' : 's'} sent`;
  return `${messages} from ${formatMoment(first.start)} to ${formatMoment(last.end)}; at most ${formatCount(peak)} in ${formatSpan(first)}.`;
}

export function Timeline({ campaignId, status, sent }: { campaignId: string; status: string; sent: number }) {
  const ids = useId();
  const [result, reexecute] = useQuery({ query: CampaignTimelineDocument, variables: { id: campaignId, buckets: BUCKETS } });
  useThrottledRefresh(status, String(sent), () => reexecute({ requestPolicy: 'network-only' }));

  const buckets = result.data?.campaign?.timeline;
  const peak = buckets?.length ? Math.max(1, ...buckets.map((bucket) => bucket.sent)) : 1;
  const slot = buckets?.length ? WIDTH / buckets.length : WIDTH;
  return (
    <section className="card" aria-labelledby={`${ids}-heading`}>
      <h2 id={`${ids}-heading`}>Messages sent over time</h2>
      {result.error && <ErrorMessage title="Could not load the chart." error={result.error} />}
      {!buckets && !result.error && (
        <p className="muted" role="status">
          Loading chart…
        </p>
      )}
      {buckets?.length === 0 && <p className="muted">Nothing sent yet: the chart starts with delivery.</p>}
      {buckets && buckets.length > 0 && (
        <figure className="timeline">
          <svg role="img" aria-label="Messages sent over time" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none">
            <line x1={0} y1={HEIGHT - 0.5} x2={WIDTH} y2={HEIGHT - 0.5} className="timeline-axis" />
            {buckets.map((bucket, index) => {
              if (bucket.sent === 0) return null;
              const height = Math.max(1, (bucket.sent / peak) * (HEIGHT - 4));
              return (
                <rect key={bucket.start} x={index * slot + (slot * GAP) / 2} width={slot * (1 - GAP)} y={HEIGHT - height} height={height}>
                  <title>{`${formatCount(bucket.sent)} from ${formatMoment(bucket.start)}`}</title>
                </rect>
              );
            })}
          </svg>
          <div className="timeline-range muted" aria-hidden="true">
            <span>{formatMoment(buckets[0]!.start)}</span>
            <span>{formatMoment(buckets[buckets.length - 1]!.end)}</span>
          </div>
          <figcaption>{summaryOf(buckets)}</figcaption>
        </figure>
      )}
    </section>
  );
}
