/** Starts the event services of one process (pub/sub, campaign events) and stops them in order. */
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Campaign } from '../generated/prisma/client.js';
import { CampaignEvents } from './campaign-events.js';
import type { CampaignSource } from './live-campaigns.js';
import { createBeaconPubSub } from './pubsub.js';

export interface EventServices {
  events: CampaignEvents;
  /** Flushes pending events, closes Redis. */
  close(): Promise<void>;
}

/**
 * Connects the pub/sub (Redis when `config.redisUrl`) and creates the services on it;
 * `campaigns` is where subscribers' campaigns are read (API roles only). `onCampaignUpdate`
 * hears of every campaign change published by any process (a worker's delivery lanes: an
 * audience chunk written by another process's start job).
 */
export async function startEventServices(
  config: Config,
  logger: Logger,
  campaigns: CampaignSource<Campaign>,
  onCampaignUpdate?: (campaignId: string) => void,
): Promise<EventServices> {
  const bus = await createBeaconPubSub(config.redisUrl, logger);
  const events = new CampaignEvents(bus, { source: config.role === 'worker' ? undefined : campaigns, logger });
  logger.info('live events', { transport: bus.transport });
  const updates = onCampaignUpdate ? bus.pubsub.subscribe('campaign:updated') : undefined;
  const listening = (async () => {
    if (!updates || !onCampaignUpdate) return;
    for await (const update of updates) if (update) onCampaignUpdate(update.campaignId);
  })().catch((error: unknown) => logger.warn('campaign updates no longer heard', { error: String(error) }));
  return {
    events,
    async close() {
      await updates?.return?.();
      await listening;
      await events.close();
      await bus.close();
    },
  };
}
