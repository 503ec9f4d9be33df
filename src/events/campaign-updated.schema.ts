/**
 * The Subscription root and `campaignUpdated` (spec §7). Events carry campaign ids; this
 * process reads each changed campaign once (./live-campaigns.ts) and every subscriber
 * resolves its selection from that row, so a subscriber always sees committed state,
 * whichever process published the change, at the cost of one read per event however many
 * subscribers there are; the selection itself executes once per event for all subscribers
 * with the same document, variables and identity (./shared-results.ts). Relations in a selection (`segments`, `sender`, `recipients`) are
 * not in the shared row: they load per subscriber through plugin-prisma's fallback queries.
 * Served over graphql-ws and SSE.
 */
import { builder } from '../graphql/builder.js';
import { NotFoundError } from '../errors.js';
import { Campaign } from '../campaigns/schema.js';

builder.subscriptionType({
  description: 'Live updates. Every field needs a server token (checked when the subscription starts).',
  authScopes: { server: true },
});

builder.subscriptionField('campaignUpdated', (t) =>
  t.field({
    type: Campaign,
    description:
      'The campaign each time its status or counters change, always ending with its latest state. A status change (to COMPLETED, STOPPED, …) is sent at once, never held back; counter changes come at most every 250 ms per campaign (the latest counters, coalesced), so a campaign sends at most four counter events a second plus one per status change. With `id`, the current state comes first, and the subscription ends if the campaign is deleted; without, every campaign’s changes.',
    args: { id: t.arg.id({ description: 'Campaign to watch; leave out to watch every campaign.' }) },
    subscribe: async (_root, args, ctx) => {
      if (args.id == null) return ctx.events.updates();
      const id = String(args.id);
      const exists = await ctx.prisma.campaign.findUnique({ where: { id }, select: { id: true } });
      if (!exists) throw new NotFoundError(`Campaign ${id} does not exist`, 'id');
      return ctx.events.updates({ campaignId: id, initial: true });
    },
    // The row the hub read for this event, shared by every subscriber.
    resolve: (campaign) => campaign,
  }),
);
