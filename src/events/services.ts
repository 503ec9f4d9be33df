/** Starts the event services of one process (pub/sub, campaign events) and stops them in order. */
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { CampaignEvents } from './campaign-events.js';
import { createBeaconPubSub } from './pubsub.js';

export interface EventServices {
  events: CampaignEvents;
  /** Flushes pending events, closes Redis. */
  close(): Promise<void>;
}

/** Connects the pub/sub (Redis when `config.redisUrl`) and creates the services on it. */
export async function startEventServices(config: Config, logger: Logger): Promise<EventServices> {
  const bus = await createBeaconPubSub(config.redisUrl, logger);
  const events = new CampaignEvents(bus);
  logger.info('live events', { transport: bus.transport });
  return {
    events,
    async close() {
      await events.close();
      await bus.close();
    },
  };
}
