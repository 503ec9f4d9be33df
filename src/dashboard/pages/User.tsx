/** A user's page (/users/:id): the profile, their channels and the campaigns that reached them. */
import { useQuery } from 'urql';
import { UserProfileDocument } from '../generated/graphql';
import { formatDateTime } from '../format';
import { ErrorMessage } from '../components/CampaignBits';
import { NotFound } from '../components/NotFound';
import { UserChannels } from '../users/UserChannels';
import { UserCampaigns } from '../users/UserCampaigns';
import { Link } from '../router';

/** Custom data as `address.city` → `"Delft"` pairs, the names a filter uses. */
function customFields(value: unknown, prefix = ''): [string, string][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [[prefix, JSON.stringify(value)]];
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0 && prefix) return [[prefix, '{}']];
  return entries.flatMap(([key, inner]) => customFields(inner, prefix ? `${prefix}.${key}` : key));
}

/** The user `id`, or NotFound when no user has it. */
export function UserPage({ id }: { id: string }) {
  const [result] = useQuery({ query: UserProfileDocument, variables: { id } });
  const user = result.data?.user;
  if (result.error) return <ErrorMessage title="Could not load the user." error={result.error} />;
  if (!result.data) {
    return (
      <p className="muted" role="status">
        Loading user…
      </p>
    );
  }
  if (!user) return <NotFound what="User" id={id} listPath="/users" />;
  const custom = customFields(user.custom);
  return (
    <section>
      <p className="breadcrumb">
        <Link to="/users">Users</Link>
      </p>
      <h1 className="wrap-anywhere">{user.name ?? user.id}</h1>
      <section className="card" aria-label="Profile">
        <dl className="details">
          <div>
            <dt>Id</dt>
            <dd>{user.id}</dd>
          </div>
          <div>
            <dt>Name</dt>
            <dd>{user.name ?? '—'}</dd>
          </div>
          <div>
            <dt>Role</dt>
            <dd>{user.role}</dd>
          </div>
          <div>
            <dt>Teams</dt>
            <dd>{user.teams.length ? user.teams.join(', ') : '—'}</dd>
          </div>
          <div>
            <dt>Language</dt>
            <dd>{user.language ?? '—'}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{formatDateTime(user.createdAt)}</dd>
          </div>
        </dl>
        <h2>Custom fields</h2>
        {custom.length === 0 ? (
          <p className="muted">No custom fields.</p>
        ) : (
          <dl className="details custom-fields">
            {custom.map(([key, value]) => (
              <div key={key}>
                <dt>{key}</dt>
                <dd>
                  <code>{value}</code>
                </dd>
              </div>
            ))}
          </dl>
        )}
      </section>
      <UserChannels key={`c-${user.id}`} userId={user.id} />
      <UserCampaigns key={`r-${user.id}`} userId={user.id} />
    </section>
  );
}
