/** Channel and membership types, and the channel queries and mutations (spec §1). */
import { builder } from '../graphql/builder.js';
import { errorsOf } from '../graphql/errors.js';
import { countedConnection } from '../graphql/connections.js';
import { jsonListArgs, resolveJsonList } from '../graphql/json-list.js';
import { pageSize } from '../validation.js';
import { addChannelMembers, createChannel } from './channels.service.js';

export const ChannelMember = builder.prismaObject('ChannelMember', {
  description: 'A user’s membership in a channel.',
  fields: (t) => ({
    userId: t.exposeID('userId', { description: 'Id of the member.' }),
    user: t.relation('user', { description: 'The member.' }),
    channelCid: t.exposeID('channelCid', { description: 'Cid of the channel.' }),
    role: t.exposeString('role', { description: 'Role in the channel, `member` unless set.' }),
    lastReadAt: t.expose('lastReadAt', { type: 'DateTime', nullable: true, description: 'When the member last marked the channel read.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the member joined.' }),
  }),
});

export const Channel = builder.prismaObject('Channel', {
  description: 'A channel, addressed by its cid `type:id`.',
  fields: (t) => ({
    cid: t.exposeID('cid', { description: '`type:id`, unique.' }),
    type: t.exposeString('type', { description: 'Channel type, e.g. `messaging`.' }),
    id: t.exposeString('id', { description: 'Id within the type. A channel identified by its members (created without an id) has `!members-…`: `!members-<id>!<id>` for two users (their ids in byte order), a hash for more members or for ids that hold `!` or are too long to fit.' }),
    createdById: t.exposeID('createdById', { nullable: true, description: 'Id of the creating user.' }),
    createdBy: t.relation('createdBy', { nullable: true, description: 'The creating user, if any and not deleted.' }),
    memberCount: t.exposeInt('memberCount', { description: 'Number of members.' }),
    members: t.relation('members', {
      description: 'Members in joining order (at most `first`, default 100, at most 1,000).',
      args: { first: t.arg.int({ description: 'How many members (default 100, at most 1,000).' }) },
      query: (args) => ({ take: pageSize(args.first, 'first', 1000), orderBy: [{ createdAt: 'asc' }, { userId: 'asc' }] }),
    }),
    custom: t.expose('custom', { type: 'JSON', description: 'Custom data.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the channel was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the channel or its membership last changed.' }),
  }),
});

export const ChannelConnection = countedConnection('Channel', Channel, 'channels');

const CreateChannelInput = builder.inputType('CreateChannelInput', {
  description: 'A channel to create; with no id, the channel is identified by its members.',
  fields: (t) => ({
    type: t.string({ required: true, description: 'Channel type (lower-case letters, digits, _ and -).' }),
    id: t.string({ description: 'Id within the type; leave out for a channel identified by its (≥2) members.' }),
    createdById: t.id({ description: 'Id of the creating user.' }),
    members: t.idList({ description: 'User ids to add as members (≤1,000).' }),
    custom: t.field({ type: 'JSON', description: 'Custom data: a JSON object.' }),
  }),
});

const CreateChannelPayload = builder.simpleObject('CreateChannelPayload', {
  description: 'Result of createChannel.',
  fields: (t) => ({
    cid: t.id({ description: 'Cid of the channel.' }),
    created: t.boolean({ description: 'False when the channel already existed and was returned as it is.' }),
  }),
});
const AddChannelMembersPayload = builder.simpleObject('AddChannelMembersPayload', {
  description: 'Result of addChannelMembers.',
  fields: (t) => ({ cid: t.id({ description: 'Cid of the channel.' }) }),
});

/** Adds a `channel` field that loads the payload's channel with the client's selection. */
function addChannelField(payload: typeof CreateChannelPayload | typeof AddChannelMembersPayload) {
  builder.objectField(payload, 'channel', (t) =>
    t.prismaField({
      type: 'Channel',
      description: 'The channel.',
      resolve: (query, parent, _args, ctx) => ctx.prisma.channel.findUniqueOrThrow({ ...query, where: { cid: String(parent.cid) } }),
    }),
  );
}
addChannelField(CreateChannelPayload);
addChannelField(AddChannelMembersPayload);

builder.queryFields((t) => ({
  channel: t.prismaField({
    type: 'Channel',
    nullable: true,
    description: 'One channel by cid, or null.',
    args: { cid: t.arg.id({ required: true, description: 'Channel cid `type:id`.' }) },
    resolve: (query, _root, args, ctx) => ctx.prisma.channel.findUnique({ ...query, where: { cid: String(args.cid) } }),
  }),
  channels: t.field({
    type: ChannelConnection,
    description: 'Channels matching a filter in the operator syntax, keyset-paged.',
    args: jsonListArgs('{"type": "messaging", "members": {"$in": ["alice"]}}'),
    resolve: (_root, args, ctx, info) =>
      resolveJsonList(
        { entity: 'channel', typeName: 'Channel', load: (query, keys) => ctx.prisma.channel.findMany({ ...query, where: { cid: { in: keys } } }), keyOf: (c) => c.cid },
        args,
        ctx,
        info,
      ),
  }),
}));

builder.mutationFields((t) => ({
  createChannel: t.field({
    type: CreateChannelPayload,
    description: 'Creates a channel, or returns the existing one with the same cid (or the same members, when no id is given).',
    errors: errorsOf('VALIDATION'),
    args: { input: t.arg({ type: CreateChannelInput, required: true, description: 'The channel.' }) },
    resolve: (_root, args, ctx) => createChannel(ctx.prisma, args.input),
  }),
  addChannelMembers: t.field({
    type: AddChannelMembersPayload,
    description: 'Adds existing users to a channel; members already in it are left as they are.',
    errors: errorsOf('VALIDATION', 'NOT_FOUND'),
    args: {
      cid: t.arg.id({ required: true, description: 'Channel cid.' }),
      userIds: t.arg.idList({ required: true, description: 'User ids (1 to 1,000).' }),
    },
    resolve: async (_root, args, ctx) => {
      await addChannelMembers(ctx.prisma, String(args.cid), args.userIds);
      return { cid: String(args.cid) };
    },
  }),
}));
