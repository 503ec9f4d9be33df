/**
 * The webhook a status transition announces (spec §7), written to `webhook_outbox` in the
 * transition's own transaction (see transitionCampaign in ./status.ts): a committed
 * transition has exactly one event, a rolled-back one none. src/events/webhook-outbox.ts
 * sends it.
 *
 * The payload is rendered here, when the transition happens, not when it is sent: it shows
 * the campaign as the transition left it (a `campaign.completed` says COMPLETED with the
 * final stats even if the campaign is retried or deleted before the receiver answers), and
 * every attempt sends the same bytes under the same signature.
 */
import type { Campaign as CampaignRow, Prisma } from '../generated/prisma/client.js';
import { campaignStats } from './stats.js';

export type CampaignWebhookType = 'campaign.started' | 'campaign.completed' | 'campaign.stopped';

/** A campaign row with its segment ids in order: what the payload is rendered from. */
type WebhookCampaign = CampaignRow & { segments: { segmentId: string }[] };

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The body's `campaign`: public fields and stats, snake_case like Stream's. */
function webhookCampaign(c: WebhookCampaign): Prisma.InputJsonObject {
  const stats = campaignStats(c);
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    status: c.status,
    failure_reason: c.failureReason,
    sender_id: c.senderId,
    sender_mode: c.senderMode,
    segment_ids: c.segments.map((s) => s.segmentId),
    user_ids: c.userIds,
    message_template: c.messageTemplate as Prisma.InputJsonValue,
    channel_template: c.channelTemplate as Prisma.InputJsonValue | null,
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

/**
 * Writes the `type` event of campaign `campaignId` to the outbox, unless the campaign has
 * `skipWebhook`. Runs inside the transition's transaction, after its UPDATE (so it reads
 * the row as the transition left it, under the transition's row lock). Returns the event
 * id, or null when nothing was written.
 */
export async function recordWebhook(tx: Prisma.TransactionClient, type: CampaignWebhookType, campaignId: string): Promise<string | null> {
  const campaign = await tx.campaign.findUnique({
    where: { id: campaignId },
    include: { segments: { orderBy: { position: 'asc' }, select: { segmentId: true } } },
  });
  if (!campaign || campaign.skipWebhook) return null;
  const event = await tx.webhookOutbox.create({ data: { type, campaignId, payload: webhookCampaign(campaign) }, select: { id: true } });
  return event.id;
}
