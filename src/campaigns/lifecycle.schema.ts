/** startCampaign, stopCampaign, resumeCampaign, retryFailedRecipients (spec §4). */
import { builder } from '../graphql/builder.js';
import { errorsOf } from '../graphql/errors.js';
import type { Context } from '../graphql/context.js';
import { campaignPayload } from './schema.js';
import { resumeCampaign, retryFailedRecipients, startCampaign, stopCampaign, type LifecycleDeps } from './lifecycle.js';

const deps = (ctx: Context): LifecycleDeps => ({ prisma: ctx.prisma, scheduler: ctx.scheduler, hooks: ctx.deliveryHooks });

const StartCampaignPayload = campaignPayload('StartCampaign');
const StopCampaignPayload = campaignPayload('StopCampaign');
const ResumeCampaignPayload = campaignPayload('ResumeCampaign');
const RetryFailedRecipientsPayload = campaignPayload('RetryFailedRecipients');
builder.objectField(RetryFailedRecipientsPayload, 'retried', (t) =>
  t.int({ description: 'How many ERRORED recipients were put back to PENDING.', resolve: (parent) => (parent as unknown as { retried: number }).retried }),
);

builder.mutationFields((t) => ({
  startCampaign: t.field({
    type: StartCampaignPayload,
    description:
      'Starts a DRAFT campaign: now (IN_PROGRESS), or at `scheduledFor` (SCHEDULED). `stopAt` stops it automatically. Recipients are written from the audience when delivery begins.',
    errors: errorsOf('VALIDATION', 'NOT_FOUND', 'INVALID_STATE'),
    args: {
      id: t.arg.id({ required: true, description: 'The campaign.' }),
      scheduledFor: t.arg({ type: 'DateTime', description: 'When to begin; omitted or now: at once. A time in the past is a VALIDATION error.' }),
      stopAt: t.arg({ type: 'DateTime', description: 'When to stop automatically if still running; after the start time.' }),
    },
    resolve: async (_root, args, ctx) => {
      await startCampaign(deps(ctx), String(args.id), args.scheduledFor, args.stopAt);
      return { campaignId: String(args.id) };
    },
  }),
  stopCampaign: t.field({
    type: StopCampaignPayload,
    description: 'Stops a SCHEDULED or IN_PROGRESS campaign. No message is sent after it returns beyond the batch already committing.',
    errors: errorsOf('NOT_FOUND', 'INVALID_STATE'),
    args: { id: t.arg.id({ required: true, description: 'The campaign.' }) },
    resolve: async (_root, args, ctx) => {
      await stopCampaign(deps(ctx), String(args.id));
      return { campaignId: String(args.id) };
    },
  }),
  resumeCampaign: t.field({
    type: ResumeCampaignPayload,
    description: 'Resumes a STOPPED campaign, delivering only to recipients still PENDING.',
    errors: errorsOf('NOT_FOUND', 'INVALID_STATE'),
    args: { id: t.arg.id({ required: true, description: 'The campaign.' }) },
    resolve: async (_root, args, ctx) => {
      await resumeCampaign(deps(ctx), String(args.id));
      return { campaignId: String(args.id) };
    },
  }),
  retryFailedRecipients: t.field({
    type: RetryFailedRecipientsPayload,
    description:
      'Puts ERRORED recipients back to PENDING and delivers them again (a COMPLETED campaign re-opens to IN_PROGRESS; a STOPPED one delivers them on resume).',
    errors: errorsOf('NOT_FOUND', 'INVALID_STATE'),
    args: { id: t.arg.id({ required: true, description: 'The campaign.' }) },
    resolve: async (_root, args, ctx) => ({ campaignId: String(args.id), retried: await retryFailedRecipients(deps(ctx), String(args.id)) }),
  }),
}));
