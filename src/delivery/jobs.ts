/**
 * The delivery jobs: names and payloads. Payloads are validated when enqueued and again
 * when run (a stored payload may be older than the code). They carry only ids: every run
 * re-reads the campaign, so a stale job is a no-op.
 */
import { ValidationError } from '../errors.js';
import { ID_PATTERN } from '../validation.js';

export const JOBS = {
  /** At `scheduledFor` (or now): SCHEDULED → IN_PROGRESS, materialize recipients, queue lanes. */
  start: 'campaign.start',
  /** One delivery lane: claims and delivers batches until nothing is pending. */
  deliver: 'campaign.deliver',
  /** At `stopAt`: stops the campaign if it is still scheduled or running. */
  stopAt: 'campaign.stopAt',
  /** Sends the due campaign webhooks of the outbox (no payload; see webhooks-job.ts). */
  webhooks: 'webhooks.send',
} as const;

export type JobName = (typeof JOBS)[keyof typeof JOBS];

/**
 * Retries of a failed job (a deadlock, a database outage longer than a job rides out in
 * place — see reconnect.ts): again after about 0.5 s, 1 s, 2 s … at most 30 s apart. Jobs are idempotent, so a retry resumes where the
 * failed run stopped. After the last retry the campaign is FAILED rather than left running.
 */
export const JOB_RETRY = { delay: 500, factor: 2, maxDelay: 30_000, maxRetries: 12, jitter: 0.2 } as const;

export interface CampaignJobPayload {
  campaignId: string;
  /** Lane number of a deliver job (informational; lanes are interchangeable). */
  lane?: number;
}

/** Checks a payload read from the job table; throws a ValidationError naming the job. */
export function parseCampaignJobPayload(job: string, data: unknown): CampaignJobPayload {
  const record = data as Record<string, unknown> | null;
  const campaignId = record?.campaignId;
  if (typeof campaignId !== 'string' || campaignId.length === 0 || campaignId.length > 128 || !ID_PATTERN.test(campaignId)) {
    throw new ValidationError(`${job}: payload needs a campaignId`, 'campaignId');
  }
  const lane = record?.lane;
  if (lane !== undefined && (typeof lane !== 'number' || !Number.isInteger(lane) || lane < 0)) {
    throw new ValidationError(`${job}: lane must be a non-negative integer`, 'lane');
  }
  return lane === undefined ? { campaignId } : { campaignId, lane };
}
