/**
 * The lifecycle mutations: start (now or scheduled, with an optional stop time), stop,
 * resume, and retry of ERRORED recipients. Each moves the status through the one
 * transition table (status.ts) in the database first, then queues the jobs that act on
 * it; a job that finds the status changed does nothing.
 */
import type { PrismaClient } from '../generated/prisma/client.js';
import { InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import type { Scheduler } from '../delivery/scheduler.js';
import { assertTransition, reportTransition, requireTransition, startAction, transitionCampaign, type TransitionHooks } from './status.js';

export interface LifecycleDeps {
  prisma: PrismaClient;
  scheduler: Scheduler;
  hooks: TransitionHooks;
}

/** Start times this far in the past still count as "now" (clock skew, slow clients). */
const PAST_TOLERANCE_MS = 5000;

async function requireCampaign(prisma: PrismaClient, id: string) {
  const campaign = await prisma.campaign.findUnique({
    where: { id },
    select: { status: true, senderId: true, userIds: true, materializedAt: true, startedAt: true, stopAt: true, _count: { select: { segments: true } } },
  });
  if (!campaign) throw new NotFoundError(`Campaign ${id} does not exist`, 'id');
  return campaign;
}

/** startCampaign: DRAFT → IN_PROGRESS now, or → SCHEDULED for a future `scheduledFor`. */
export async function startCampaign(deps: LifecycleDeps, id: string, scheduledFor?: Date | null, stopAt?: Date | null): Promise<void> {
  const now = new Date();
  if (scheduledFor && scheduledFor.getTime() < now.getTime() - PAST_TOLERANCE_MS) {
    throw new ValidationError('scheduledFor is in the past', 'scheduledFor');
  }
  const startsAt = scheduledFor && scheduledFor > now ? scheduledFor : now;
  if (stopAt && stopAt.getTime() <= startsAt.getTime()) {
    throw new ValidationError('stopAt must be after the start time', 'stopAt');
  }
  const action = startAction(scheduledFor, now);
  const campaign = await requireCampaign(deps.prisma, id);
  assertTransition(campaign.status, action, 'id');
  if (!campaign.senderId) throw new InvalidStateError('The campaign has no sender (it was deleted)', 'id');
  if (campaign._count.segments === 0 && campaign.userIds.length === 0) {
    throw new ValidationError('The campaign has no audience: give it segmentIds or userIds first', 'id');
  }
  await requireTransition(deps.prisma, id, action, {
    scheduledFor: scheduledFor ?? null,
    stopAt: stopAt ?? null,
    ...(action === 'start' ? { startedAt: now } : {}),
  }, deps.hooks.webhooks);
  reportTransition(deps.hooks, id, action);
  await deps.scheduler.scheduleStart(id, action === 'schedule' ? scheduledFor! : undefined);
  if (stopAt) await deps.scheduler.scheduleStopAt(id, stopAt);
}

/**
 * stopCampaign: SCHEDULED|IN_PROGRESS → STOPPED. The UPDATE waits for a delivery batch
 * that is committing; any batch committing later sees STOPPED and rolls back, so no
 * message is sent after this returns beyond the batch in flight.
 */
export async function stopCampaign(deps: LifecycleDeps, id: string): Promise<void> {
  const campaign = await requireCampaign(deps.prisma, id);
  assertTransition(campaign.status, 'stop', 'id');
  await requireTransition(deps.prisma, id, 'stop', { stoppedAt: new Date() }, deps.hooks.webhooks);
  reportTransition(deps.hooks, id, 'stop');
  await deps.scheduler.cancelTimers(id);
}

/** resumeCampaign: STOPPED → IN_PROGRESS, delivering only recipients still PENDING. */
export async function resumeCampaign(deps: LifecycleDeps, id: string): Promise<void> {
  const campaign = await requireCampaign(deps.prisma, id);
  assertTransition(campaign.status, 'resume', 'id');
  if (!campaign.senderId) throw new InvalidStateError('The campaign has no sender (it was deleted)', 'id');
  await requireTransition(deps.prisma, id, 'resume', { stoppedAt: null, ...(campaign.startedAt ? {} : { startedAt: new Date() }) });
  reportTransition(deps.hooks, id, 'resume');
  // Stopped before it began: the start job materializes the audience, then queues lanes.
  if (campaign.materializedAt) await deps.scheduler.enqueueLanes(id);
  else await deps.scheduler.scheduleStart(id);
  // stopCampaign cancelled the stop-at timer; a stop time still ahead applies again.
  if (campaign.stopAt && campaign.stopAt.getTime() > Date.now()) await deps.scheduler.scheduleStopAt(id, campaign.stopAt);
}

/**
 * retryFailedRecipients: puts ERRORED recipients back to PENDING (taking them out of
 * `messagesErrored`) and delivers them again. A COMPLETED campaign re-opens to
 * IN_PROGRESS; an IN_PROGRESS one picks them up; a STOPPED one on resume. Returns how
 * many were queued again.
 */
export async function retryFailedRecipients(deps: LifecycleDeps, id: string): Promise<number> {
  const campaign = await requireCampaign(deps.prisma, id);
  if (!['COMPLETED', 'IN_PROGRESS', 'STOPPED'].includes(campaign.status)) {
    throw new InvalidStateError(`Cannot retry recipients of a campaign that is ${campaign.status}`, 'id');
  }
  const retried = await deps.prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<{ n: number }[]>`
      WITH reset AS (
        UPDATE recipients SET status = 'PENDING', error = NULL, updated_at = now()
        WHERE campaign_id = ${id} AND status = 'ERRORED' RETURNING 1)
      SELECT count(*)::int AS n FROM reset`;
    const n = rows[0]!.n;
    if (n > 0) {
      await tx.$executeRaw`
        UPDATE campaigns SET messages_errored = GREATEST(messages_errored - ${n}, 0), updated_at = now() WHERE id = ${id}`;
      // The transition commits with the reset rows; events go out after the commit, below.
      if (campaign.status === 'COMPLETED' && !(await transitionCampaign(tx, id, 'retry', { completedAt: null }))) {
        throw new InvalidStateError('The campaign changed status meanwhile; try again', 'id');
      }
    }
    return n;
  });
  if (retried > 0) {
    if (campaign.status === 'COMPLETED') reportTransition(deps.hooks, id, 'retry');
    else deps.hooks.changed(id, campaign.status);
    if (campaign.status !== 'STOPPED') await deps.scheduler.enqueueLanes(id);
  }
  return retried;
}
