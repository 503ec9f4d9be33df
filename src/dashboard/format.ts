/** How values read on screen (the browser's locale and time zone). */
import type { CampaignRowFragment, CampaignStatus } from './generated/graphql';

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const integer = new Intl.NumberFormat();

export function formatDateTime(value: string | null | undefined): string {
  return value ? dateTime.format(new Date(value)) : '—';
}

export function formatCount(value: number): string {
  return integer.format(value);
}

export const STATUS_LABELS: Record<CampaignStatus, string> = {
  DRAFT: 'Draft',
  SCHEDULED: 'Scheduled',
  IN_PROGRESS: 'In progress',
  COMPLETED: 'Completed',
  STOPPED: 'Stopped',
  FAILED: 'Failed',
};

export const STATUSES = Object.keys(STATUS_LABELS) as CampaignStatus[];

/** Who a campaign goes to: its segments' names, or how many listed users. */
export function audienceOf(campaign: Pick<CampaignRowFragment, 'segments' | 'userIds'>): string {
  if (campaign.segments.length) return campaign.segments.map((segment) => segment.name).join(', ');
  const count = campaign.userIds.length;
  return `${formatCount(count)} listed user${count === 1 ? '' : 's'}`;
}
