/** Message type, sendMessage, messages and markChannelRead (spec §1). */
import { builder } from '../graphql/builder.js';
import { errorsOf } from '../graphql/errors.js';
import { countedConnection, pageLimit } from '../graphql/connections.js';
import { MAX_LIST_PAGE } from '../graphql/list-args.js';
import { markChannelRead, sendMessage } from './messages.service.js';
import { parseCid } from './channels.service.js';

export const Message = builder.prismaObject('Message', {
  description: 'A message in a channel.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Message id.' }),
    channelCid: t.exposeID('channelCid', { description: 'Cid of the channel.' }),
    channel: t.relation('channel', { description: 'The channel.' }),
    userId: t.exposeID('userId', { nullable: true, description: 'Id of the sender (null once the sender is deleted).' }),
    user: t.relation('user', { nullable: true, description: 'The sender.' }),
    text: t.exposeString('text', { description: 'Text.' }),
    attachments: t.expose('attachments', { type: 'JSON', description: 'Attachments: a list of JSON objects.' }),
    custom: t.expose('custom', { type: 'JSON', description: 'Custom data.' }),
    campaignId: t.exposeID('campaignId', { nullable: true, description: 'The campaign that sent it, if any.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was sent.' }),
  }),
});

const MessageConnection = countedConnection('Message', Message, 'messages');

const SendMessageInput = builder.inputType('SendMessageInput', {
  description: 'A message to post.',
  fields: (t) => ({
    channelCid: t.id({ required: true, description: 'Cid of an existing channel.' }),
    userId: t.id({ required: true, description: 'Id of the sending user.' }),
    text: t.string({ required: true, description: 'Text, 1 to 5,000 characters.' }),
    attachments: t.field({ type: 'JSON', description: 'A list of at most 10 JSON objects.' }),
    custom: t.field({ type: 'JSON', description: 'Custom data: a JSON object.' }),
  }),
});

const SendMessagePayload = builder.simpleObject('SendMessagePayload', {
  description: 'Result of sendMessage.',
  fields: (t) => ({ messageId: t.id({ description: 'Id of the new message.' }) }),
});
// `sentMessage` is the field to select: `message` (spec §1) shares its name with `Error.message`,
// so a client selecting both in one result union must alias one of them.
for (const [name, deprecationReason] of [
  ['sentMessage', undefined],
  ['message', 'Collides with `Error.message` in a selection of SendMessageResult; use `sentMessage`.'],
] as const) {
  builder.objectField(SendMessagePayload, name, (t) =>
    t.prismaField({
      type: 'Message',
      description: 'The new message.',
      deprecationReason,
      resolve: (query, parent, _args, ctx) => ctx.prisma.message.findUniqueOrThrow({ ...query, where: { id: String(parent.messageId) } }),
    }),
  );
}

const MarkChannelReadPayload = builder.simpleObject('MarkChannelReadPayload', {
  description: 'Result of markChannelRead.',
  fields: (t) => ({
    cid: t.id({ description: 'Cid of the channel.' }),
    lastReadAt: t.field({ type: 'DateTime', description: 'The member’s new read mark.' }),
  }),
});
builder.objectField(MarkChannelReadPayload, 'channel', (t) =>
  t.prismaField({
    type: 'Channel',
    description: 'The channel.',
    resolve: (query, parent, _args, ctx) => ctx.prisma.channel.findUniqueOrThrow({ ...query, where: { cid: String(parent.cid) } }),
  }),
);

builder.queryField('messages', (t) =>
  t.prismaConnection(
    {
      type: 'Message',
      cursor: 'id',
      description: 'Messages of a channel, oldest first and newest last. `last` pages back from the newest.',
      args: { channelCid: t.arg.id({ required: true, description: 'Channel cid.' }) },
      defaultSize: 100,
      maxSize: pageLimit(MAX_LIST_PAGE),
      resolve: (query, _root, args, ctx) => {
        const channelCid = String(args.channelCid);
        parseCid(channelCid, 'channelCid');
        return ctx.prisma.message.findMany({ ...query, where: { channelCid }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
      },
      totalCount: (_root, args, ctx) => ctx.prisma.message.count({ where: { channelCid: String(args.channelCid) } }),
    },
    MessageConnection,
  ),
);

builder.mutationFields((t) => ({
  sendMessage: t.field({
    type: SendMessagePayload,
    description: 'Posts a message by an existing user into an existing channel.',
    errors: errorsOf('VALIDATION', 'NOT_FOUND'),
    args: { input: t.arg({ type: SendMessageInput, required: true, description: 'The message.' }) },
    resolve: async (_root, args, ctx) => ({ messageId: await sendMessage(ctx.prisma, args.input) }),
  }),
  markChannelRead: t.field({
    type: MarkChannelReadPayload,
    description: 'Marks a channel read for one of its members. A user token may call it for its own user.',
    skipTypeScopes: true,
    authScopes: (_root, args) => ({ $any: { server: true, userIs: args.userId } }),
    errors: errorsOf('VALIDATION', 'NOT_FOUND'),
    args: {
      channelCid: t.arg.id({ required: true, description: 'Channel cid.' }),
      userId: t.arg.id({ required: true, description: 'Id of the member who read it.' }),
    },
    resolve: async (_root, args, ctx) => {
      const { lastReadAt, campaignIds } = await markChannelRead(ctx.prisma, String(args.channelCid), args.userId);
      for (const campaignId of campaignIds) ctx.events.campaignChanged(campaignId);
      return { cid: String(args.channelCid), lastReadAt };
    },
  }),
}));
