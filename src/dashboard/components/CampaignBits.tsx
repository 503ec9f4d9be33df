/** Small pieces every campaign view shows the same way. */
import type { CampaignRowFragment, CampaignStatus } from '../generated/graphql';
import { formatCount, STATUS_LABELS } from '../format';

export function StatusBadge({ status }: { status: CampaignStatus }) {
  return <span className={`badge badge-${status.toLowerCase()}`}>{STATUS_LABELS[status]}</span>;
}

const share = (part: number, total: number) => `${total > 0 ? (100 * part) / total : 0}%`;

/**
 * Sent (blue) and errored (red) of the total, as a bar and in words. Recipients are written
 * when delivery begins, so a campaign that has not begun has no total yet.
 */
export function Progress({ campaign }: { campaign: Pick<CampaignRowFragment, 'name' | 'status' | 'stats'> }) {
  const { recipientsTotal, messagesSent, messagesErrored, progress } = campaign.stats;
  if (campaign.status === 'DRAFT' || campaign.status === 'SCHEDULED') return <span className="muted">Not started</span>;
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
        <div className="progress-fill" style={{ width: share(messagesSent, recipientsTotal) }} />
        <div className="progress-fill progress-errored" style={{ width: share(messagesErrored, recipientsTotal) }} />
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
