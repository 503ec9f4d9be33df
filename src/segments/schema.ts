/** The Segment type, its list and lookups, and the segment mutations (spec §3). */
import type { PrismaClient } from '../generated/prisma/client.js';
import { builder } from '../graphql/builder.js';
import { MAX_LIST_PAGE, filterSortArgs } from '../graphql/list-args.js';
import { countedConnection, pageLimit } from '../graphql/connections.js';
import { errorsOf } from '../graphql/errors.js';
import { CreateSegmentInput, SegmentFilter, SegmentSort, SegmentType, UpdateSegmentInput } from './inputs.js';
import {
  activeCampaignWhere,
  addSegmentTargets,
  createSegment,
  deleteSegment,
  draftAudienceSize,
  segmentOrderBy,
  segmentWhere,
  removeSegmentTargets,
  segmentSize,
  updateSegment,
} from './service.js';
import './targets.schema.js';

export const Segment = builder.prismaObject('Segment', {
  description: 'An audience of users or channels: explicit targets plus at most one rule (filter, allUsers or allSenderChannels).',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Segment id.' }),
    type: t.expose('type', { type: SegmentType, description: 'USER or CHANNEL.' }),
    name: t.exposeString('name', { description: 'Name.' }),
    description: t.exposeString('description', { nullable: true, description: 'Description, if any.' }),
    filter: t.expose('filter', { type: 'JSON', nullable: true, description: 'Rule: operator filter over users or channels, or null.' }),
    allUsers: t.exposeBoolean('allUsers', { description: 'Rule: every user (USER segments).' }),
    allSenderChannels: t.exposeBoolean('allSenderChannels', {
      description: 'Rule: every channel the campaign’s sender is a member of (CHANNEL segments; adds nothing outside a campaign, so `size` and `targets` then show the explicit targets only).',
    }),
    size: t.int({
      description:
        'The live audience count (explicit targets that still exist ∪ the rule), computed in the database when asked; one query per segment. ' +
        'Each computation is stored as the cached size that `sort: {field: size}` orders by; that sort first refreshes the cached size of every segment matching the filter when at most 1,000 match.',
      resolve: (segment, _args, ctx) => segmentSize(ctx.prisma, segment),
    }),
    inUse: t.boolean({
      description: 'Whether a campaign that is not COMPLETED or STOPPED (or STOPPED before writing its recipients) uses this segment; it cannot be deleted then.',
      select: { _count: { select: { campaigns: { where: { campaign: activeCampaignWhere } } } } },
      resolve: (segment) => segment._count.campaigns > 0,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the segment was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the segment or its explicit targets last changed.' }),
  }),
});

const SegmentConnection = countedConnection('Segment', Segment, 'segments');

builder.queryFields((t) => ({
  segment: t.prismaField({
    type: 'Segment',
    nullable: true,
    description: 'One segment by id, or null.',
    args: { id: t.arg.id({ required: true, description: 'Segment id.' }) },
    resolve: (query, _root, args, ctx) => ctx.prisma.segment.findUnique({ ...query, where: { id: String(args.id) } }),
  }),
  segments: t.prismaConnection(
    {
      type: 'Segment',
      cursor: 'id',
      description: 'Segments matching a typed filter, sorted (default CREATED_AT ASC) and paged.',
      args: filterSortArgs(SegmentFilter, SegmentSort, 'segments'),
      defaultSize: 100,
      maxSize: pageLimit(MAX_LIST_PAGE),
      resolve: async (query, _root, args, ctx) => {
        const where = segmentWhere(args.filter);
        return ctx.prisma.segment.findMany({ ...query, where, orderBy: await segmentOrderBy(ctx.prisma, where, args.sort) });
      },
      totalCount: (_root, args, ctx) => ctx.prisma.segment.count({ where: segmentWhere(args.filter) }),
    },
    SegmentConnection,
  ),
  segmentAudienceSize: t.int({
    description:
      'The audience size an unsaved segment rule would have (an editor shows it while typing): the same audience query and the same checks as createSegment — ' +
      'at most one rule, the filter within its size budget — and VALIDATION errors name the argument (`filter.$or[1].age`). Writes nothing; bounded by the API statement timeout (TIMEOUT).',
    args: {
      type: t.arg({ type: SegmentType, required: true, description: 'USER or CHANNEL.' }),
      filter: t.arg({ type: 'JSON', description: 'Rule: operator filter over users or channels.' }),
      allUsers: t.arg.boolean({ description: 'Rule: every user (USER).' }),
      allSenderChannels: t.arg.boolean({ description: 'Rule: every channel senderId is a member of (CHANNEL).' }),
      senderId: t.arg.id({ description: 'The campaign sender allSenderChannels counts for; without one that rule counts 0. VALIDATION when unknown.' }),
    },
    resolve: (_root, args, ctx) =>
      draftAudienceSize(ctx.prisma, {
        type: args.type,
        filter: args.filter,
        allUsers: args.allUsers,
        allSenderChannels: args.allSenderChannels,
        senderId: args.senderId == null ? null : String(args.senderId),
      }),
  }),
}));

