/**
 * A channel's page (/channels/:cid, the cid URI-encoded): type and id, who created it, its
 * members (each linking to the user's page) and its messages, newest first.
 */
import { useQuery } from 'urql';
import { ChannelPageDocument } from '../generated/graphql';
import { formatCount, formatDateTime } from '../format';
import { ErrorMessage } from '../components/CampaignBits';
import { NotFound } from '../components/NotFound';
import { ChannelMessages } from '../users/ChannelMessages';
import { Link } from '../router';

/** Members shown; the API gives at most 1,000 of a channel and a page need not show more. */
const MEMBERS = 100;

const userPath = (id: string) => `/users/${encodeURIComponent(id)}`;

/** The channel `cid`, or NotFound when no channel has it. */
export function ChannelPage({ cid }: { cid: string }) {
  const [result] = useQuery({ query: ChannelPageDocument, variables: { cid, members: MEMBERS } });
  const channel = result.data?.channel;
  if (result.error) return <ErrorMessage title="Could not load the channel." error={result.error} />;
  if (!result.data) {
    return (
      <p className="muted" role="status">
        Loading channel…
      </p>
    );
  }
  if (!channel) return <NotFound what="Channel" id={cid} listPath="/users" listName="users" />;
  return (
    <section>
      <p className="breadcrumb">
        <Link to="/users">Users</Link>
      </p>
      <h1 className="wrap-anywhere">Channel {channel.cid}</h1>
      <section className="card" aria-label="Channel">
        <dl className="details">
          <div>
            <dt>Type</dt>
            <dd>{channel.type}</dd>
          </div>
          <div>
            <dt>Id</dt>
            <dd>{channel.id}</dd>
          </div>
          <div>
            <dt>Created by</dt>
            <dd>
              {channel.createdBy ? (
                <Link to={userPath(channel.createdBy.id)}>{channel.createdBy.name ?? channel.createdBy.id}</Link>
              ) : (
                (channel.createdById ?? '—')
              )}
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{formatDateTime(channel.createdAt)}</dd>
          </div>
        </dl>
        <h2>Members ({formatCount(channel.memberCount)})</h2>
        {channel.members.length === 0 ? (
          <p className="muted">No members.</p>
        ) : (
          <ul className="member-list" aria-label="Members">
            {channel.members.map((member) => (
              <li key={member.userId}>
                <Link to={userPath(member.userId)}>{member.user.name ?? member.userId}</Link>
                {member.role !== 'member' && <span className="badge">{member.role}</span>}
              </li>
            ))}
          </ul>
        )}
        {channel.memberCount > channel.members.length && (
          <p className="muted">
            The first {formatCount(channel.members.length)} of {formatCount(channel.memberCount)} members.
          </p>
        )}
      </section>
      <ChannelMessages key={channel.cid} cid={channel.cid} />
    </section>
  );
}
