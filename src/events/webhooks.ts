/**
 * Outbound campaign webhooks (spec §7): `campaign.started`, `campaign.completed`,
 * `campaign.stopped`, Stream-style JSON with the campaign and its stats.
 *
 * Sending never blocks or fails the caller: `sendCampaignWebhook` only enqueues (a bounded
 * FIFO; when full, the new event is dropped and logged) and one loop posts the events in
 * order, retrying network errors, 5xx and 429 with exponential backoff (429's Retry-After
 * is honoured up to the maximum delay). Each body is signed:
 * `X-Beacon-Signature: sha256=<hex HMAC-SHA256 of the exact body with BEACON_WEBHOOK_SECRET>`.
 * `close()` gives the queue a short grace period, then cancels what is left.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import type { Campaign as CampaignRow } from '../generated/prisma/client.js';
import { campaignStats } from '../campaigns/service.js';

export type CampaignWebhookType = 'campaign.started' | 'campaign.completed' | 'campaign.stopped';

/** The campaign columns a webhook carries, with its segment links when the caller loaded them (`campaignWebhookInclude`). */
export type WebhookCampaign = Pick<
  CampaignRow,
  | 'id' | 'name' | 'description' | 'status' | 'failureReason' | 'senderId' | 'senderMode' | 'userIds'
  | 'messageTemplate' | 'channelTemplate' | 'createChannels' | 'skipPush' | 'skipWebhook'
  | 'scheduledFor' | 'stopAt' | 'startedAt' | 'completedAt' | 'stoppedAt' | 'createdAt' | 'updatedAt'
  | 'recipientsTotal' | 'messagesSent' | 'messagesErrored' | 'recipientsSkipped' | 'channelsCreated' | 'usersSent' | 'usersRead'
> & { segments?: { segmentId: string; position?: number }[] };

/** Prisma `include` that loads what the payload's `segment_ids` needs. */
export const campaignWebhookInclude = {
  segments: { orderBy: { position: 'asc' }, select: { segmentId: true, position: true } },
} as const;

export interface WebhookOptions {
  /** Where to POST; undefined disables webhooks. */
  url: string | undefined;
  /** HMAC key; undefined sends no signature header. */
  secret: string | undefined;
  logger: Logger;
  /** Attempts per event, the first included (default 5). */
  attempts?: number;
  /** Delay before the first retry, doubled each time (default 500 ms) … */
  baseDelayMs?: number;
  /** … up to this (default 8 s). */
  maxDelayMs?: number;
  /** Timeout of one request (default 10 s). */
  requestTimeoutMs?: number;
  /** Events waiting at most (default 1,000). */
  maxQueue?: number;
  /** How long close() lets the queue drain before cancelling (default 2 s). */
  closeGraceMs?: number;
}

interface Delivery {
  id: string;
  type: CampaignWebhookType;
  body: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The payload's campaign: public fields and stats, snake_case like Stream's. */
function webhookCampaign(c: WebhookCampaign): Record<string, unknown> {
  const stats = campaignStats(c);
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    status: c.status,
    failure_reason: c.failureReason,
    sender_id: c.senderId,
    sender_mode: c.senderMode,
    segment_ids: c.segments ? [...c.segments].sort((a, b) => (a.position ?? 0) - (b.position ?? 0)).map((s) => s.segmentId) : undefined,
    user_ids: c.userIds,
    message_template: c.messageTemplate,
    channel_template: c.channelTemplate,
    create_channels: c.createChannels,
    skip_push: c.skipPush,
    skip_webhook: c.skipWebhook,
    scheduled_for: iso(c.scheduledFor),
    stop_at: iso(c.stopAt),
    started_at: iso(c.startedAt),
    completed_at: iso(c.completedAt),
    stopped_at: iso(c.stoppedAt),
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
    stats: {
      recipients_total: stats.recipientsTotal,
      pending: stats.pending,
      messages_sent: stats.messagesSent,
      messages_errored: stats.messagesErrored,
      channels_created: stats.channelsCreated,
      users_sent: stats.usersSent,
      users_read: stats.usersRead,
      read_ratio: stats.readRatio,
      progress: stats.progress,
      started_at: iso(stats.startedAt),
      completed_at: iso(stats.completedAt),
    },
  };
}

/** `sha256=<hex>` of `body` under `secret`: what X-Beacon-Signature carries. */
function signWebhookBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Sleeps `ms`, or less when `signal` aborts. */
const sleep = (ms: number, signal: AbortSignal): Promise<void> => delay(ms, undefined, { signal }).catch(() => undefined);

