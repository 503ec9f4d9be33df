/**
 * Agenda 6 on Beacon's PostgreSQL (`@agendajs/postgres-backend`, our own pg pool, the
 * table owned by a Prisma migration so `ensureSchema` is off). Every process can enqueue;
 * only worker processes (`BEACON_ROLE=all|worker`) process jobs. On the embedded
 * database (one session, no cross-connection NOTIFY) it polls instead of listening.
 */
import { Agenda, exponential, type Job } from 'agenda';
import { PostgresBackend } from '@agendajs/postgres-backend';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import { JOB_RETRY, JOBS, parseCampaignJobPayload, type CampaignJobPayload } from './jobs.js';
import { failCampaign, runDeliver, runStart, runStopAt, type DeliveryHooks, type EngineDeps } from './engine.js';
import { RateLimiter } from './rate-limit.js';
import { defineWebhookJob } from './webhooks-job.js';

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
  /** Stops taking jobs and waits for running ones to finish their current step. */
  stop(): Promise<void>;
}

export interface SchedulerOptions {
  config: Config;
  db: Database;
  logger: Logger;
  hooks: DeliveryHooks;
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
    limiter: new RateLimiter(config.deliveryRate),
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
  // Agenda locks every due job it finds unless `lockLimit` caps it: without the cap one
  // worker would hold jobs it cannot run yet while other workers sit idle until the locks expire.
  const slots = (concurrency: number) => ({ removeOnComplete: true, concurrency, lockLimit: concurrency, backoff });
  agenda.define(JOBS.start, async (job: Job<unknown>) => runStart(deps, payload(job).campaignId), slots(5));
  agenda.define(JOBS.stopAt, async (job: Job<unknown>) => runStopAt(deps, payload(job).campaignId), slots(5));
  agenda.define(
    JOBS.deliver,
    async (job: Job<unknown>) => runDeliver(deps, payload(job).campaignId, () => job.touch()),
    slots(config.deliveryConcurrency),
  );
  const webhooks = await defineWebhookJob(agenda, { config, db, logger, work: options.work });
  if (options.work) await agenda.start();

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
      await webhooks.close();
      await agenda.stop(false);
    },
  };
}
