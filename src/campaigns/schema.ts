/**
 * The Campaign type (spec §4) with its templates and stats, the campaign queries, and
 * create/update/delete. `segments` and `sender` load through plugin-prisma, in the
 * query of the list that holds them, so a page of campaigns costs a fixed number of
 * SQL queries. Delivery mutations (start, stop, …) and `Campaign.recipients` live in
 * their own modules.
 */
import { builder } from '../graphql/builder.js';
import { MAX_LIST_PAGE, filterSortArgs } from '../graphql/list-args.js';
import { errorsOf } from '../graphql/errors.js';
import { countedConnection, pageLimit } from '../graphql/connections.js';
import type { Context } from '../graphql/context.js';
import type { Prisma } from '../generated/prisma/client.js';
import { Segment } from '../segments/schema.js';
import { CampaignStatusEnum, SenderModeEnum } from './enums.js';
import { campaignOrderBy, campaignWhere, type CampaignFilterShape, type CampaignSortShape } from './filter.js';
import { CampaignFilter, CampaignSort } from './filter.schema.js';
import { MAX_DESCRIPTION, MAX_NAME, MAX_SEGMENTS, MAX_TEMPLATE_MEMBERS, MAX_USER_IDS, type ChannelTemplate, type MessageTemplate } from './input.js';
import { createCampaign, deleteCampaign, updateCampaign } from './service.js';
import { campaignStats, type CampaignStats } from './stats.js';

const MessageTemplateRef = builder.objectRef<MessageTemplate>('MessageTemplate').implement({
  description: 'The message a campaign sends; `text` is a template (`{{ user.name }}`).',
  fields: (t) => ({
    text: t.exposeString('text', { description: 'Template of the message text (1 to 5,000 characters).' }),
    attachments: t.field({ type: 'JSON', description: 'Attachments: a list of JSON objects.', resolve: (m) => m.attachments ?? [] }),
    custom: t.field({ type: 'JSON', description: 'Custom data set on every message sent.', resolve: (m) => m.custom ?? {} }),
  }),
});

const ChannelTemplateRef = builder.objectRef<ChannelTemplate>('ChannelTemplate').implement({
  description: 'The channel a campaign posts into for each recipient, created when missing if `createChannels`.',
  fields: (t) => ({
    type: t.exposeString('type', { description: 'Channel type.' }),
    id: t.string({
      nullable: true,
      description: 'Template of the channel id (`{{user.id}}-{{sender.id}}`); null: the distinct channel of its members. An id that does not contain `{{user.id}}` (or `{{receiver.id}}`) may be shared by several recipients, so `user.*` renders empty in the message there.',
      resolve: (c) => c.id ?? null,
    }),
    members: t.idList({ description: 'Users added to each new channel besides sender and receiver.', resolve: (c) => c.members ?? [] }),
    custom: t.field({ type: 'JSON', description: 'Custom data set when a channel is created.', resolve: (c) => c.custom ?? {} }),
  }),
});

const CampaignStatsRef = builder.objectRef<CampaignStats>('CampaignStats').implement({
  description: 'Delivery figures of a campaign, from counters kept in step with its recipients.',
  fields: (t) => ({
    recipientsTotal: t.exposeInt('recipientsTotal', { description: 'Recipients written so far. A started campaign writes its audience in chunks while delivery already runs, so this grows until the audience is complete, then holds its exact size.' }),
    pending: t.exposeInt('pending', { description: 'Recipients not yet sent, errored or skipped.' }),
    messagesSent: t.exposeInt('messagesSent', { description: 'Messages posted.' }),
    messagesErrored: t.exposeInt('messagesErrored', { description: 'Recipients whose message failed.' }),
    channelsCreated: t.exposeInt('channelsCreated', { description: 'Channels the campaign created.' }),
    usersSent: t.exposeInt('usersSent', { description: 'Distinct users who received a message.' }),
    usersRead: t.exposeInt('usersRead', { description: 'Of those, users who read it.' }),
    readRatio: t.exposeFloat('readRatio', { description: 'usersRead / usersSent; 0 when nothing was sent.' }),
    progress: t.exposeFloat('progress', { description: 'Share of the recipients written so far that are handled, 0 to 1 (1 once COMPLETED); while the audience is still being written it may fall as recipientsTotal grows.' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true, description: 'When delivery began.' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true, description: 'When delivery completed.' }),
  }),
});

