/**
 * Sends the campaign webhooks waiting in `webhook_outbox` (spec §7). Each row was written
 * in the transaction of the transition it announces (src/campaigns/webhook-event.ts); the
 * `webhooks.send` job (src/delivery/scheduler.ts) runs `drain()` right after a transition
 * commits, and every BEACON_WEBHOOK_RETRY_MS for retries that came due and for events a
 * process left behind when it died.
 *
 * A row is pending while `next_attempt_at` is set, delivered once `delivered_at` is,
 * given up when both are null. One attempt:
 *   claim   the due rows (row locks, SKIP LOCKED) and lease them: `attempts + 1`, and
 *           `next_attempt_at` moved past the request timeout, so a sender that dies
 *           mid-request leaves the event to be retried when the lease ends.
 *   POST    `{ id, type, created_at, campaign }` with the headers below.
 *   record  2xx → delivered. 5xx, 429, network error or timeout → next attempt after an
 *           exponential backoff with ±20% jitter (a 429's Retry-After is honoured up to the
 *           maximum), given up after BEACON_WEBHOOK_ATTEMPTS. Any other status is a
 *           refusal: given up at once. Giving up is logged.
 * Only a campaign's oldest pending event can be claimed, so its events arrive in the order
 * of its transitions (started before completed) even with several senders; other
 * campaigns' events do not wait behind it. Delivery is at least once: a sender that dies
 * after the receiver accepted but before recording it sends again, with the same id.
 *
 * Headers: `X-Beacon-Delivery` (the event id, the same on every attempt: receivers
 * deduplicate on it, as on the body's `id`), `X-Beacon-Event` (type), `X-Beacon-Attempt`
 * (1, 2, …), `X-Beacon-Timestamp` (Unix seconds), and with BEACON_WEBHOOK_SECRET
 * `X-Beacon-Signature: sha256=<hex HMAC-SHA256 of the exact body>`.
 */
import { createHmac } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from '../logger.js';

export interface WebhookOutboxOptions {
  /** Pool of the database that holds `webhook_outbox`. */
  pool: pg.Pool;
  /** Where to POST. */
  url: string;
  /** HMAC key; undefined sends no signature header. */
  secret: string | undefined;
  logger: Logger;
  /** Attempts per event, the first included. */
  attempts: number;
  /** Delay before the first retry, doubled each time … */
  retryMs: number;
  /** … up to this (default 1 h). */
  maxRetryMs?: number;
  /** Timeout of one request (default 10 s). */
  requestTimeoutMs?: number;
  /** Events claimed (and posted concurrently) at once (default 10). */
  batchSize?: number;
}

/** Delivered and given-up events are kept this long (for inspection), then deleted. */
const RETENTION_DAYS = 7;
/** How often one process deletes expired events. */
const PURGE_EVERY_MS = 3_600_000;

interface OutboxEvent {
  id: string;
  type: string;
  campaign_id: string;
  payload: unknown;
  attempts: number;
  created_at: Date;
}

type Outcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; error: string; retryAfterMs?: number }
  | { kind: 'refused'; error: string }
  | { kind: 'interrupted' };

/** The delay before attempt `attempt + 1`: base·2^(attempt−1), capped, with ±20% jitter. */
export function retryDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(baseMs * 2 ** (attempt - 1), maxMs);
  return Math.min(Math.round(exponential * (0.8 + 0.4 * random())), maxMs);
}

/** `sha256=<hex>` of `body` under `secret`: what X-Beacon-Signature carries. */
function signWebhookBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

const retryable = (status: number) => status >= 500 || status === 429;

export class WebhookOutbox {
  private readonly cancel = new AbortController();
  private readonly running = new Set<Promise<number>>();
  private readonly maxRetryMs: number;
  private readonly requestTimeoutMs: number;
  private readonly batchSize: number;
  private purgedAt = 0;

  constructor(private readonly options: WebhookOutboxOptions) {
    this.maxRetryMs = options.maxRetryMs ?? 3_600_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.batchSize = options.batchSize ?? 10;
  }

  /**
   * Sends every event that is due, round after round, until none is left (`touch` runs
   * between rounds: it extends the job's lock). Returns how many attempts were made.
   */
  drain(touch?: () => Promise<void>): Promise<number> {
    const run = this.drainRounds(touch).finally(() => this.running.delete(run));
    this.running.add(run);
    return run;
  }

  /** Stops draining: aborts requests in flight (their events are due again at once) and waits for the drains to record that. */
  async close(): Promise<void> {
    this.cancel.abort();
    await Promise.allSettled([...this.running]);
  }

  private async drainRounds(touch?: () => Promise<void>): Promise<number> {
    let attempted = 0;
    while (!this.cancel.signal.aborted) {
      const events = await this.claim();
      if (events.length === 0) break;
      await Promise.all(events.map((event) => this.send(event)));
      attempted += events.length;
      await touch?.();
    }
    if (Date.now() - this.purgedAt > PURGE_EVERY_MS && !this.cancel.signal.aborted) await this.purge();
    return attempted;
  }

