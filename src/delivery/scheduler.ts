/**
 * Agenda 6 on Beacon's PostgreSQL (`@agendajs/postgres-backend`, our own pg pool, the
 * table owned by a Prisma migration so `ensureSchema` is off). Every process can enqueue;
 * only worker processes (`BEACON_ROLE=all|worker`) process jobs. On the embedded
 * database (one session, no cross-connection NOTIFY) it polls instead of listening.
 */
import { Agenda, type Job } from 'agenda';
import { PostgresBackend } from '@agendajs/postgres-backend';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import { JOBS, parseCampaignJobPayload, type CampaignJobPayload } from './jobs.js';
import { runDeliver, runStart, runStopAt, type DeliveryHooks, type EngineDeps } from './engine.js';
import { RateLimiter } from './rate-limit.js';

export interface Scheduler {
  /** Queues campaign.start at `when` (now when omitted). */
  scheduleStart(campaignId: string, when?: Date): Promise<void>;
  scheduleStopAt(campaignId: string, when: Date): Promise<void>;
  /** Queues the delivery lanes of a running campaign. */
  enqueueLanes(campaignId: string): Promise<void>;
  /** Removes the campaign's queued start/stop-at jobs (stop, delete). */
  cancelTimers(campaignId: string): Promise<void>;
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
  const agenda = new Agenda({
    backend: new PostgresBackend({ pool: db.pool, ensureSchema: false, disableNotifications: db.embedded }),
    processEvery: config.jobPollMs,
    defaultLockLifetime: config.jobLockMs,
    // Delivery lanes of several campaigns may run side by side in one worker.
    maxConcurrency: 20,
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
    logger,
    hooks: options.hooks,
    batchSize: config.deliveryBatchSize,
    limiter: new RateLimiter(config.deliveryRate),
    enqueueLanes,
  };
  const payload = (job: Job<unknown>) => parseCampaignJobPayload(job.attrs.name, job.attrs.data);
  const once = { removeOnComplete: true };
  agenda.define(JOBS.start, async (job: Job<unknown>) => runStart(deps, payload(job).campaignId), once);
  agenda.define(JOBS.stopAt, async (job: Job<unknown>) => runStopAt(deps, payload(job).campaignId), once);
  agenda.define(
    JOBS.deliver,
    async (job: Job<unknown>) => runDeliver(deps, payload(job).campaignId, () => job.touch()),
    { ...once, concurrency: Math.max(2, config.deliveryLanes) },
  );
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
    async stop() {
      await agenda.stop(false);
    },
  };
}
