/**
 * What the delivery jobs do (design.md "Delivery"). Every step re-reads the database,
 * which is the truth; every write is idempotent; a job may run twice or die midway.
 *
 *   campaign.start   SCHEDULED → IN_PROGRESS (when due), fail if the sender is gone,
 *                    materialize recipients once, chunk by chunk (materialize.ts),
 *                    publishing each chunk; queue the delivery lanes after the first.
 *   campaign.deliver loop: rate-limit grant → batch (see batch.ts) → publish → touch the
 *                    job lock; while the audience is still being written, wait for more;
 *                    when it is complete and nothing is pending, complete the campaign.
 *   campaign.stopAt  stop, if still SCHEDULED or IN_PROGRESS.
 *
 * A job ends `done` (its row can go) or `interrupted`: the worker is shutting down, and the
 * job is handed back to run again at once, in this or another worker. A lane checks for
 * that between batches, so a batch in flight always commits or rolls back first; a start
 * checks between its chunks, so the chunk in flight commits first. A lost database
 * connection is ridden out in place (reconnect.ts): the step runs again once it answers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { TransitionHooks } from '../campaigns/status.js';
import type { Logger } from '../logger.js';
import { deliverBatch, type BatchResult } from './batch.js';
import { materializeRecipients } from './materialize.js';
import { completeByRows, completeIfDelivered } from './completion.js';
import { failCampaign, moveCampaign } from './transitions.js';
import { audienceGrew, nextAudienceChunk } from './audience-signal.js';
import { apiRequestsFirst, type BatchSlots } from './priority.js';
import { loadDeliveryPlan, type DeliveryPlan } from './plan.js';
import type { RateLimiter } from './rate-limit.js';
import { retryOnConnectionLoss } from './reconnect.js';

export interface EngineDeps {
  prisma: PrismaClient;
  /** Raw pool of the same database: delivery batches run their transaction on it. */
  pool: pg.Pool;
  logger: Logger;
  hooks: TransitionHooks;
  batchSize: number;
  /** Lanes per campaign (see laneBatchSize). */
  lanes: number;
  limiter: RateLimiter;
  /** Fewer batches at once while this process's API is busy (priority.ts). */
  slots: BatchSlots;
  /** How long a job keeps retrying a step that lost its database connection. */
  reconnectWindowMs: number;
  /** Queues `lanes` delivery jobs for the campaign. */
  enqueueLanes(campaignId: string): Promise<void>;
}

/** How a job run ended: `done`, or `interrupted` by a shutdown and to be run again. */
export type JobOutcome = 'done' | 'interrupted';

/** What a running job gets from the scheduler. */
export interface JobControl {
  /** Aborted when the worker shuts down: stop at the next step boundary. */
  signal: AbortSignal;
  /** Extends the job's lock. */
  touch(): Promise<void>;
}

/** Runs `step`, riding out lost database connections (see reconnect.ts). */
function reconnecting<T>(deps: EngineDeps, job: JobControl, context: Record<string, unknown>, step: () => Promise<T>): Promise<T> {
  return retryOnConnectionLoss(step, { windowMs: deps.reconnectWindowMs, signal: job.signal, logger: deps.logger, context });
}

/** campaign.start */
export async function runStart(deps: EngineDeps, campaignId: string, job: JobControl): Promise<JobOutcome> {
  // Kept across reconnect retries of the step: the lanes are queued once per run.
  const run = { lanesQueued: false };
  return reconnecting(deps, job, { job: 'campaign.start', campaignId }, async () => {
    if (job.signal.aborted) return 'interrupted';
    return startCampaignJob(deps, campaignId, job, run);
  });
}

async function startCampaignJob(deps: EngineDeps, campaignId: string, job: JobControl, run: { lanesQueued: boolean }): Promise<JobOutcome> {
  const campaign = await deps.prisma.campaign.findUnique({ where: { id: campaignId }, select: { status: true, senderId: true } });
  if (!campaign) return 'done';
  // Sender deleted while scheduled: fail without announcing a start (a no-op unless SCHEDULED/IN_PROGRESS).
  if (!campaign.senderId) return failCampaign(deps, campaignId, 'The sender was deleted').then(() => 'done');
  if (campaign.status === 'SCHEDULED') await moveCampaign(deps, campaignId, 'begin', { startedAt: new Date() });
  const now = await deps.prisma.campaign.findUnique({ where: { id: campaignId }, select: { status: true, senderId: true } });
  if (now?.status !== 'IN_PROGRESS') return 'done'; // stopped, deleted or already finished: stale job
  if (!now.senderId) return failCampaign(deps, campaignId, 'The sender was deleted').then(() => 'done');
  const queueLanes = async () => {
    if (run.lanesQueued) return;
    run.lanesQueued = true;
    await deps.enqueueLanes(campaignId);
  };
  const outcome = await materializeRecipients(deps.prisma, campaignId, {
    signal: job.signal,
    // While the API is busy, a chunk is one of the few batches this process runs at once (priority.ts).
    slot: () => deps.slots.acquire(job.signal),
    // Each chunk shows the audience growing; delivery starts on the rows of the first one.
    onChunk: async () => {
      audienceGrew(campaignId);
      deps.hooks.changed(campaignId, 'IN_PROGRESS');
      await queueLanes();
      await job.touch();
    },
  });
  if (outcome === 'interrupted') return 'interrupted';
  if (outcome === 'complete') await queueLanes();
  audienceGrew(campaignId);
  return 'done';
}

