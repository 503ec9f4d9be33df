/** Recipient type, its filter and sort inputs, the recipient queries and deleteRecipients (spec §6). */
import { builder } from '../graphql/builder.js';
import { MAX_LIST_PAGE, filterSortArgs } from '../graphql/list-args.js';
import { countedConnection, pageLimit } from '../graphql/connections.js';
import type { Context } from '../graphql/context.js';
import { errorsOf } from '../graphql/errors.js';
import { sortInput } from '../graphql/sort-input.js';
import { DateTimeFilter, IDFilter, StringFilter, enumFilter, logicalFields } from '../graphql/typed-filters.js';
import type { SortShape } from '../filters/typed-sort.js';
import {
  MAX_DELETE_RECIPIENTS,
  RECIPIENT_SORT_FIELDS,
  countFromCounters,
  deleteRecipients,
  recipientOrderBy,
  recipientWhere,
  type RecipientCounters,
  type RecipientFilter as RecipientFilterShape,
  type RecipientSortField,
} from './service.js';

export const RecipientStatus = builder.enumType('RecipientStatus', {
  description: 'What happened to a recipient.',
  values: {
    PENDING: { description: 'Not delivered yet.' },
    SENT: { description: 'The message was posted.' },
    ERRORED: { description: 'Delivery failed; `error` says why. retryFailedRecipients puts it back to PENDING.' },
    SKIPPED: { description: 'Deliberately not messaged (e.g. the user or channel no longer exists).' },
  } as const,
});

export const Recipient = builder.prismaObject('Recipient', {
  description: 'One user (user audiences) or one channel (channel audiences) of a campaign, and what happened to it.',
  // Select mode: a page loads the columns its selection asks for (every field below exposes
  // one), not all twelve — a dashboard's page of 50 reads and maps half of them.
  select: { id: true },
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Recipient id.' }),
    campaignId: t.exposeID('campaignId', { description: 'Id of the campaign.' }),
    campaign: t.relation('campaign', { description: 'The campaign.' }),
    userId: t.exposeID('userId', { nullable: true, description: 'Id of the receiving user (user audiences; null once the user is deleted).' }),
    user: t.relation('user', { nullable: true, description: 'The receiving user, if any and not deleted.' }),
    channelCid: t.exposeID('channelCid', {
      nullable: true,
      description: 'Cid of the target channel (channel audiences; null for user recipients, whose conversation is `message.channel`).',
    }),
    channel: t.relation('channel', { nullable: true, description: 'The target channel of a channel recipient, if not deleted (user recipients: see `message.channel`).' }),
    status: t.expose('status', { type: RecipientStatus, description: 'Delivery status.' }),
    messageId: t.exposeID('messageId', { nullable: true, description: 'Id of the message sent, once SENT.' }),
    message: t.relation('message', { nullable: true, description: 'The message sent, if any and not deleted.' }),
    error: t.exposeString('error', { nullable: true, description: 'Why delivery failed (ERRORED) or was skipped (SKIPPED).' }),
    attempts: t.exposeInt('attempts', { description: 'How many delivery attempts were made.' }),
    sentAt: t.expose('sentAt', { type: 'DateTime', nullable: true, description: 'When the message was sent.' }),
    readAt: t.expose('readAt', { type: 'DateTime', nullable: true, description: 'When the receiver marked the channel read after the message.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the recipient was added to the campaign.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the recipient last changed.' }),
  }),
});

export const RecipientConnection = countedConnection('Recipient', Recipient, 'recipients');

const RecipientStatusFilter = enumFilter('RecipientStatus', RecipientStatus);

