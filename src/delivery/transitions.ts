/**
 * The campaign transitions delivery makes (begin, complete, fail, stop): applied with their
 * condition and, when they moved, reported (a live event, the webhook they announce). Shared
 * by the jobs (engine.ts) and completion (completion.ts).
 */
import type { PrismaClient } from '../generated/prisma/client.js';
import { reportTransition, transitionCampaign, type CampaignAction, type TransitionHooks } from '../campaigns/status.js';
import type { Logger } from '../logger.js';

/** What a transition needs: the database and where it is reported. */
export interface TransitionDeps {
  prisma: PrismaClient;
  hooks: TransitionHooks;
}

/** Applies a transition and, if it moved, reports it; returns whether it moved. */
export async function moveCampaign(
  deps: TransitionDeps,
  campaignId: string,
  action: CampaignAction,
  extra: Parameters<typeof transitionCampaign>[3] = {},
  condition: Parameters<typeof transitionCampaign>[4] = {},
): Promise<boolean> {
  const moved = await transitionCampaign(deps.prisma, campaignId, action, extra, condition, deps.hooks.webhooks);
  if (moved) reportTransition(deps.hooks, campaignId, action);
  return moved;
}

/** SCHEDULED|IN_PROGRESS → FAILED with `reason` (shown to clients: no internal details). */
export async function failCampaign(deps: TransitionDeps & { logger: Logger }, campaignId: string, reason: string): Promise<void> {
  if (await moveCampaign(deps, campaignId, 'fail', { failureReason: reason, completedAt: new Date() })) {
    deps.logger.warn('campaign failed', { campaignId, reason });
  }
}
