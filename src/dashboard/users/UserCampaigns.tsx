/**
 * A user's page: the campaigns that reached them (their recipient rows across campaigns,
 * newest first), with what happened to each and the channel the message went to.
 */
import { useId } from 'react';
import { useQuery } from 'urql';
import { UserCampaignsDocument } from '../generated/graphql';
import { formatDateTime } from '../format';
import { ErrorMessage } from '../components/CampaignBits';
import { Pager, countOf } from '../components/Pager';
import { ErrorCell, RecipientStatusBadge } from '../components/Recipients';
import { useCursorPages } from '../paging';
import { Link } from '../router';
import { channelPath } from './UserChannels';

const PAGE_SIZE = 20;

/** The recipient rows of `userId` across campaigns, newest first. */
export function UserCampaigns({ userId }: { userId: string }) {
  const ids = useId();
  const pages = useCursorPages();
  const [result] = useQuery({
    query: UserCampaignsDocument,
    variables: { filter: { userId: { eq: userId } }, first: PAGE_SIZE, after: pages.cursor },
  });
  const connection = result.data?.recipients;
  return (
    <section className="card" aria-labelledby={`${ids}-heading`}>
      <h2 id={`${ids}-heading`}>Campaigns</h2>
      {result.error && <ErrorMessage title="Could not load the campaigns." error={result.error} />}
      {!connection && !result.error && (
        <p className="muted" role="status">
          Loading campaigns…
        </p>
      )}
      {connection?.edges.length === 0 && <p className="muted">No campaign has reached this user.</p>}
      {connection && connection.edges.length > 0 && (
        <>
          <table className="table">
            <caption className="visually-hidden">Campaigns that reached the user</caption>
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col">Status</th>
                <th scope="col">Sent at</th>
                <th scope="col">Read at</th>
                <th scope="col">Channel</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {connection.edges.map(({ node }) => (
                <tr key={node.id}>
                  <td data-label="Campaign">
                    <Link to={`/campaigns/${encodeURIComponent(node.campaignId)}`}>{node.campaign.name}</Link>
                  </td>
                  <td data-label="Status">
                    <RecipientStatusBadge status={node.status} />
                  </td>
                  <td data-label="Sent at">{formatDateTime(node.sentAt)}</td>
                  <td data-label="Read at">{formatDateTime(node.readAt)}</td>
                  <td data-label="Channel" className="wrap-anywhere">
                    {node.message ? <Link to={channelPath(node.message.channelCid)}>{node.message.channelCid}</Link> : '—'}
                  </td>
                  <ErrorCell error={node.error} />
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            label="Campaign pages"
            summary={countOf(connection.totalCount, 'campaign', 'campaigns')}
            {...pages.pager(connection.pageInfo.hasNextPage, connection.pageInfo.endCursor)}
          />
        </>
      )}
    </section>
  );
}