export const Campaign = builder.prismaObject('Campaign', {
  description: 'A personalized message to the audience of segments or to listed users.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Campaign id (client-chosen or a UUID).' }),
    name: t.exposeString('name', { description: `Name (1 to ${MAX_NAME} characters).` }),
    description: t.exposeString('description', { nullable: true, description: `Description (at most ${MAX_DESCRIPTION} characters).` }),
    status: t.expose('status', { type: CampaignStatusEnum, description: 'Lifecycle status.' }),
    failureReason: t.exposeString('failureReason', { nullable: true, description: 'Why a FAILED campaign could not proceed.' }),
    senderId: t.exposeID('senderId', { nullable: true, description: 'Id of the sending user (null once that user is deleted).' }),
    sender: t.relation('sender', { nullable: true, description: 'The sending user.' }),
    senderMode: t.expose('senderMode', { type: SenderModeEnum, nullable: true, description: 'Whether the sender joins target channels; null: new channels only.' }),
    segments: t.field({
      type: [Segment],
      description: 'Audience segments, in the order given (empty when the audience is userIds).',
      // Through the join rows, planned into the parent's query: no query per campaign.
      select: (_args, _ctx, nestedSelection) => ({
        segments: { orderBy: { position: 'asc' }, select: { segment: nestedSelection(true) } },
      }),
      resolve: (c) => c.segments.map((link) => link.segment),
    }),
    segmentIds: t.field({
      type: ['ID'],
      description: 'Ids of the audience segments, in the order given.',
      select: { segments: { orderBy: { position: 'asc' }, select: { segmentId: true } } },
      resolve: (c) => c.segments.map((link) => link.segmentId),
    }),
    userIds: t.exposeIDList('userIds', { description: 'Audience of listed users (empty when the audience is segments).' }),
    messageTemplate: t.field({
      type: MessageTemplateRef,
      description: 'The message to send.',
      resolve: (c) => c.messageTemplate as unknown as MessageTemplate,
    }),
    channelTemplate: t.field({
      type: ChannelTemplateRef,
      nullable: true,
      description: 'The channel to post into; null: 1:1 `messaging` channels of sender and receiver.',
      resolve: (c) => (c.channelTemplate ?? null) as unknown as ChannelTemplate | null,
    }),
    createChannels: t.exposeBoolean('createChannels', { description: 'Whether missing channels are created (needs channelTemplate).' }),
    skipPush: t.exposeBoolean('skipPush', { description: 'Whether push notifications are skipped for the messages.' }),
    skipWebhook: t.exposeBoolean('skipWebhook', { description: 'Whether webhooks are skipped for the messages.' }),
    scheduledFor: t.expose('scheduledFor', { type: 'DateTime', nullable: true, description: 'When delivery is scheduled to begin.' }),
    stopAt: t.expose('stopAt', { type: 'DateTime', nullable: true, description: 'When delivery stops automatically.' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true, description: 'When delivery began.' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true, description: 'When delivery completed.' }),
    stoppedAt: t.expose('stoppedAt', { type: 'DateTime', nullable: true, description: 'When the campaign was last stopped.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the campaign was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the campaign was last changed.' }),
    stats: t.field({ type: CampaignStatsRef, description: 'Delivery figures.', resolve: (c) => campaignStats(c) }),
  }),
});

export const CampaignConnection = countedConnection('Campaign', Campaign, 'campaigns');

const campaignListArgs = filterSortArgs(CampaignFilter, CampaignSort, 'campaigns');

interface CampaignListArgs {
  filter?: CampaignFilterShape | null;
  sort?: readonly CampaignSortShape[] | null;
}