const retryable = (status: number) => status >= 500 || status === 429;

export class Webhooks {
  private readonly queue: Delivery[] = [];
  private readonly cancel = new AbortController();
  private running: Promise<void> | null = null;
  private closed = false;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxQueue: number;
  private readonly closeGraceMs: number;

  constructor(private readonly options: WebhookOptions) {
    this.attempts = options.attempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 8000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.maxQueue = options.maxQueue ?? 1000;
    this.closeGraceMs = options.closeGraceMs ?? 2000;
  }

  /** Whether a webhook URL is configured. */
  get enabled(): boolean {
    return this.options.url !== undefined;
  }

  /**
   * Queues a webhook for a status transition (fire and forget; never throws). Nothing is sent
   * without a URL, for campaigns with `skipWebhook`, or after close(). Returns whether it was queued.
   */
  sendCampaignWebhook(type: CampaignWebhookType, campaign: WebhookCampaign): boolean {
    const { logger } = this.options;
    if (!this.enabled || this.closed || campaign.skipWebhook) return false;
    if (this.queue.length >= this.maxQueue) {
      logger.warn('webhook dropped: queue full', { type, campaignId: campaign.id, maxQueue: this.maxQueue });
      return false;
    }
    try {
      const body = JSON.stringify({ type, created_at: new Date().toISOString(), campaign: webhookCampaign(campaign) });
      this.queue.push({ id: randomUUID(), type, body });
    } catch (error) {
      logger.error('webhook payload failed', { type, campaignId: campaign.id, error: String(error) });
      return false;
    }
    this.running ??= this.drain().finally(() => (this.running = null));
    return true;
  }

  /** Stops accepting; waits up to the grace period for queued webhooks, then cancels the rest. */
  async close(): Promise<void> {
    this.closed = true;
    const running = this.running;
    if (!running) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([running, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.closeGraceMs)))]);
    clearTimeout(timer);
    this.cancel.abort();
    await running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length && !this.cancel.signal.aborted) {
      await this.deliver(this.queue[0]!);
      this.queue.shift();
    }
    if (this.queue.length) {
      this.options.logger.warn('webhooks cancelled at shutdown', { count: this.queue.length });
      this.queue.length = 0;
    }
  }

  /** Posts one webhook until it is accepted, refused for good, or out of attempts. */
  private async deliver(delivery: Delivery): Promise<void> {
    const { logger } = this.options;
    for (let attempt = 1; attempt <= this.attempts; attempt += 1) {
      const outcome = await this.post(delivery, attempt);
      if (outcome.done) return;
      if (attempt === this.attempts || this.cancel.signal.aborted) {
        logger.warn('webhook failed', { id: delivery.id, type: delivery.type, attempts: attempt, error: outcome.error });
        return;
      }
      const backoff = Math.min(this.baseDelayMs * 2 ** (attempt - 1), this.maxDelayMs);
      await sleep(Math.min(Math.max(backoff, outcome.retryAfterMs ?? 0), this.maxDelayMs), this.cancel.signal);
    }
  }

  private async post(delivery: Delivery, attempt: number): Promise<{ done: boolean; error?: string; retryAfterMs?: number }> {
    const { url, secret, logger } = this.options;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Beacon-Webhooks/1',
      'x-beacon-event': delivery.type,
      'x-beacon-delivery': delivery.id,
      'x-beacon-attempt': String(attempt),
      'x-beacon-timestamp': String(Math.floor(Date.now() / 1000)),
    };
    if (secret !== undefined) headers['x-beacon-signature'] = signWebhookBody(delivery.body, secret);
    try {
      const response = await fetch(url!, {
        method: 'POST',
        headers,
        body: delivery.body,
        signal: AbortSignal.any([this.cancel.signal, AbortSignal.timeout(this.requestTimeoutMs)]),
      });
      await response.body?.cancel();
      if (response.ok) return { done: true };
      if (!retryable(response.status)) {
        logger.warn('webhook refused', { id: delivery.id, type: delivery.type, status: response.status });
        return { done: true };
      }
      const retryAfter = Number(response.headers.get('retry-after'));
      return { done: false, error: `HTTP ${response.status}`, retryAfterMs: Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined };
    } catch (error) {
      return { done: false, error: String((error as Error)?.cause ?? error) };
    }
  }
}
