/**
 * Agenda 6 on Beacon's PostgreSQL (`@agendajs/postgres-backend`, our own pg pool, the
 * table owned by a Prisma migration so `ensureSchema` is off). Every process can enqueue;
 * only worker processes (`BEACON_ROLE=all|worker`) process jobs. On the embedded
 * database (one session, no cross-connection NOTIFY) it polls instead of listening.
 *
 * Shutdown (`stop`): the jobs' abort signal fires, so lanes stop after their current batch
 * and a start that has not begun stays unstarted; Agenda's drain waits for every running
 * job, including Agenda's own write that unlocks it; an interrupted job is saved unlocked
 * and due now, so another worker — or this one restarted — takes it over at once rather
 * than after BEACON_JOB_LOCK_MS. Only then may the caller close the pool.
 */
import { Agenda, exponential, type Job } from 'agenda';
import { PostgresBackend } from '@agendajs/postgres-backend';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import { JOB_RETRY, JOBS, parseCampaignJobPayload, type CampaignJobPayload } from './jobs.js';
import type { TransitionHooks } from '../campaigns/status.js';
import { runDeliver, runStart, runStopAt, type EngineDeps, type JobControl, type JobOutcome } from './engine.js';
import { failCampaign } from './transitions.js';
import { createBatchSlots } from './priority.js';
import { RateLimiter } from './rate-limit.js';
import { defineWebhookJob } from './webhooks-job.js';
import { isConnectionLoss, untilReachable } from './reconnect.js';

export interface Scheduler {
  /** Queues campaign.start at `when` (now when omitted). */
  scheduleStart(campaignId: string, when?: Date): Promise<void>;
  scheduleStopAt(campaignId: string, when: Date): Promise<void>;
  /** Queues the delivery lanes of a running campaign. */
  enqueueLanes(campaignId: string): Promise<void>;
  /** Removes the campaign's queued start/stop-at jobs (stop, delete). */
  cancelTimers(campaignId: string): Promise<void>;
  /** Queues a drain of the webhook outbox (after a transition wrote an event). */
  wakeWebhooks(): Promise<void>;
  /** Stops taking jobs, lets running ones finish their current step, and hands back (unlocks) every job it holds. */
  stop(): Promise<void>;
}

export interface SchedulerOptions {
  config: Config;
  db: Database;
  logger: Logger;
  hooks: TransitionHooks;
  /** Process jobs in this process (worker role). */
  work: boolean;
}

