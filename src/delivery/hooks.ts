/** Connects delivery's reports to the live events and the webhook outbox's sender. */
import type { CampaignEvents } from '../events/campaign-events.js';
import type { Logger } from '../logger.js';
import type { TransitionHooks } from '../campaigns/status.js';

export interface WebhookWake {
  /** Whether webhooks are configured (transitions then write outbox events). */
  enabled: boolean;
  /** Starts a drain of the outbox. */
  wake(): Promise<void>;
}

/** Hooks that publish `campaignUpdated` events and wake the webhook sender (never throwing into delivery). */
export function deliveryHooks(events: CampaignEvents, webhooks: WebhookWake, logger: Logger): TransitionHooks {
  return {
    webhooks: webhooks.enabled,
    changed(campaignId, status) {
      events.campaignChanged(campaignId, status);
    },
    announce(type, campaignId) {
      // The event committed with the transition; a lost wake only delays it to the next
      // retry beat (BEACON_WEBHOOK_RETRY_MS).
      webhooks.wake().catch((error: unknown) => logger.warn('webhook sender not woken', { type, campaignId, error: String(error) }));
    },
  };
}