/** A campaign list (within `scope`, e.g. one segment's campaigns) as a prismaConnection. */
function campaignList(description: string, scope: (parent: unknown) => Prisma.CampaignWhereInput = () => ({})) {
  const where = (parent: unknown, args: CampaignListArgs): Prisma.CampaignWhereInput => {
    const filter = campaignWhere(args.filter);
    const within = scope(parent);
    return Object.keys(within).length ? { AND: [within, filter] } : filter;
  };
  return {
    type: 'Campaign' as const,
    cursor: 'id' as const,
    description,
    args: campaignListArgs,
    defaultSize: 100,
    maxSize: pageLimit(MAX_LIST_PAGE),
    resolve: (query: object, parent: unknown, args: CampaignListArgs, ctx: Context) =>
      ctx.prisma.campaign.findMany({ ...query, where: where(parent, args), orderBy: campaignOrderBy(args.sort) }),
    totalCount: (parent: unknown, args: CampaignListArgs, ctx: Context) => ctx.prisma.campaign.count({ where: where(parent, args) }),
  };
}

builder.queryFields((t) => ({
  campaign: t.prismaField({
    type: 'Campaign',
    nullable: true,
    description: 'One campaign by id, or null.',
    args: { id: t.arg.id({ required: true, description: 'Campaign id.' }) },
    resolve: (query, _root, args, ctx) => ctx.prisma.campaign.findUnique({ ...query, where: { id: String(args.id) } }),
  }),
  campaigns: t.prismaConnection(campaignList('Campaigns, filtered, sorted and paged.'), CampaignConnection),
}));

builder.prismaObjectField(Segment, 'campaigns', (t) =>
  t.prismaConnection(
    campaignList('Campaigns using this segment, filtered, sorted and paged.', (segment) => ({ segments: { some: { segmentId: (segment as { id: string }).id } } })),
    CampaignConnection,
  ),
);

const MessageTemplateInput = builder.inputType('MessageTemplateInput', {
  description: 'The message a campaign sends.',
  fields: (t) => ({
    text: t.string({ required: true, description: 'Template of the text, 1 to 5,000 characters; tags `{{ user.name }}`, `{{ sender.id }}`, `{{ channel.cid }}`.' }),
    attachments: t.field({ type: 'JSON', description: 'A list of at most 10 JSON objects.' }),
    custom: t.field({ type: 'JSON', description: 'Custom data for every message: a JSON object.' }),
  }),
});

export const ChannelTemplateInput = builder.inputType('ChannelTemplateInput', {
  description: 'The channel a campaign posts into for each recipient.',
  fields: (t) => ({
    type: t.string({ required: true, description: 'Channel type (lower-case letters, digits, _ and -).' }),
    id: t.string({ description: 'Template of the channel id, e.g. `{{user.id}}-{{sender.id}}`; leave out for the distinct channel of the members. Without `{{user.id}}` (or `{{receiver.id}}`) in it, recipients may share a channel and `user.*` renders empty in the message (personal text never lands where others read it).' }),
    members: t.idList({ description: `Existing users added to each new channel besides sender and receiver (at most ${MAX_TEMPLATE_MEMBERS}).` }),
    custom: t.field({ type: 'JSON', description: 'Custom data set when a channel is created: a JSON object.' }),
  }),
});

