/** `Campaign.timeline`: messages sent per time bucket, for the campaign page's chart. */
import { builder } from '../graphql/builder.js';
import { DEFAULT_TIMELINE_BUCKETS, MAX_TIMELINE_BUCKETS, campaignTimeline, checkBuckets, type TimelineBucket } from './timeline.js';

const TimelineBucketRef = builder.objectRef<TimelineBucket>('TimelineBucket').implement({
  description: 'Messages a campaign sent in one time bucket.',
  fields: (t) => ({
    start: t.expose('start', { type: 'DateTime', description: 'Start of the bucket (inclusive).' }),
    end: t.expose('end', { type: 'DateTime', description: 'End of the bucket (exclusive, except for the last bucket).' }),
    sent: t.exposeInt('sent', { description: 'Messages sent in the bucket (recipients whose sentAt falls in it).' }),
  }),
});

builder.prismaObjectField('Campaign', 'timeline', (t) =>
  t.field({
    type: [TimelineBucketRef],
    description:
      'Messages sent per time bucket, counted in the database from recipients’ sentAt: `buckets` equal buckets from the first send (or startedAt) ' +
      'to completedAt (stoppedAt while STOPPED, now while delivering; never before the last send). Empty before the campaign starts. ' +
      `Index-backed, cheap enough to refresh on every live event. VALIDATION (path \`buckets\`) outside 1 to ${MAX_TIMELINE_BUCKETS}.`,
    args: {
      buckets: t.arg.int({
        required: true,
        defaultValue: DEFAULT_TIMELINE_BUCKETS,
        description: `How many buckets, 1 to ${MAX_TIMELINE_BUCKETS}.`,
      }),
    },
    resolve: (campaign, args, ctx) => campaignTimeline(ctx.prisma, campaign.id, checkBuckets(args.buckets, 'buckets')),
  }),
);
