/**
 * The Subscription root and `campaignUpdated` (spec §7). Events carry campaign ids only;
 * each one re-reads the campaign with the client's selection, so a subscriber always sees
 * committed state, whichever process published the change. Served over graphql-ws and SSE.
 */
import { builder } from '../graphql/builder.js';
import { NotFoundError } from '../errors.js';

builder.subscriptionType({
  description: 'Live updates. Every field needs a server token (checked when the subscription starts).',
  authScopes: { server: true },
});

builder.subscriptionField('campaignUpdated', (t) =>
  t.prismaField({
    type: 'Campaign',
    description:
      'The campaign each time its status or counters change, at most every 250 ms per campaign and always ending with its latest state. With `id`, the current state comes first, and the subscription ends if the campaign is deleted; without, every campaign’s changes.',
    args: { id: t.arg.id({ description: 'Campaign to watch; leave out to watch every campaign.' }) },
    subscribe: async (_root, args, ctx) => {
      if (args.id == null) return ctx.events.updates();
      const id = String(args.id);
      const exists = await ctx.prisma.campaign.findUnique({ where: { id }, select: { id: true } });
      if (!exists) throw new NotFoundError(`Campaign ${id} does not exist`, 'id');
      return ctx.events.updates({ campaignId: id, initial: true });
    },
    resolve: async (query, event, _args, ctx) => {
      const { campaignId } = event;
      const campaign = await ctx.prisma.campaign.findUnique({ ...query, where: { id: campaignId } });
      // Deleted between the event and this read.
      if (!campaign) throw new NotFoundError(`Campaign ${campaignId} does not exist`, 'id');
      return campaign;
    },
  }),
);