interface SegmentResult {
  segmentId: string;
  count?: number;
}

/** `<Mutation>Payload { segment }`, plus an Int field for how many targets changed. */
function segmentPayload(name: string, description: string, count?: { field: 'added' | 'removed'; description: string }) {
  return builder.objectRef<SegmentResult>(name).implement({
    description,
    fields: (t) => ({
      segment: t.prismaField({
        type: 'Segment',
        description: 'The segment after the change.',
        resolve: (query, parent, _args, ctx) => ctx.prisma.segment.findUniqueOrThrow({ ...query, where: { id: parent.segmentId } }),
      }),
      ...(count ? { [count.field]: t.int({ description: count.description, resolve: (parent) => parent.count ?? 0 }) } : {}),
    }),
  });
}

const CreateSegmentPayload = segmentPayload('CreateSegmentPayload', 'Result of createSegment.');
const UpdateSegmentPayload = segmentPayload('UpdateSegmentPayload', 'Result of updateSegment.');
const AddSegmentTargetsPayload = segmentPayload('AddSegmentTargetsPayload', 'Result of addSegmentTargets.', {
  field: 'added',
  description: 'How many of the ids were new targets (ids already targeted are left as they are).',
});
const RemoveSegmentTargetsPayload = segmentPayload('RemoveSegmentTargetsPayload', 'Result of removeSegmentTargets.', {
  field: 'removed',
  description: 'How many of the ids were targets and were removed (others are ignored).',
});

const DeleteSegmentPayload = builder.simpleObject('DeleteSegmentPayload', {
  description: 'Result of deleteSegment.',
  fields: (t) => ({
    deletedId: t.id({ description: 'Id of the deleted segment.' }),
  }),
});

type MutationFieldBuilder = Parameters<Parameters<typeof builder.mutationFields>[0]>[0];

/** addSegmentTargets / removeSegmentTargets: a segment id, target ids, and how many changed. */
function targetsMutation(
  t: MutationFieldBuilder,
  type: typeof AddSegmentTargetsPayload,
  description: string,
  action: string,
  change: (prisma: PrismaClient, segmentId: string, targetIds: string[]) => Promise<number>,
) {
  return t.field({
    type,
    description,
    errors: errorsOf('VALIDATION', 'NOT_FOUND'),
    args: {
      segmentId: t.arg.id({ required: true, description: 'Segment id.' }),
      targetIds: t.arg.idList({ required: true, description: `User ids (USER) or channel cids (CHANNEL) to ${action}, 1 to 10,000.` }),
    },
    resolve: async (_root, args, ctx) => {
      const segmentId = String(args.segmentId);
      return { segmentId, count: await change(ctx.prisma, segmentId, args.targetIds.map(String)) };
    },
  });
}

builder.mutationFields((t) => ({
  createSegment: t.field({
    type: CreateSegmentPayload,
    description: 'Creates a segment with its rule and explicit targets, in one transaction.',
    errors: errorsOf('VALIDATION', 'CONFLICT'),
    args: { input: t.arg({ type: CreateSegmentInput, required: true, description: 'The segment.' }) },
    resolve: async (_root, args, ctx) => ({ segmentId: await createSegment(ctx.prisma, args.input) }),
  }),
  updateSegment: t.field({
    type: UpdateSegmentPayload,
    description: 'Changes a segment’s name, description or rule; its type cannot change.',
    errors: errorsOf('VALIDATION', 'NOT_FOUND'),
    args: {
      id: t.arg.id({ required: true, description: 'Segment id.' }),
      input: t.arg({ type: UpdateSegmentInput, required: true, description: 'The changes.' }),
    },
    resolve: async (_root, args, ctx) => {
      await updateSegment(ctx.prisma, String(args.id), args.input);
      return { segmentId: String(args.id) };
    },
  }),
  deleteSegment: t.field({
    type: DeleteSegmentPayload,
    description: 'Deletes a segment and its targets. CONFLICT while a campaign that is not COMPLETED or STOPPED uses it, or a STOPPED one that has not written its recipients yet.',
    errors: errorsOf('NOT_FOUND', 'CONFLICT'),
    args: { id: t.arg.id({ required: true, description: 'Segment id.' }) },
    resolve: async (_root, args, ctx) => {
      const id = await deleteSegment(ctx.prisma, String(args.id));
      return { deletedId: id };
    },
  }),
  addSegmentTargets: targetsMutation(
    t,
    AddSegmentTargetsPayload,
    'Adds explicit targets. Unknown ids are a VALIDATION error listing them, and then nothing is added.',
    'add',
    addSegmentTargets,
  ),
  removeSegmentTargets: targetsMutation(
    t,
    RemoveSegmentTargetsPayload,
    'Removes explicit targets; ids that are not targets are ignored. Rule members stay in the audience.',
    'remove',
    removeSegmentTargets,
  ),
}));