  private async claim(): Promise<OutboxEvent[]> {
    const leaseMs = this.requestTimeoutMs + 5_000;
    // The NOT EXISTS keeps each campaign to its oldest pending event (see the header); the
    // lease is taken in the same statement as the lock, so no other sender claims it after.
    const { rows } = await this.options.pool.query<OutboxEvent>(
      `UPDATE webhook_outbox o
          SET attempts = o.attempts + 1, next_attempt_at = now() + $2 * interval '1 millisecond'
         FROM (SELECT w.id FROM webhook_outbox w
                WHERE w.next_attempt_at <= now()
                  AND NOT EXISTS (SELECT 1 FROM webhook_outbox e
                                   WHERE e.campaign_id = w.campaign_id AND e.seq < w.seq AND e.next_attempt_at IS NOT NULL)
                ORDER BY w.seq
                LIMIT $1
                FOR UPDATE SKIP LOCKED) due
        WHERE o.id = due.id
      RETURNING o.id, o.type, o.campaign_id, o.payload, o.attempts, o.created_at`,
      [this.batchSize, leaseMs],
    );
    return rows;
  }

  /** One attempt at one event, and its outcome recorded. */
  private async send(event: OutboxEvent): Promise<void> {
    const outcome = await this.post(event);
    const { pool, logger, attempts } = this.options;
    const fields = { id: event.id, type: event.type, campaignId: event.campaign_id, attempts: event.attempts };
    switch (outcome.kind) {
      case 'delivered':
        await pool.query('UPDATE webhook_outbox SET delivered_at = now(), next_attempt_at = NULL, last_error = NULL WHERE id = $1', [event.id]);
        return;
      case 'interrupted':
        // Shutdown cut the request: whether it arrived is unknown, so it goes again first thing.
        await pool.query(`UPDATE webhook_outbox SET next_attempt_at = now(), last_error = 'interrupted by shutdown' WHERE id = $1`, [event.id]);
        return;
      case 'refused':
        logger.warn('webhook refused', { ...fields, error: outcome.error });
        await pool.query('UPDATE webhook_outbox SET next_attempt_at = NULL, last_error = $2 WHERE id = $1', [event.id, outcome.error]);
        return;
      case 'retry': {
        if (event.attempts >= attempts) {
          logger.warn('webhook given up', { ...fields, error: outcome.error });
          await pool.query('UPDATE webhook_outbox SET next_attempt_at = NULL, last_error = $2 WHERE id = $1', [event.id, outcome.error]);
          return;
        }
        const backoff = retryDelay(event.attempts, this.options.retryMs, this.maxRetryMs);
        const delay = Math.min(Math.max(backoff, outcome.retryAfterMs ?? 0), this.maxRetryMs);
        logger.debug('webhook will be retried', { ...fields, error: outcome.error, delayMs: delay });
        await pool.query(`UPDATE webhook_outbox SET next_attempt_at = now() + $2 * interval '1 millisecond', last_error = $3 WHERE id = $1`, [
          event.id,
          delay,
          outcome.error,
        ]);
      }
    }
  }

  private async post(event: OutboxEvent): Promise<Outcome> {
    const { url, secret } = this.options;
    const body = JSON.stringify({ id: event.id, type: event.type, created_at: event.created_at.toISOString(), campaign: event.payload });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Beacon-Webhooks/1',
      'x-beacon-event': event.type,
      'x-beacon-delivery': event.id,
      'x-beacon-attempt': String(event.attempts),
      'x-beacon-timestamp': String(Math.floor(Date.now() / 1000)),
    };
    if (secret !== undefined) headers['x-beacon-signature'] = signWebhookBody(body, secret);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([this.cancel.signal, AbortSignal.timeout(this.requestTimeoutMs)]),
      });
      await response.body?.cancel();
      if (response.ok) return { kind: 'delivered' };
      if (!retryable(response.status)) return { kind: 'refused', error: `HTTP ${response.status}` };
      const retryAfter = Number(response.headers.get('retry-after'));
      return { kind: 'retry', error: `HTTP ${response.status}`, retryAfterMs: Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined };
    } catch (error) {
      if (this.cancel.signal.aborted) return { kind: 'interrupted' };
      return { kind: 'retry', error: String((error as Error)?.cause ?? error) };
    }
  }

  /** Deletes delivered and given-up events older than the retention. */
  private async purge(): Promise<void> {
    this.purgedAt = Date.now();
    const { rowCount } = await this.options.pool.query(
      `DELETE FROM webhook_outbox WHERE next_attempt_at IS NULL AND created_at < now() - interval '${RETENTION_DAYS} days'`,
    );
    if (rowCount) this.options.logger.debug('webhook outbox purged', { deleted: rowCount });
  }
}
