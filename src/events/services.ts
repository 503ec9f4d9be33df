/** Starts the event services of one process (pub/sub, campaign events, webhooks) and stops them in order. */
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Campaign } from '../generated/prisma/client.js';
import { CampaignEvents } from './campaign-events.js';
import type { CampaignSource } from './live-campaigns.js';
import { createBeaconPubSub } from './pubsub.js';
import { Webhooks } from './webhooks.js';

export interface EventServices {
  events: CampaignEvents;
  webhooks: Webhooks;
  /** Flushes pending events, drains or cancels webhooks, closes Redis. */
  close(): Promise<void>;
}

/**
 * Connects the pub/sub (Redis when `config.redisUrl`) and creates the services on it;
 * `campaigns` is where subscribers' campaigns are read (API roles only).
 */
export async function startEventServices(config: Config, logger: Logger, campaigns: CampaignSource<Campaign>): Promise<EventServices> {
  const bus = await createBeaconPubSub(config.redisUrl, logger);
  const events = new CampaignEvents(bus, { source: config.role === 'worker' ? undefined : campaigns, logger });
  const webhooks = new Webhooks({ url: config.webhookUrl, secret: config.webhookSecret, logger });
  if (config.webhookUrl && !config.webhookSecret) logger.warn('BEACON_WEBHOOK_URL is set without BEACON_WEBHOOK_SECRET: webhooks go unsigned');
  logger.info('live events', { transport: bus.transport, webhooks: webhooks.enabled });
  return {
    events,
    webhooks,
    async close() {
      await events.close();
      await webhooks.close();
      await bus.close();
    },
  };
}
