/**
 * A campaign's delivery figures, derived from its counter columns. Shared by the GraphQL
 * type and the webhook payload, and free of imports from the campaign services so the
 * state machine (status.ts) can render a webhook without a cycle.
 */
import type { Campaign as CampaignRow } from '../generated/prisma/client.js';

export interface CampaignStats {
  recipientsTotal: number;
  pending: number;
  messagesSent: number;
  messagesErrored: number;
  channelsCreated: number;
  usersSent: number;
  usersRead: number;
  readRatio: number;
  progress: number;
  startedAt: Date | null;
  completedAt: Date | null;
}

type StatsSource = Pick<
  CampaignRow,
  'status' | 'recipientsTotal' | 'messagesSent' | 'messagesErrored' | 'recipientsSkipped' | 'channelsCreated' | 'usersSent' | 'usersRead' | 'startedAt' | 'completedAt'
>;

/** Stats from the counter columns: pending = total − sent − errored − skipped; progress 0..1. */
export function campaignStats(c: StatsSource): CampaignStats {
  const pending = Math.max(0, c.recipientsTotal - c.messagesSent - c.messagesErrored - c.recipientsSkipped);
  const progress = c.recipientsTotal > 0 ? (c.recipientsTotal - pending) / c.recipientsTotal : c.status === 'COMPLETED' ? 1 : 0;
  return {
    recipientsTotal: c.recipientsTotal,
    pending,
    messagesSent: c.messagesSent,
    messagesErrored: c.messagesErrored,
    channelsCreated: c.channelsCreated,
    usersSent: c.usersSent,
    usersRead: c.usersRead,
    readRatio: c.usersSent > 0 ? c.usersRead / c.usersSent : 0,
    progress,
    startedAt: c.startedAt,
    completedAt: c.completedAt,
  };
}
