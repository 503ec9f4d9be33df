/**
 * Users (/users): find senders and test users by a search on name or id and by the segment
 * editor's visual filter builder, both applied together; each user links to their page.
 */
import { useId, useMemo, useState } from 'react';
import { useQuery } from 'urql';
import { UserSearchDocument } from '../generated/graphql';
import { formatDateTime } from '../format';
import { ErrorMessage } from '../components/CampaignBits';
import { Pager, countOf } from '../components/Pager';
import { FilterBuilder } from '../segments/FilterBuilder';
import { fromJson, type FilterGroup } from '../segments/filter-model';
import { filterErrorText, userFilter } from '../users/user-filter';
import { useDebounced } from '../debounce';
import { useCursorPages } from '../paging';
import { Link } from '../router';

const PAGE_SIZE = 50;

const emptyRoot = (): FilterGroup => (fromJson({}) as { ok: true; root: FilterGroup }).root;

/** The users matching the search and the builder's conditions, paged, with their count. */
export function UsersPage() {
  const ids = useId();
  const [search, setSearch] = useState('');
  const [root, setRoot] = useState(emptyRoot);
  const filterKey = useDebounced(JSON.stringify(userFilter(search, root)), 300);
  const filter = useMemo(() => JSON.parse(filterKey) as unknown, [filterKey]);
  const pages = useCursorPages(filterKey);
  const [result] = useQuery({ query: UserSearchDocument, variables: { filter, first: PAGE_SIZE, after: pages.cursor } });
  const connection = result.data?.users;
  return (
    <section>
      <h1>Users</h1>
      <div className="toolbar" role="search" aria-label="Find users">
        <div className="field search-field">
          <label htmlFor={`${ids}-search`}>Search users</label>
          <input
            id={`${ids}-search`}
            type="search"
            autoComplete="off"
            placeholder="Name or id"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
          />
        </div>
      </div>
      <section className="card" aria-labelledby={`${ids}-filter`}>
        <h2 id={`${ids}-filter`}>Filter</h2>
        <p className="muted">
          Conditions as in a segment filter, on built-in fields (<code>id</code>, <code>name</code>, <code>role</code>, <code>language</code>,{' '}
          <code>teams</code>, <code>created_at</code>) or custom ones, nested with dots.
        </p>
        <FilterBuilder root={root} onChange={setRoot} />
      </section>
      {result.error && <ErrorMessage title="Could not load the users." error={{ message: filterErrorText(result.error) }} />}
      {!connection && !result.error && (
        <p className="muted" role="status">
          Loading users…
        </p>
      )}
      {connection?.edges.length === 0 && !result.error && (
        <div className="empty">
          <p>{filter ? 'No users match.' : 'No users yet.'}</p>
        </div>
      )}
      {connection && connection.edges.length > 0 && !result.error && (
        <>
          <table className="table">
            <caption className="visually-hidden">Users</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Id</th>
                <th scope="col">Role</th>
                <th scope="col">Teams</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {connection.edges.map(({ node }) => (
                <tr key={node.id}>
                  <td data-label="Name">
                    <Link to={`/users/${encodeURIComponent(node.id)}`}>{node.name ?? node.id}</Link>
                  </td>
                  <td data-label="Id" className="wrap-anywhere">
                    {node.id}
                  </td>
                  <td data-label="Role">{node.role}</td>
                  <td data-label="Teams">{node.teams.length ? node.teams.join(', ') : '—'}</td>
                  <td data-label="Created">{formatDateTime(node.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            label="User pages"
            summary={countOf(connection.totalCount, 'user', 'users')}
            {...pages.pager(connection.pageInfo.hasNextPage, connection.pageInfo.endCursor)}
          />
        </>
      )}
    </section>
  );
}
