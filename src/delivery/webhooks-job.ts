/**
 * The `webhooks.send` job: drains the webhook outbox (src/events/webhook-outbox.ts). It is
 * queued right after every transition that writes an event (`wake`: a worker starts it at
 * once through Agenda's NOTIFY, or at its next poll when an API-only process, which does not
 * notify, queued it), and repeats every BEACON_WEBHOOK_RETRY_MS on worker processes for
 * retries that came due and for events whose wake was lost (a process that died between
 * its commit and the wake). One runs at a time per worker; several workers drain side by
 * side (the outbox claims with SKIP LOCKED).
 */
import type { Agenda, Job } from 'agenda';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { WebhookOutbox } from '../events/webhook-outbox.js';
import type { Logger } from '../logger.js';
import { JOBS } from './jobs.js';

export interface WebhookJob {
  /** Queues a drain now (after a transition wrote an event). */
  wake(): Promise<void>;
  /** Aborts sends in flight (their events are due again at once); call before the pool closes. */
  close(): Promise<void>;
}

/** Defines the job when BEACON_WEBHOOK_URL is set (and, on workers, its repetition); otherwise a no-op. */
export async function defineWebhookJob(agenda: Agenda, deps: { config: Config; db: Database; logger: Logger; work: boolean }): Promise<WebhookJob> {
  const { config, db, logger } = deps;
  if (!config.webhookUrl) return { wake: async () => {}, close: async () => {} };
  if (!config.webhookSecret) logger.warn('BEACON_WEBHOOK_URL is set without BEACON_WEBHOOK_SECRET: webhooks go unsigned');
  const outbox = new WebhookOutbox({
    pool: db.pool,
    url: config.webhookUrl,
    secret: config.webhookSecret,
    logger,
    attempts: config.webhookAttempts,
    retryMs: config.webhookRetryMs,
  });
  agenda.define(
    JOBS.webhooks,
    async (job: Job<unknown>) => {
      await outbox.drain(() => job.touch());
      // A woken (one-off) run deletes its own row, as delivery jobs do (scheduler.ts): with
      // Agenda's removeOnComplete, a shutdown's drain() would wait for it forever.
      if (!job.attrs.repeatInterval) await job.remove();
    },
    { concurrency: 1, lockLimit: 1 },
  );
  if (deps.work) await agenda.every(config.webhookRetryMs, JOBS.webhooks);
  return {
    async wake() {
      await agenda.now(JOBS.webhooks);
    },
    close: () => outbox.close(),
  };
}
