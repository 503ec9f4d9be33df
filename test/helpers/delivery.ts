/** Fixtures for delivery tests: users, a sender, a campaign through the API, and waits. */
import { expect } from 'vitest';
import type { TestApp } from './app.js';
import { CampaignProgressDocument, CreateCampaignDocument, StartCampaignDocument, type CreateCampaignInput } from '../generated/graphql.js';

/** Inserts `count` users `<prefix>-<n>` (n from 1) and the sender `<prefix>-sender` in one statement. */
export async function seedUsers(t: TestApp, prefix: string, count: number, custom: (n: number) => object = () => ({})): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`);
  await t.app.db.prisma.user.createMany({
    data: [{ id: `${prefix}-sender`, name: 'Sender' }, ...ids.map((id, i) => ({ id, name: `User ${i + 1}`, custom: custom(i + 1) }))],
  });
  return ids;
}

/** Creates a campaign through the API and returns its id. */
export async function createCampaign(t: TestApp, input: CreateCampaignInput): Promise<string> {
  const { createCampaign } = await t.ok(CreateCampaignDocument, { input });
  if (createCampaign.__typename !== 'CreateCampaignPayload') throw new Error(JSON.stringify(createCampaign));
  return createCampaign.campaign.id;
}

/** Starts a campaign through the API; fails the test on an error result. */
export async function startCampaign(t: TestApp, id: string, options: { scheduledFor?: Date; stopAt?: Date } = {}) {
  const { startCampaign } = await t.ok(StartCampaignDocument, {
    id,
    scheduledFor: options.scheduledFor?.toISOString(),
    stopAt: options.stopAt?.toISOString(),
  });
  if (startCampaign.__typename !== 'StartCampaignPayload') throw new Error(JSON.stringify(startCampaign));
  return startCampaign.campaign;
}

/** Polls the campaign until `done` holds (or fails after `timeoutMs`). */
export async function waitForCampaign(
  t: TestApp,
  id: string,
  done: (c: NonNullable<Awaited<ReturnType<typeof progress>>>) => boolean,
  timeoutMs = 30_000,
) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const campaign = await progress(t, id);
    if (campaign && done(campaign)) return campaign;
    if (Date.now() > until) expect.fail(`campaign ${id} did not get there in ${timeoutMs} ms: ${JSON.stringify(campaign)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function progress(t: TestApp, id: string) {
  return (await t.ok(CampaignProgressDocument, { id })).campaign;
}

/**
 * Campaign messages counted in the messages table (not the counters): the total, and how
 * many channels got more than one (each receiver of a 1:1 campaign has its own channel).
 */
export async function campaignMessages(t: TestApp, campaignId: string): Promise<{ total: number; channels: number; duplicated: number }> {
  const rows = await t.app.db.prisma.$queryRaw<{ total: number; channels: number; duplicated: number }[]>`
    SELECT coalesce(sum(n), 0)::int AS total, count(*)::int AS channels, (count(*) FILTER (WHERE n > 1))::int AS duplicated
    FROM (SELECT channel_cid, count(*) AS n FROM messages WHERE campaign_id = ${campaignId} GROUP BY channel_cid) per_channel`;
  return rows[0]!;
}
