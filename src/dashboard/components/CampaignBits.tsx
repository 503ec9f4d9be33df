/** Small pieces every campaign view shows the same way. */
import type { CampaignRowFragment, CampaignStatus } from '../generated/graphql';
import { formatCount, STATUS_LABELS } from '../format';

export function StatusBadge({ status }: { status: CampaignStatus }) {
  return <span className={`badge badge-${status.toLowerCase()}`}>{STATUS_LABELS[status]}</span>;
}

/** Sent (and errored) of the total, as a bar and in words. */
export function Progress({ campaign }: { campaign: Pick<CampaignRowFragment, 'name' | 'stats'> }) {
  const { recipientsTotal, messagesSent, progress } = campaign.stats;
  const percent = Math.round(progress * 100);
  return (
    <div className="progress">
      <div
        className="progress-track"
        role="progressbar"
        aria-label={`Progress of ${campaign.name}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
      >
        <div className="progress-fill" style={{ width: `${percent}%` }} />
      </div>
      <span className="progress-text">
        {formatCount(messagesSent)} / {formatCount(recipientsTotal)}
      </span>
    </div>
  );
}

export function ErrorMessage({ title, error }: { title: string; error: { message: string } }) {
  return (
    <div className="error-box" role="alert">
      <strong>{title}</strong> {error.message.replace(/^\[(GraphQL|Network)\]\s*/, '')}
    </div>
  );
}
