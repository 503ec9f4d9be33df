/** GraphQL enums of campaigns, shared by the campaign type, its filters and delivery. */
import { builder } from '../graphql/builder.js';
import { CampaignStatus, SenderMode } from '../generated/prisma/enums.js';

export const CampaignStatusEnum = builder.enumType('CampaignStatus', {
  description: 'Where a campaign is in its lifecycle (transitions: src/campaigns/status.ts).',
  values: {
    [CampaignStatus.DRAFT]: { description: 'Being written; editable; not started.' },
    [CampaignStatus.SCHEDULED]: { description: 'Started with a future `scheduledFor`; delivery begins then. Still editable.' },
    [CampaignStatus.IN_PROGRESS]: { description: 'Delivering.' },
    [CampaignStatus.COMPLETED]: { description: 'Every recipient was handled.' },
    [CampaignStatus.STOPPED]: { description: 'Stopped by stopCampaign or `stopAt`; resumeCampaign continues it.' },
    [CampaignStatus.FAILED]: { description: 'Could not proceed; `failureReason` says why.' },
  } as const,
});

export const SenderModeEnum = builder.enumType('SenderMode', {
  description: 'Whether the sender is added to the channels a campaign posts into; null means: to channels the campaign creates only.',
  values: {
    [SenderMode.EXCLUDE]: { description: 'Never add the sender to a channel.' },
    [SenderMode.INCLUDE]: { description: 'Add the sender to every target channel it is not yet a member of.' },
  } as const,
});