/** The smallest batch laneBatchSize gives (below it a batch's fixed costs dominate). */
export const MIN_TAIL_BATCH = 200;

/**
 * A lane's next batch size: `batchSize`, except at the end of a complete audience, where
 * the recipients not yet settled (`unsettled`: PENDING, those of batches in flight included;
 * null while the audience is still being written) are split evenly across the lanes. With
 * full batches to the end, the last one ran alone while the other lanes had finished —
 * a batch's time with 1 of 4 lanes busy; split, the lanes finish together.
 */
export function laneBatchSize(batchSize: number, lanes: number, unsettled: number | null): number {
  if (unsettled === null || lanes <= 1) return batchSize;
  return Math.min(batchSize, Math.max(MIN_TAIL_BATCH, Math.ceil(unsettled / lanes)));
}

/** What one lane carries from batch to batch. */
interface Lane {
  campaignId: string;
  /** Loaded by the first step (see runDeliver). */
  plan: DeliveryPlan | null;
  /** The last recipient this lane claimed (see deliverBatch). */
  after: string | null;
  /** Set when the lane's next claim walks from the start (see deliverStep). */
  fromStart: boolean;
  /** Rounds in a row that found PENDING rows but could claim none (see deliverStep). */
  idle: number;
  /** The PENDING count (by the counters) when this lane last found nothing to claim. */
  unsettled: number | null;
  /** Shared with the other lanes of the campaign in this process (see frontiers). */
  frontier: Frontier;
}

/**
 * A lane that can claim nothing while PENDING rows remain looks again this often, this many
 * times, before it ends: the rows may be held by another lane's batch (which then completes
 * the campaign itself) or by a short transaction of the API (deleteUsers locks its users'
 * recipient rows, which stay PENDING with the user gone). Were every lane to end while such
 * a transaction held the last rows, nobody would complete the campaign.
 */
const IDLE_LOOK_MS = 250;
const IDLE_LOOKS = 8;

/**
 * Per campaign, the last recipient a lane of this process claimed, set as each claim
 * returns: a lane's next claim starts there rather than after its own last one, so it does
 * not walk past the batches its sibling lanes took meanwhile (locked or sent: about
 * lanes − 1 batches a claim, when it was set as batches ended). The rows it jumps over are
 * in its siblings' batches in flight (each commits its batch, or claims it again from its
 * own cursor on a retry); rows left behind otherwise are found by the walk from the start
 * (deliverStep). Claims that return out of order may move it back: a longer walk, no more.
 * Kept while a lane of the campaign runs in this process, however it ends.
 */
const frontiers = new Map<string, Frontier>();

interface Frontier {
  /** The last recipient a lane of this process claimed; null before the first claim. */
  lastId: string | null;
  /** Lanes of the campaign running in this process. */
  lanes: number;
}

/** Campaigns with a frontier in this process: those with a lane running here (for tests). */
export function campaignsWithFrontier(): string[] {
  return [...frontiers.keys()];
}

/** campaign.deliver: one lane, a step per batch. */
export async function runDeliver(deps: EngineDeps, campaignId: string, job: JobControl): Promise<JobOutcome> {
  let frontier = frontiers.get(campaignId);
  if (!frontier) frontiers.set(campaignId, (frontier = { lastId: null, lanes: 0 }));
  frontier.lanes += 1;
  const lane: Lane = { campaignId, plan: null, after: null, fromStart: false, idle: 0, unsettled: null, frontier };
  try {
    for (;;) {
      // Each step retries on its own, so the reconnect window counts from a step's first failure.
      const outcome = await reconnecting(deps, job, { job: 'campaign.deliver', campaignId }, () => deliverStep(deps, lane, job));
      if (outcome !== 'more') return outcome;
    }
  } finally {
    frontier.lanes -= 1;
    if (frontier.lanes === 0) frontiers.delete(campaignId);
  }
}

