import { useQuery } from 'urql';
import { SegmentListDocument } from '../generated/graphql';
import { formatCount, formatDateTime } from '../format';
import { ErrorMessage } from '../components/CampaignBits';
import { Pager, countOf } from '../components/Pager';
import { Link, navigate } from '../router';
import { useCursorPages } from '../paging';

const PAGE_SIZE = 50;

/** The segments, newest last (the API's default order), paged forward. */
export function SegmentsPage() {
  const pages = useCursorPages();
  const [result] = useQuery({ query: SegmentListDocument, variables: { first: PAGE_SIZE, after: pages.cursor } });
  const connection = result.data?.segments;
  return (
    <section>
      <div className="page-header">
        <h1>Segments</h1>
        <button type="button" className="primary" onClick={() => navigate('/segments/new')}>
          New segment
        </button>
      </div>
      {result.error && <ErrorMessage title="Could not load the segments." error={result.error} />}
      {!connection && !result.error && <p className="muted" role="status">Loading segments…</p>}
      {connection?.edges.length === 0 && <div className="empty"><p>No segments yet.</p></div>}
      {connection && connection.edges.length > 0 && (
        <>
          <table className="table">
            <caption className="visually-hidden">Segments</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Size</th>
                <th scope="col">In use</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {connection.edges.map(({ node }) => (
                <tr key={node.id}>
                  <td data-label="Name">
                    <Link to={`/segments/${encodeURIComponent(node.id)}`}>{node.name}</Link>
                  </td>
                  <td data-label="Type">{node.type === 'USER' ? 'Users' : 'Channels'}</td>
                  <td data-label="Size">{formatCount(node.size)}</td>
                  <td data-label="In use">{node.inUse ? 'In use' : '—'}</td>
                  <td data-label="Created">{formatDateTime(node.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            label="Pages"
            summary={countOf(connection.totalCount, 'segment', 'segments')}
            {...pages.pager(connection.pageInfo.hasNextPage, connection.pageInfo.endCursor)}
          />
        </>
      )}
    </section>
  );
}
