import { Link, matchPath, usePath } from '../router';
import { CampaignsPage } from '../pages/Campaigns';
import { CampaignPage } from '../pages/Campaign';
import { EditCampaignPage, NewCampaignPage } from '../pages/CampaignEditor';
import { SegmentsPage } from '../pages/Segments';
import { NewSegmentPage, SegmentPage } from '../pages/SegmentEditor';
import { UsersPage } from '../pages/Users';
import { UserPage } from '../pages/User';
import { ChannelPage } from '../pages/Channel';

const SECTIONS = [
  { to: '/campaigns', label: 'Campaigns' },
  { to: '/segments', label: 'Segments' },
  { to: '/users', label: 'Users' },
] as const;

/** The page for a path; unknown paths say so rather than showing an empty screen. */
function Page({ path }: { path: string }) {
  if (path === '/' || matchPath('/campaigns', path)) return <CampaignsPage />;
  if (matchPath('/campaigns/new', path)) return <NewCampaignPage />;
  const editing = matchPath('/campaigns/:id/edit', path);
  if (editing) return <EditCampaignPage id={editing.id!} />;
  const campaign = matchPath('/campaigns/:id', path);
  if (campaign) return <CampaignPage id={campaign.id!} />;
  if (matchPath('/segments', path)) return <SegmentsPage />;
  if (matchPath('/segments/new', path)) return <NewSegmentPage />;
  const segment = matchPath('/segments/:id', path);
  if (segment) return <SegmentPage id={segment.id!} />;
  if (matchPath('/users', path)) return <UsersPage />;
  const user = matchPath('/users/:id', path);
  if (user) return <UserPage id={user.id!} />;
  const channel = matchPath('/channels/:cid', path);
  if (channel) return <ChannelPage cid={channel.cid!} />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <Link to="/campaigns">Go to the campaigns</Link>.
      </p>
    </section>
  );
}

/** Navigation and the current page, for a signed-in person. */
export function Shell({ onSignOut }: { onSignOut: () => void }) {
  const path = usePath();
  // A channel is reached from a user's page, so it sits under Users.
  const current = path === '/' ? '/campaigns' : path.startsWith('/channels/') ? '/users' : path;
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">Beacon</span>
        <nav aria-label="Main">
          {SECTIONS.map((section) => (
            <Link
              key={section.to}
              to={section.to}
              aria-current={current === section.to || current.startsWith(`${section.to}/`) ? 'page' : undefined}
            >
              {section.label}
            </Link>
          ))}
        </nav>
        <button type="button" className="link-button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main className="content">
        <Page path={path} />
      </main>
    </div>
  );
}
