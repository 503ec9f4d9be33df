import { useId, useState } from 'react';
import { useQuery } from 'urql';
import { UserListDocument } from '../generated/graphql';
import { formatDateTime } from '../format';
import { ErrorMessage } from '../components/CampaignBits';
import { useDebounced } from '../debounce';

const PAGE_SIZE = 50;

/** Users, searched by exact id (the filter builder comes in a later increment). */
export function UsersPage() {
  const fieldId = useId();
  const [search, setSearch] = useState('');
  const id = useDebounced(search.trim(), 250);
  const [result] = useQuery({ query: UserListDocument, variables: { filter: id ? { id } : null, first: PAGE_SIZE } });
  const edges = result.data?.users.edges;
  return (
    <section>
      <h1>Users</h1>
      <div className="toolbar" role="search" aria-label="Find users">
        <div className="field">
          <label htmlFor={fieldId}>User id</label>
          <input id={fieldId} type="search" value={search} onChange={(event) => setSearch(event.target.value)} />
        </div>
      </div>
      {result.error && <ErrorMessage title="Could not load the users." error={result.error} />}
      {!edges && !result.error && <p className="muted" role="status">Loading users…</p>}
      {edges?.length === 0 && <div className="empty"><p>No users found.</p></div>}
      {edges && edges.length > 0 && (
        <table className="table">
          <caption className="visually-hidden">Users</caption>
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {edges.map(({ node }) => (
              <tr key={node.id}>
                <td data-label="Id">{node.id}</td>
                <td data-label="Name">{node.name ?? '—'}</td>
                <td data-label="Role">{node.role}</td>
                <td data-label="Created">{formatDateTime(node.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
