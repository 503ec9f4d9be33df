/** A user's page: the channels they are a member of, newest first, paged. */
import { useId } from 'react';
import { useQuery } from 'urql';
import { UserChannelsDocument } from '../generated/graphql';
import { formatCount, formatDateTime } from '../format';
import { ErrorMessage } from '../components/CampaignBits';
import { Pager, countOf } from '../components/Pager';
import { useCursorPages } from '../paging';
import { Link } from '../router';

const PAGE_SIZE = 20;

/** A channel page's path; the cid's colon (and anything else) is URI-encoded. */
export const channelPath = (cid: string) => `/channels/${encodeURIComponent(cid)}`;

/** The channels `userId` is a member of. */
export function UserChannels({ userId }: { userId: string }) {
  const ids = useId();
  const pages = useCursorPages();
  const [result] = useQuery({
    query: UserChannelsDocument,
    variables: { filter: { members: { $in: [userId] } }, first: PAGE_SIZE, after: pages.cursor },
  });
  const connection = result.data?.channels;
  return (
    <section className="card" aria-labelledby={`${ids}-heading`}>
      <h2 id={`${ids}-heading`}>Channels</h2>
      {result.error && <ErrorMessage title="Could not load the channels." error={result.error} />}
      {!connection && !result.error && (
        <p className="muted" role="status">
          Loading channels…
        </p>
      )}
      {connection?.edges.length === 0 && <p className="muted">Not a member of any channel.</p>}
      {connection && connection.edges.length > 0 && (
        <>
          <table className="table">
            <caption className="visually-hidden">Channels</caption>
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Type</th>
                <th scope="col">Members</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {connection.edges.map(({ node }) => (
                <tr key={node.cid}>
                  <td data-label="Channel" className="wrap-anywhere">
                    <Link to={channelPath(node.cid)}>{node.cid}</Link>
                  </td>
                  <td data-label="Type">{node.type}</td>
                  <td data-label="Members">{formatCount(node.memberCount)}</td>
                  <td data-label="Created">{formatDateTime(node.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            label="Channel pages"
            summary={countOf(connection.totalCount, 'channel', 'channels')}
            {...pages.pager(connection.pageInfo.hasNextPage, connection.pageInfo.endCursor)}
          />
        </>
      )}
    </section>
  );
}