/** One batch of a lane: `more` to go on. */
async function deliverStep(deps: EngineDeps, lane: Lane, job: JobControl): Promise<JobOutcome | 'more'> {
  if (job.signal.aborted) return 'interrupted';
  const { campaignId } = lane;
  // A running campaign cannot be edited (updateCampaign needs DRAFT or SCHEDULED), so the
  // plan — templates compiled once — holds for the whole lane; only the status and the
  // sender's existence can change between batches, and those are re-read each time.
  lane.plan ??= await loadDeliveryPlan(deps.prisma, campaignId);
  const plan = lane.plan;
  if (!plan) return 'done';
  const now = await deps.prisma.campaign.findUnique({
    where: { id: campaignId },
    select: { status: true, materializedAt: true, senderId: true, recipientsTotal: true, messagesSent: true, messagesErrored: true, recipientsSkipped: true },
  });
  if (now?.status !== 'IN_PROGRESS') return 'done';
  if (!now.senderId || !plan.sender) {
    await failCampaign(deps, campaignId, 'The sender was deleted');
    return 'done';
  }
  const unsettled = now.materializedAt ? now.recipientsTotal - now.messagesSent - now.messagesErrored - now.recipientsSkipped : null;
  // While the API is busy, fewer batches run at once, and each waits for the requests in flight (priority.ts).
  const release = await deps.slots.acquire(job.signal);
  let result: BatchResult;
  try {
    await apiRequestsFirst(job.signal);
    const grant = await deps.limiter.acquire(laneBatchSize(deps.batchSize, deps.lanes, unsettled), job.signal).catch((error: unknown) => {
      if (job.signal.aborted) return null;
      throw error;
    });
    if (!grant) return 'interrupted';
    const after = lane.fromStart ? null : (lane.frontier.lastId ?? lane.after);
    result = await deliverBatch(deps.pool, plan, plan.sender, grant.size, { after, sentAt: grant.at, onClaimed: (lastId) => (lane.frontier.lastId = lastId) });
    grant.settle(result.claimed);
  } finally {
    release();
  }
  if (result.lastId !== null) {
    lane.after = result.lastId;
    lane.fromStart = false;
  }
  if (result.senderGone) {
    // Deleted after this step read the campaign: the batch wrote nothing.
    await failCampaign(deps, campaignId, 'The sender was deleted');
    return 'done';
  }
  if (!result.committed) return 'done'; // stopped meanwhile: the batch was rolled back
  if (result.claimed === 0) {
    // Caught up with the start job, which is still writing the audience: wait for its next
    // chunk, woken when this process commits it (audience-signal.ts). (It ends by completing
    // the audience, or the campaign leaves IN_PROGRESS: a stop, or FAILED once its retries
    // run out.)
    if (!now.materializedAt) {
      await job.touch();
      return (await nextAudienceChunk(campaignId, IDLE_LOOK_MS, job.signal)) ? 'more' : 'interrupted';
    }
    // Nothing left that this lane can claim. Complete only when no PENDING row remains,
    // by the counters (completion.ts): rows claimed by other lanes are still PENDING until
    // those commit; the last lane to commit completes the campaign.
    if ((await completeIfDelivered(deps, campaignId)) !== 'pending') return 'done'; // completed, by this lane or another, or stopped
    // Still PENDING: rows in the other lanes' batches in flight (the last of them completes
    // the campaign), or rows behind this lane's cursor (retried, or left by a batch that
    // rolled back). The lane walks from the start again only when nothing moved since it
    // last looked: a walk reads every row of the campaign.
    const stalled = unsettled === lane.unsettled;
    lane.unsettled = unsettled;
    if (lane.idle >= IDLE_LOOKS) {
      // Moving still: the lanes moving them complete it. Stuck: the rows decide.
      if (stalled) await completeByRows(deps, campaignId);
      return 'done';
    }
    if (stalled) lane.fromStart = true;
    lane.idle += 1;
    return (await look(job)) ? 'more' : 'interrupted';
  }
  lane.idle = 0;
  deps.logger.debug('batch delivered', { campaignId, claimed: result.claimed, sent: result.sent, errored: result.errored, skipped: result.skipped });
  deps.hooks.changed(campaignId, 'IN_PROGRESS');
  await job.touch();
  return 'more';
}

/** Waits IDLE_LOOK_MS before a lane looks again; false when the worker shuts down meanwhile. */
async function look(job: JobControl): Promise<boolean> {
  try {
    await sleep(IDLE_LOOK_MS, undefined, { signal: job.signal });
    return true;
  } catch {
    return false;
  }
}

/** campaign.stopAt */
export async function runStopAt(deps: EngineDeps, campaignId: string, job: JobControl): Promise<JobOutcome> {
  await reconnecting(deps, job, { job: 'campaign.stopAt', campaignId }, () => moveCampaign(deps, campaignId, 'stop', { stoppedAt: new Date() }));
  return 'done';
}
