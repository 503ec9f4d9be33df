/**
 * What the delivery jobs do (design.md "Delivery"). Every step re-reads the database,
 * which is the truth; every write is idempotent; a job may run twice or die midway.
 *
 *   campaign.start   SCHEDULED → IN_PROGRESS (when due), fail if the sender is gone,
 *                    materialize recipients once, queue the delivery lanes.
 *   campaign.deliver loop: batch (see batch.ts) → publish → touch the job lock → rate
 *                    limit; when nothing is pending, complete the campaign.
 *   campaign.stopAt  stop, if still SCHEDULED or IN_PROGRESS.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { CampaignStatus } from '../generated/prisma/enums.js';
import { ANNOUNCED, TRANSITIONS, transitionCampaign, type CampaignAction } from '../campaigns/status.js';
import type { CampaignWebhookType } from '../campaigns/webhook-event.js';
import type { Logger } from '../logger.js';
import { deliverBatch } from './batch.js';
import { materializeRecipients } from './materialize.js';
import { loadDeliveryPlan } from './plan.js';
import type { RateLimiter } from './rate-limit.js';

/** Where delivery reports what it changed: live events and webhooks. */
export interface DeliveryHooks {
  /** After any committed status or counter change. */
  changed(campaignId: string, status: CampaignStatus): void;
  /** After a committed transition that webhooks announce: wakes the outbox sender. */
  announce(type: CampaignWebhookType, campaignId: string): void;
  /** Whether announced transitions write their webhook to the outbox (BEACON_WEBHOOK_URL is set). */
  readonly webhooks: boolean;
}

export interface EngineDeps {
  prisma: PrismaClient;
  /** Raw pool of the same database: delivery batches run their transaction on it. */
  pool: pg.Pool;
  logger: Logger;
  hooks: DeliveryHooks;
  batchSize: number;
  limiter: RateLimiter;
  /** Queues `lanes` delivery jobs for the campaign. */
  enqueueLanes(campaignId: string): Promise<void>;
}

/** Reports a committed transition: a live event, and the webhook the action announces. */
export function reportTransition(hooks: DeliveryHooks, campaignId: string, action: CampaignAction): void {
  hooks.changed(campaignId, TRANSITIONS[action].to);
  const type = ANNOUNCED[action];
  if (type && hooks.webhooks) hooks.announce(type, campaignId);
}

/** Applies a transition and, if it moved, reports it; returns whether it moved. */
export async function moveCampaign(
  deps: Pick<EngineDeps, 'prisma' | 'hooks'>,
  campaignId: string,
  action: CampaignAction,
  extra: Parameters<typeof transitionCampaign>[3] = {},
  condition: Parameters<typeof transitionCampaign>[4] = {},
): Promise<boolean> {
  const moved = await transitionCampaign(deps.prisma, campaignId, action, extra, condition, deps.hooks.webhooks);
  if (moved) reportTransition(deps.hooks, campaignId, action);
  return moved;
}

/** SCHEDULED|IN_PROGRESS → FAILED with `reason` (shown to clients: no internal details). */
export async function failCampaign(deps: Pick<EngineDeps, 'prisma' | 'hooks' | 'logger'>, campaignId: string, reason: string): Promise<void> {
  if (await moveCampaign(deps, campaignId, 'fail', { failureReason: reason, completedAt: new Date() })) {
    deps.logger.warn('campaign failed', { campaignId, reason });
  }
}

/** campaign.start */
export async function runStart(deps: EngineDeps, campaignId: string): Promise<void> {
  const campaign = await deps.prisma.campaign.findUnique({ where: { id: campaignId }, select: { status: true, senderId: true } });
  if (!campaign) return;
  // Sender deleted while scheduled: fail without announcing a start (a no-op unless SCHEDULED/IN_PROGRESS).
  if (!campaign.senderId) return failCampaign(deps, campaignId, 'The sender was deleted');
  if (campaign.status === 'SCHEDULED') await moveCampaign(deps, campaignId, 'begin', { startedAt: new Date() });
  const now = await deps.prisma.campaign.findUnique({ where: { id: campaignId }, select: { status: true, senderId: true } });
  if (now?.status !== 'IN_PROGRESS') return; // stopped, deleted or already finished: stale job
  if (!now.senderId) return failCampaign(deps, campaignId, 'The sender was deleted');
  // Two partitions written at once when the pool has room beside the transaction (never on
  // the embedded database's single connection).
  const parallel = (deps.pool.options.max ?? 10) >= 4 ? { pool: deps.pool, partitions: 2 } : undefined;
  const written = await deps.prisma.$transaction((tx) => materializeRecipients(tx, campaignId, parallel), { timeout: 600_000, maxWait: 30_000 });
  if (written > 0) deps.hooks.changed(campaignId, 'IN_PROGRESS');
  await deps.enqueueLanes(campaignId);
}

/** campaign.deliver: one lane. `touch` extends the job's lock between batches. */
export async function runDeliver(deps: EngineDeps, campaignId: string, touch: () => Promise<void>): Promise<void> {
  let after: string | null = null; // this lane's claim cursor (see deliverBatch)
  // A running campaign cannot be edited (updateCampaign needs DRAFT or SCHEDULED), so the
  // plan — templates compiled once — holds for the whole lane; only the status and the
  // sender's existence can change between batches, and those are re-read each time.
  const plan = await loadDeliveryPlan(deps.prisma, campaignId);
  if (!plan) return;
  for (;;) {
    const now = await deps.prisma.campaign.findUnique({ where: { id: campaignId }, select: { status: true, materializedAt: true, senderId: true } });
    if (now?.status !== 'IN_PROGRESS' || !now.materializedAt) return;
    if (!now.senderId || !plan.sender) return failCampaign(deps, campaignId, 'The sender was deleted');
    const result = await deliverBatch(deps.pool, plan, plan.sender, deps.limiter.batchSize(deps.batchSize), after);
    after = result.lastId;
    if (!result.committed) return; // stopped meanwhile: the batch was rolled back
    if (result.claimed === 0) {
      // Nothing left that this lane can claim. Complete only when no PENDING row remains
      // (rows claimed by other lanes are still PENDING until those commit; the last lane
      // to commit completes the campaign).
      await moveCampaign(deps, campaignId, 'complete', { completedAt: new Date() }, { recipients: { none: { status: 'PENDING' } } });
      return;
    }
    deps.logger.debug('batch delivered', { campaignId, claimed: result.claimed, sent: result.sent, errored: result.errored, skipped: result.skipped });
    deps.hooks.changed(campaignId, 'IN_PROGRESS');
    await touch();
    const wait = deps.limiter.take(result.claimed);
    if (wait > 0) await sleep(wait);
  }
}

/** campaign.stopAt */
export async function runStopAt(deps: EngineDeps, campaignId: string): Promise<void> {
  await moveCampaign(deps, campaignId, 'stop', { stoppedAt: new Date() });
}