/** Input fields shared by create and update; `creating` makes the required ones non-null. */
function campaignInputType(creating: boolean) {
  return builder.inputType(creating ? 'CreateCampaignInput' : 'UpdateCampaignInput', {
    description: creating
      ? 'A new campaign (saved as DRAFT). The audience (segmentIds or userIds) may be added later, before start.'
      : 'Changes to a campaign: fields left out keep their value; null clears description, channelTemplate, senderMode, segmentIds and userIds.',
    fields: (t) => ({
      ...(creating ? { id: t.id({ description: 'Id to use (≤128 of letters, digits, @ . _ - !); a UUID when left out.' }) } : {}),
      name: t.string({ required: creating, description: `Name, 1 to ${MAX_NAME} characters.` }),
      description: t.string({ description: `Description, at most ${MAX_DESCRIPTION} characters.` }),
      senderId: t.id({ required: creating, description: 'Id of the existing user who sends the messages.' }),
      segmentIds: t.idList({ description: `Audience: up to ${MAX_SEGMENTS} segments, all of one type (not with userIds).` }),
      userIds: t.idList({ description: `Audience: up to ${MAX_USER_IDS.toLocaleString('en')} existing users (not with segmentIds).` }),
      messageTemplate: t.field({ type: MessageTemplateInput, required: creating, description: 'The message to send.' }),
      channelTemplate: t.field({ type: ChannelTemplateInput, description: 'The channel to post into; required when createChannels is true.' }),
      createChannels: t.boolean({ description: 'Create missing channels from channelTemplate (default false).' }),
      skipPush: t.boolean({ description: 'Skip push notifications for the messages (default false).' }),
      skipWebhook: t.boolean({ description: 'Skip webhooks for the messages (default false).' }),
      senderMode: t.field({ type: SenderModeEnum, description: 'Whether the sender joins target channels; null: new channels only.' }),
    }),
  });
}
const CreateCampaignInput = campaignInputType(true);
const UpdateCampaignInput = campaignInputType(false);

/**
 * Declares `<Name>Payload { campaignId campaign }` whose `campaign` loads with the client's
 * selection. For every mutation that returns a campaign (start, stop, … too).
 */
export function campaignPayload(name: string) {
  const payload = builder.simpleObject(`${name}Payload`, {
    description: `Result of ${name.charAt(0).toLowerCase()}${name.slice(1)}.`,
    fields: (t) => ({ campaignId: t.id({ description: 'Id of the campaign.' }) }),
  });
  builder.objectField(payload, 'campaign', (t) =>
    t.prismaField({
      type: 'Campaign',
      description: 'The campaign as it is now.',
      resolve: (query, parent, _args, ctx) => ctx.prisma.campaign.findUniqueOrThrow({ ...query, where: { id: String(parent.campaignId) } }),
    }),
  );
  return payload;
}

const CreateCampaignPayload = campaignPayload('CreateCampaign');
const UpdateCampaignPayload = campaignPayload('UpdateCampaign');
const DeleteCampaignPayload = builder.simpleObject('DeleteCampaignPayload', {
  description: 'Result of deleteCampaign.',
  fields: (t) => ({ deletedId: t.id({ description: 'Id of the deleted campaign.' }) }),
});

builder.mutationFields((t) => ({
  createCampaign: t.field({
    type: CreateCampaignPayload,
    description: 'Creates a DRAFT campaign. Everything is validated before anything is written.',
    errors: errorsOf('VALIDATION', 'CONFLICT'),
    args: { input: t.arg({ type: CreateCampaignInput, required: true, description: 'The campaign.' }) },
    resolve: async (_root, args, ctx) => ({ campaignId: ctx.events.campaignChanged(await createCampaign(ctx.prisma, args.input), 'DRAFT') }),
  }),
  updateCampaign: t.field({
    type: UpdateCampaignPayload,
    description: 'Changes a DRAFT or SCHEDULED campaign (INVALID_STATE otherwise); fields left out stay as they are.',
    errors: errorsOf('VALIDATION', 'NOT_FOUND', 'INVALID_STATE'),
    args: {
      id: t.arg.id({ required: true, description: 'The campaign.' }),
      input: t.arg({ type: UpdateCampaignInput, required: true, description: 'The changes.' }),
    },
    resolve: async (_root, args, ctx) => ({ campaignId: ctx.events.campaignChanged(await updateCampaign(ctx.prisma, String(args.id), args.input)) }),
  }),
  deleteCampaign: t.field({
    type: DeleteCampaignPayload,
    description: 'Deletes a campaign and its recipients; INVALID_STATE while IN_PROGRESS (stop it first).',
    errors: errorsOf('NOT_FOUND', 'INVALID_STATE'),
    args: { id: t.arg.id({ required: true, description: 'The campaign.' }) },
    resolve: async (_root, args, ctx) => ({ deletedId: ctx.events.campaignChanged(await deleteCampaign(ctx.prisma, String(args.id)), 'DELETED') }),
  }),
}));
