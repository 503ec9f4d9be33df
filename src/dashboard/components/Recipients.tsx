/**
 * The campaign page's Recipients: who the campaign reached and how, filtered by status and
 * paged. Refreshed when the live counters change, at most every 2 s: a running campaign
 * changes them four times a second and the table need not follow each step.
 */
import { useId, useState } from 'react';
import { useQuery } from 'urql';
import { CampaignRecipientsDocument, type RecipientStatus } from '../generated/graphql';
import { formatDateTime } from '../format';
import { useThrottledRefresh } from '../refresh';
import { ErrorMessage } from './CampaignBits';
import { Pager, countOf } from './Pager';
import { useCursorPages } from '../paging';

const PAGE_SIZE = 25;
const SORT = [{ field: 'CREATED_AT' as const, direction: 'ASC' as const }];

export const RECIPIENT_STATUS_LABELS: Record<RecipientStatus, string> = {
  PENDING: 'Pending',
  SENT: 'Sent',
  ERRORED: 'Errored',
  SKIPPED: 'Skipped',
};
const RECIPIENT_STATUSES = Object.keys(RECIPIENT_STATUS_LABELS) as RecipientStatus[];

/** A recipient's status as a coloured badge. */
export function RecipientStatusBadge({ status }: { status: RecipientStatus }) {
  return <span className={`badge badge-recipient-${status.toLowerCase()}`}>{RECIPIENT_STATUS_LABELS[status]}</span>;
}

/** The Error cell of a recipient row: its error text, highlighted, or a dash. */
export function ErrorCell({ error }: { error?: string | null }) {
  return (
    <td data-label="Error" className={error ? 'recipient-error' : undefined}>
      {error ?? '—'}
    </td>
  );
}

/** `status` and `counters` of the live campaign: the table refreshes as they change. */
export function Recipients({ campaignId, status: campaignStatus, counters }: { campaignId: string; status: string; counters: string }) {
  const ids = useId();
  const [status, setStatus] = useState<RecipientStatus | ''>('');
  // Back to the first page when the status filter changes.
  const pages = useCursorPages(status);
  const after = pages.cursor;
  const [result, reexecute] = useQuery({
    query: CampaignRecipientsDocument,
    variables: { id: campaignId, filter: status ? { status: { eq: status } } : null, sort: SORT, first: PAGE_SIZE, after },
  });
  useThrottledRefresh(campaignStatus, counters, () => reexecute({ requestPolicy: 'network-only' }));

  const connection = result.data?.campaign?.recipients;
  return (
    <section className="card" aria-labelledby={`${ids}-heading`}>
      <div className="section-header">
        <h2 id={`${ids}-heading`}>Recipients</h2>
        <div className="field">
          <label htmlFor={`${ids}-status`}>Recipient status</label>
          <select
            id={`${ids}-status`}
            value={status}
            onChange={(event) => {
              setStatus(event.target.value as RecipientStatus | '');
            }}
          >
            <option value="">All</option>
            {RECIPIENT_STATUSES.map((value) => (
              <option key={value} value={value}>
                {RECIPIENT_STATUS_LABELS[value]}
              </option>
            ))}
          </select>
        </div>
      </div>

      {result.error && <ErrorMessage title="Could not load the recipients." error={result.error} />}
      {!connection && !result.error && (
        <p className="muted" role="status">
          Loading recipients…
        </p>
      )}
      {connection && connection.edges.length === 0 && (
        <p className="muted">
          {status
            ? `No ${RECIPIENT_STATUS_LABELS[status].toLowerCase()} recipients.`
            : 'No recipients yet: they are written when delivery begins.'}
        </p>
      )}
      {connection && connection.edges.length > 0 && (
        <>
          <table className="table recipients-table">
            <caption className="visually-hidden">Recipients</caption>
            <thead>
              <tr>
                <th scope="col">User or channel</th>
                <th scope="col">Status</th>
                <th scope="col">Sent at</th>
                <th scope="col">Read at</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {connection.edges.map(({ node }) => (
                <tr key={node.id}>
                  <td data-label="Recipient" className="recipient-target">
                    {node.channelCid ?? (node.user?.name ? `${node.user.name} (${node.userId})` : (node.userId ?? 'deleted user'))}
                  </td>
                  <td data-label="Status">
                    <RecipientStatusBadge status={node.status} />
                  </td>
                  <td data-label="Sent at">{formatDateTime(node.sentAt)}</td>
                  <td data-label="Read at">{formatDateTime(node.readAt)}</td>
                  <ErrorCell error={node.error} />
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            label="Recipient pages"
            summary={countOf(connection.totalCount, 'recipient', 'recipients')}
            {...pages.pager(connection.pageInfo.hasNextPage, connection.pageInfo.endCursor)}
          />
        </>
      )}
    </section>
  );
}
