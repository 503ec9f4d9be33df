/** The `testCampaign` mutation and its per-user results. */
import { builder } from '../graphql/builder.js';
import { errorsOf } from '../graphql/errors.js';
import { MAX_TEST_USERS, testCampaign, type TestSendResult } from './test-send.js';

const TestSendStatus = builder.enumType('TestSendStatus', {
  description: 'Outcome of a test send to one user.',
  values: {
    SENT: { description: 'The message was posted.' },
    ERRORED: { description: 'Nothing was posted; `error` says why.' },
  },
});

const TestSendResultRef = builder.objectRef<TestSendResult>('TestSendResult').implement({
  description: 'What a test send did for one user.',
  fields: (t) => ({
    userId: t.exposeID('userId', { description: 'The user the message was meant for.' }),
    status: t.field({ type: TestSendStatus, description: 'SENT or ERRORED.', resolve: (r) => r.status }),
    messageId: t.exposeID('messageId', { nullable: true, description: 'Id of the posted message, when SENT.' }),
    channelCid: t.exposeID('channelCid', { nullable: true, description: 'Cid of the channel the test message was posted in, when SENT.' }),
    channel: t.prismaField({
      type: 'Channel',
      nullable: true,
      description: 'The channel the test message was posted in, when SENT.',
      // Prisma batches the findUnique calls of one tick into a single query.
      resolve: (query, result, _args, ctx) => (result.channelCid ? ctx.prisma.channel.findUnique({ ...query, where: { cid: result.channelCid } }) : null),
    }),
    error: t.exposeString('error', { nullable: true, description: 'Why nothing was sent, when ERRORED.' }),
  }),
});

const TestCampaignPayload = builder.simpleObject('TestCampaignPayload', {
  description: 'Result of testCampaign.',
  fields: (t) => ({
    results: t.field({ type: [TestSendResultRef], description: 'One result per listed user, in the order given.' }),
  }),
});

builder.mutationField('testCampaign', (t) =>
  t.field({
    type: TestCampaignPayload,
    description: `Really sends the campaign's rendered message to up to ${MAX_TEST_USERS} users, each in the channel the campaign would use for them. Touches no stats or recipients; test messages carry no campaignId.`,
    errors: errorsOf('VALIDATION', 'NOT_FOUND', 'INVALID_STATE'),
    args: {
      id: t.arg.id({ required: true, description: 'The campaign.' }),
      userIds: t.arg.idList({ required: true, description: `Users to send to (1 to ${MAX_TEST_USERS}).` }),
    },
    resolve: async (_root, args, ctx) => ({ results: await testCampaign(ctx.prisma, String(args.id), args.userIds.map(String)) }),
  }),
);
