import { Link } from '../router';

/** Placeholder until the campaign editor lands (next increment of the dashboard issue). */
export function NewCampaignPage() {
  return (
    <section>
      <p className="breadcrumb">
        <Link to="/campaigns">Campaigns</Link>
      </p>
      <h1>New campaign</h1>
      <div className="empty">
        <p>The campaign editor is not built yet. Until it is, create campaigns with the <code>createCampaign</code> mutation.</p>
      </div>
    </section>
  );
}