export const RecipientFilter = builder.inputRef<RecipientFilterShape>('RecipientFilter').implement({
  description: 'Conditions on recipients; fields and list items are ANDed unless in `or`/`nor`.',
  fields: (t) => ({
    campaignId: t.field({ type: IDFilter, description: 'Id of the campaign.' }),
    status: t.field({ type: RecipientStatusFilter, description: 'Delivery status.' }),
    userId: t.field({ type: IDFilter, description: 'Id of the receiving user.' }),
    channelCid: t.field({ type: IDFilter, description: 'Cid of the target channel (channel recipients).' }),
    error: t.field({ type: StringFilter, description: 'Error text of ERRORED or SKIPPED recipients.' }),
    sentAt: t.field({ type: DateTimeFilter, description: 'When the message was sent.' }),
    readAt: t.field({ type: DateTimeFilter, description: 'When the receiver read it.' }),
    createdAt: t.field({ type: DateTimeFilter, description: 'When the recipient was added.' }),
    ...logicalFields(t, RecipientFilter, 'recipient'),
  }),
});

export const RecipientSort = sortInput('Recipient', RECIPIENT_SORT_FIELDS);

const recipientListArgs = filterSortArgs(RecipientFilter, RecipientSort, 'recipients');

interface RecipientListArgs {
  filter?: RecipientFilterShape | null;
  sort?: readonly SortShape<RecipientSortField>[] | null;
}

/**
 * A recipient list as a prismaConnection: of one campaign when `campaignOf` gives its id,
 * whose counters (the parent campaign row) then answer totalCount where they can.
 */
function recipientList(description: string, campaignOf: (parent: unknown) => string | undefined = () => undefined) {
  return {
    type: 'Recipient' as const,
    cursor: 'id' as const,
    description,
    args: recipientListArgs,
    defaultSize: 100,
    maxSize: pageLimit(MAX_LIST_PAGE),
    resolve: (query: object, parent: unknown, args: RecipientListArgs, ctx: Context) =>
      ctx.prisma.recipient.findMany({ ...query, where: recipientWhere(args.filter, campaignOf(parent)), orderBy: recipientOrderBy(args.sort) }),
    totalCount: (parent: unknown, args: RecipientListArgs, ctx: Context) => {
      const campaignId = campaignOf(parent);
      const counted = campaignId === undefined ? null : countFromCounters(args.filter, parent as Partial<RecipientCounters>);
      return counted ?? ctx.prisma.recipient.count({ where: recipientWhere(args.filter, campaignId) });
    },
  };
}

builder.prismaObjectField('Campaign', 'recipients', (t) =>
  t.prismaConnection(
    recipientList('Recipients of this campaign, filtered, sorted and paged.', (campaign) => (campaign as { id: string }).id),
    RecipientConnection,
  ),
);

builder.queryFields((t) => ({
  recipient: t.prismaField({
    type: 'Recipient',
    nullable: true,
    description: 'One recipient by id, or null.',
    args: { id: t.arg.id({ required: true, description: 'Recipient id.' }) },
    resolve: (query, _root, args, ctx) => ctx.prisma.recipient.findUnique({ ...query, where: { id: String(args.id) } }),
  }),
  recipients: t.prismaConnection(recipientList('Recipients across all campaigns, filtered, sorted and paged.'), RecipientConnection),
}));

const DeleteRecipientsPayload = builder.simpleObject('DeleteRecipientsPayload', {
  description: 'Result of deleteRecipients.',
  fields: (t) => ({
    deletedIds: t.idList({ description: 'Ids that existed and were deleted, in input order.' }),
    deletedCount: t.int({ description: 'How many recipients were deleted.' }),
  }),
});

builder.mutationField('deleteRecipients', (t) =>
  t.field({
    type: DeleteRecipientsPayload,
    description:
      'Deletes recipient records of campaigns that are not IN_PROGRESS and takes them out of their campaigns’ counters, in one transaction. Unknown ids are ignored.',
    errors: errorsOf('VALIDATION', 'INVALID_STATE'),
    args: { ids: t.arg.idList({ required: true, description: `Recipient ids (1 to ${MAX_DELETE_RECIPIENTS.toLocaleString('en')}).` }) },
    resolve: async (_root, args, ctx) => {
      const result = await deleteRecipients(ctx.prisma, args.ids.map(String));
      for (const id of result.campaignIds) ctx.events.campaignChanged(id);
      return result;
    },
  }),
);
