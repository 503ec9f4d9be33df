/** Connects delivery's reports to the live events and the outbound webhooks. */
import type { PrismaClient } from '../generated/prisma/client.js';
import type { CampaignEvents } from '../events/campaign-events.js';
import { campaignWebhookInclude, type Webhooks } from '../events/webhooks.js';
import type { Logger } from '../logger.js';
import type { DeliveryHooks } from './engine.js';

/** Hooks that publish `campaignUpdated` events and send webhooks (never throwing into delivery). */
export function deliveryHooks(prisma: PrismaClient, events: CampaignEvents, webhooks: Webhooks, logger: Logger): DeliveryHooks {
  return {
    changed(campaignId, status) {
      events.campaignChanged(campaignId, status);
    },
    announce(type, campaignId) {
      prisma.campaign
        .findUnique({ where: { id: campaignId }, include: campaignWebhookInclude })
        .then((campaign) => {
          if (campaign) webhooks.sendCampaignWebhook(type, campaign);
        })
        .catch((error: unknown) => logger.error('webhook not queued', { campaignId, type, error: String(error) }));
    },
  };
}
