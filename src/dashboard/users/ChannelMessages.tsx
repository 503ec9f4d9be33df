/**
 * A channel's messages, newest first and paged toward older ones: the API lists them oldest
 * first, so each page is the `last` ones `before` the oldest of the page shown before it.
 */
import { useId } from 'react';
import { useQuery } from 'urql';
import { ChannelMessagesDocument } from '../generated/graphql';
import { formatDateTime } from '../format';
import { ErrorMessage } from '../components/CampaignBits';
import { Pager, countOf } from '../components/Pager';
import { useCursorPages } from '../paging';
import { Link } from '../router';

const PAGE_SIZE = 25;

/** The messages of channel `cid`, newest first. */
export function ChannelMessages({ cid }: { cid: string }) {
  const ids = useId();
  const pages = useCursorPages(cid);
  const [result] = useQuery({ query: ChannelMessagesDocument, variables: { channelCid: cid, last: PAGE_SIZE, before: pages.cursor } });
  const connection = result.data?.messages;
  const newestFirst = connection ? [...connection.edges].reverse() : [];
  return (
    <section className="card" aria-labelledby={`${ids}-heading`}>
      <h2 id={`${ids}-heading`}>Messages</h2>
      {result.error && <ErrorMessage title="Could not load the messages." error={result.error} />}
      {!connection && !result.error && (
        <p className="muted" role="status">
          Loading messages…
        </p>
      )}
      {connection?.edges.length === 0 && <p className="muted">No messages in this channel.</p>}
      {newestFirst.length > 0 && connection && (
        <>
          <ol className="message-list" aria-label="Messages, newest first">
            {newestFirst.map(({ node }) => (
              <li key={node.id}>
                <p className="message-meta">
                  <strong>
                    {node.userId ? <Link to={`/users/${encodeURIComponent(node.userId)}`}>{node.user?.name ?? node.userId}</Link> : 'Deleted user'}
                  </strong>{' '}
                  <span className="muted">{formatDateTime(node.createdAt)}</span>
                  {node.campaignId && (
                    <>
                      {' · '}
                      <Link to={`/campaigns/${encodeURIComponent(node.campaignId)}`}>from a campaign</Link>
                    </>
                  )}
                </p>
                <p className="message">{node.text}</p>
              </li>
            ))}
          </ol>
          <Pager
            label="Message pages"
            summary={countOf(connection.totalCount, 'message', 'messages')}
            {...pages.pager(connection.pageInfo.hasPreviousPage, connection.pageInfo.startCursor)}
          />
        </>
      )}
    </section>
  );
}