/** Creates the scheduler and, for workers, starts processing. */
export async function startScheduler(options: SchedulerOptions): Promise<Scheduler> {
  const { config, db, logger } = options;
  const backend = new PostgresBackend({ pool: db.pool, ensureSchema: false, disableNotifications: db.embedded });
  // The LISTEN connection reconnects by itself after an error, but emits it first; unheard,
  // that 'error' would end the process.
  backend.notificationChannel?.on('error', (error) => logger.warn('job notifications interrupted', { error: String(error) }));
  const agenda = new Agenda({
    // Recorded as `last_modified_by` on the jobs this process locks: which worker holds what.
    name: config.workerName,
    backend,
    processEvery: config.jobPollMs,
    defaultLockLifetime: config.jobLockMs,
    // Delivery lanes of several campaigns may run side by side in one worker, next to
    // start and stop-at jobs (5 each).
    maxConcurrency: config.deliveryConcurrency + 10,
    defaultConcurrency: 5,
  });
  agenda.on('error', (error) => logger.error('job scheduler error', { error: String(error) }));
  agenda.on('fail', (error: unknown, job: { attrs?: { name?: string } }) => {
    logger.error('job failed', { job: job?.attrs?.name, error: String(error) });
  });

  const enqueueLanes = async (campaignId: string) => {
    for (let lane = 0; lane < config.deliveryLanes; lane += 1) {
      await agenda.now<CampaignJobPayload>(JOBS.deliver, parseCampaignJobPayload(JOBS.deliver, { campaignId, lane }));
    }
  };
  const deps: EngineDeps = {
    prisma: db.prisma,
    pool: db.pool,
    logger,
    hooks: options.hooks,
    batchSize: config.deliveryBatchSize,
    lanes: config.deliveryLanes,
    limiter: new RateLimiter(config.deliveryRate),
    slots: createBatchSlots(config.deliveryBusyBatches),
    // Within the job's lock lifetime, after which another worker may take the job over anyway.
    reconnectWindowMs: config.jobLockMs / 2,
    enqueueLanes,
  };
  const payload = (job: Job<unknown>) => parseCampaignJobPayload(job.attrs.name, job.attrs.data);
  agenda.on('retry exhausted', (error: unknown, job: Job<unknown>) => {
    const campaignId = (job.attrs.data as Partial<CampaignJobPayload> | undefined)?.campaignId;
    logger.error('job gave up', { job: job.attrs.name, campaignId, error: String(error) });
    if (typeof campaignId === 'string') {
      failCampaign(deps, campaignId, 'Delivery kept failing; see the worker log').catch((e: unknown) =>
        logger.error('campaign not marked failed', { campaignId, error: String(e) }),
      );
    }
  });
  const backoff = exponential(JOB_RETRY);
  const stopping = new AbortController();
  /**
   * Runs a job and ends it as its outcome says. A finished job deletes its own row here
   * rather than through Agenda's `removeOnComplete`, which deletes after Agenda reports the
   * job complete — too late for `drain()`, which would wait forever for that job. An
   * interrupted job is rescheduled for now; Agenda then saves it unlocked. A job that lost
   * its connection for longer than the engine rides out fails once the database answers
   * again: Agenda's retry unlocks it with a write, which would fail while it is away and
   * leave the job locked for BEACON_JOB_LOCK_MS.
   */
  const handler = (run: (deps: EngineDeps, campaignId: string, job: JobControl) => Promise<JobOutcome>) => async (job: Job<unknown>) => {
    let outcome: JobOutcome;
    try {
      outcome = await run(deps, payload(job).campaignId, { signal: stopping.signal, touch: lockRenewal(job, config.jobLockMs) });
    } catch (error) {
      if (isConnectionLoss(error)) await untilReachable(() => db.ping(), stopping.signal);
      throw error;
    }
    if (outcome === 'interrupted') job.schedule(new Date());
    else await job.remove();
  };
  // Agenda locks every due job it finds unless `lockLimit` caps it: without the cap one
  // worker would hold jobs it cannot run yet while other workers sit idle until the locks expire.
  const slots = (concurrency: number) => ({ concurrency, lockLimit: concurrency, backoff });
  agenda.define(JOBS.start, handler(runStart), slots(5));
  agenda.define(JOBS.stopAt, handler(runStopAt), slots(5));
  agenda.define(JOBS.deliver, handler(runDeliver), slots(config.deliveryConcurrency));
  const webhooks = await defineWebhookJob(agenda, { config, db, logger, work: options.work });
  if (options.work) await agenda.start();
  // Agenda connects its notification channel in start(), and a job saved while it is not
  // connected wakes nobody: the workers found a start queued by an `api` process only at
  // their next poll (BEACON_JOB_POLL_MS, 1 s: api + 2 workers sent their first batch 475–800
  // ms after startCampaign, one `all` process ~110 ms). An api process connects it to NOTIFY.
  else await connectNotifications(agenda, backend);

  return {
    async scheduleStart(campaignId, when) {
      const data = parseCampaignJobPayload(JOBS.start, { campaignId });
      if (when) await agenda.schedule(when, JOBS.start, data);
      else await agenda.now(JOBS.start, data);
    },
    async scheduleStopAt(campaignId, when) {
      await agenda.schedule(when, JOBS.stopAt, parseCampaignJobPayload(JOBS.stopAt, { campaignId }));
    },
    enqueueLanes,
    async cancelTimers(campaignId) {
      await agenda.cancel({ names: [JOBS.start, JOBS.stopAt], data: { campaignId } });
    },
    wakeWebhooks: () => webhooks.wake(),
    async stop() {
      // Sends in flight are aborted first (their events are due again at once), so the webhook job ends too.
      await webhooks.close();
      stopping.abort();
      if (!options.work) return backend.notificationChannel?.disconnect();
      await agenda.drain();
      // Jobs this worker locked but never started (queued behind a concurrency limit, a
      // retry due shortly, one locked by a poll that raced the drain) stay locked after a
      // drain. Nothing of this worker runs any more, so every lock under its name is stale
      // (worker names are unique: host:pid unless BEACON_WORKER_NAME says otherwise).
      // `next_run_at IS NOT NULL` as in Agenda's own unlock: a row without one never runs again.
      await db.pool.query('UPDATE agenda_jobs SET locked_at = NULL WHERE last_modified_by = $1 AND locked_at IS NOT NULL AND next_run_at IS NOT NULL', [
        config.workerName,
      ]);
    },
  };
}

/** Connects the channel through which saving a job NOTIFYs the workers, in a process that runs no jobs. */
async function connectNotifications(agenda: Agenda, backend: PostgresBackend): Promise<void> {
  const channel = backend.notificationChannel;
  if (!channel) return; // the embedded database: its one worker polls
  await agenda.ready;
  await channel.connect();
}

/**
 * A job's lock renewal for the engine, which asks after every batch: it writes (a commit the
 * database syncs to disk) only once a tenth of the lock's lifetime has passed since the last
 * renewal, so the lock never comes near expiring (60 s lock: at most one write per 6 s)
 * while batches of a running campaign — several a second per lane — no longer add one
 * synced commit each.
 */
export function lockRenewal(job: Pick<Job<unknown>, 'touch'>, lockMs: number): () => Promise<void> {
  const every = Math.max(50, Math.floor(lockMs / 10));
  let renewedAt = Date.now();
  return async () => {
    if (Date.now() - renewedAt < every) return;
    renewedAt = Date.now();
    await job.touch();
  };
}
