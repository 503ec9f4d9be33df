/**
 * The campaign reads behind live events (src/events/live-campaigns.ts): whole rows, which
 * hold everything the Campaign type's own fields and its stats read, so one row per event
 * serves every subscriber's selection; relations in a selection load on their own.
 */
import type { Campaign, PrismaClient } from '../generated/prisma/client.js';
import type { CampaignSource } from '../events/live-campaigns.js';

/**
 * Reads campaigns for the live-events hub. `onRead` runs before each read: the hub reads on
 * each change it hears of, before any subscriber is told of it (the API's single flight
 * stops joining reads started before it).
 */
export function liveCampaignSource(prisma: PrismaClient, onRead: () => void = () => {}): CampaignSource<Campaign> {
  return {
    read: (ids) => {
      onRead();
      return prisma.campaign.findMany({ where: { id: { in: [...ids] } } });
    },
    async changedSince(since) {
      const rows = await prisma.campaign.findMany({ where: { updatedAt: { gte: since } }, select: { id: true } });
      return rows.map((row) => row.id);
    },
  };
}
