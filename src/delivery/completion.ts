/**
 * When a delivering campaign is done. No index knows a recipient's status (a batch's update
 * of its recipients stays HOT, see schema.prisma), so "no PENDING recipient is left" is read
 * from the counters that the materialization chunks and the batches advance in their own
 * transactions: pending = recipients_total − messages_sent − messages_errored −
 * recipients_skipped. The transition to COMPLETED is conditional on exactly the counters
 * read (and on the audience being complete), so a batch that commits in between makes it
 * miss, and the lane looks again.
 *
 * Should the counters ever disagree with the rows, a lane that found nothing to claim for a
 * while asks the rows themselves (`completeByRows`): one walk of the campaign's recipients.
 */
import type { Logger } from '../logger.js';
import { moveCampaign, type TransitionDeps } from './transitions.js';

export type Completion = 'completed' | 'pending' | 'not-running';

/** Completes the campaign when its counters leave no recipient PENDING. */
export async function completeIfDelivered(deps: TransitionDeps, campaignId: string): Promise<Completion> {
  const counters = await deps.prisma.campaign.findUnique({
    where: { id: campaignId },
    select: { status: true, materializedAt: true, recipientsTotal: true, messagesSent: true, messagesErrored: true, recipientsSkipped: true },
  });
  if (!counters || counters.status !== 'IN_PROGRESS') return 'not-running';
  const { status: _status, materializedAt, ...seen } = counters;
  if (!materializedAt || seen.recipientsTotal > seen.messagesSent + seen.messagesErrored + seen.recipientsSkipped) return 'pending';
  const moved = await moveCampaign(deps, campaignId, 'complete', { completedAt: new Date() }, { materializedAt: { not: null }, ...seen });
  return moved ? 'completed' : 'pending';
}

/**
 * The slow path, when the counters still say PENDING but no lane could claim anything for a
 * while: completes the campaign if no row is PENDING (the counters drifted), by the rows.
 */
export async function completeByRows(deps: TransitionDeps & { logger: Logger }, campaignId: string): Promise<boolean> {
  const complete = { materializedAt: { not: null }, recipients: { none: { status: 'PENDING' as const } } };
  const moved = await moveCampaign(deps, campaignId, 'complete', { completedAt: new Date() }, complete);
  if (moved) deps.logger.warn('campaign completed by its rows: its counters count recipients that are not PENDING', { campaignId });
  return moved;
}
