/**
 * Segments (spec §3): an audience of users or channels made of explicit targets plus at
 * most one rule — a JSON filter, allUsers (USER) or allSenderChannels (CHANNEL). Every
 * write validates first, then runs in one transaction that locks the segment row
 * (`FOR UPDATE`), so a concurrent delete, target change or campaign link (whose foreign
 * key check waits on that lock) cannot interleave. `cachedSize` is refreshed by every
 * write and every size read; it exists only to sort by size.
 */
import { randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { assertNoNul } from '../filters/fields.js';
import { compileJsonFilter } from '../filters/json-filter.js';
import { column, entityWhere, type LogicalFilter, type ScalarFilter } from '../filters/typed.js';
import { toOrderBy, type SortShape } from '../filters/typed-sort.js';
import { ID_PATTERN, checkJsonObject, checkString } from '../validation.js';
import { audienceEntity, audienceHas, countAudience, type AudienceRule, type SegmentKind } from './audience.js';
import { checkTargetIds, deleteTargets, insertTargets, requireTargets, storeSize, storeSizes, type Executor } from './targets.js';

const MAX_NAME_LENGTH = 128;
const MAX_DESCRIPTION_LENGTH = 256;
const MAX_FILTER_BYTES = 65_536;
/** Before a sort by size, cached sizes are refreshed when at most this many segments match. */
const MAX_SIZE_REFRESH = 1000;

/**
 * A segment is in use while a campaign that is not COMPLETED or STOPPED lists it, and also
 * while a STOPPED campaign has not written its recipients yet: its audience is still read
 * from the segment when it is resumed, so deleting the segment would empty it.
 */
export const activeCampaignWhere = {
  OR: [{ status: { notIn: ['COMPLETED', 'STOPPED'] } }, { status: 'STOPPED', materializedAt: null }],
} satisfies Prisma.CampaignWhereInput;

interface RuleInput {
  filter?: unknown;
  allUsers?: boolean | null;
  allSenderChannels?: boolean | null;
}

export interface CreateSegmentInput extends RuleInput {
  id?: string | null;
  type: SegmentKind;
  name: string;
  description?: string | null;
  targetIds?: readonly string[] | null;
}

/** Fields left out (undefined) keep their value; `description: null` / `filter: null` clear. */
export interface UpdateSegmentInput extends RuleInput {
  type?: SegmentKind | null;
  name?: string | null;
  description?: string | null;
}

type Rules = Omit<AudienceRule, 'id' | 'type'>;

function checkName(name: string, path: string): string {
  assertNoNul(name, path);
  return checkString(name, path, MAX_NAME_LENGTH);
}

function checkDescription(description: string | null, path: string): string | null {
  if (description === null) return null;
  assertNoNul(description, path);
  if (description.length > MAX_DESCRIPTION_LENGTH) throw new ValidationError(`${path} must be at most ${MAX_DESCRIPTION_LENGTH} characters`, path);
  return description;
}

/**
 * Checks the rules of a segment of `type`: each rule fits the type, at most one is set,
 * and the filter compiles exactly as in the users/channels queries, at `<prefix>filter`.
 */
function checkRules(type: SegmentKind, rules: Rules, prefix = 'input.'): void {
  if (type === 'CHANNEL' && rules.allUsers) throw new ValidationError('allUsers applies to USER segments only', `${prefix}allUsers`);
  if (type === 'USER' && rules.allSenderChannels) {
    throw new ValidationError('allSenderChannels applies to CHANNEL segments only', `${prefix}allSenderChannels`);
  }
  const set = [rules.filter != null && 'filter', rules.allUsers && 'allUsers', rules.allSenderChannels && 'allSenderChannels'].filter(
    (name): name is string => typeof name === 'string',
  );
  if (set.length > 1) {
    throw new ValidationError(`A segment has at most one rule, but ${set.join(' and ')} are set`, set.map((name) => `${prefix}${name}`));
  }
  if (rules.filter != null) {
    compileJsonFilter(audienceEntity(type), rules.filter, `${prefix}filter`);
    checkJsonObject(rules.filter, `${prefix}filter`, MAX_FILTER_BYTES);
  }
}

function filterJson(filter: unknown): string | null {
  return filter == null ? null : JSON.stringify(filter);
}

/** Reads and locks the segment's rule, or throws NOT_FOUND at `path`. */
async function lockSegment(tx: Executor, id: string, path: string): Promise<AudienceRule> {
  const rows = await tx.$queryRaw<AudienceRule[]>(Prisma.sql`
    SELECT "id", "type"::text AS "type", "filter", "all_users" AS "allUsers", "all_sender_channels" AS "allSenderChannels"
    FROM "segments" WHERE "id" = ${id}::text FOR UPDATE`);
  if (rows.length === 0) throw new NotFoundError(`Segment ${id} does not exist`, path);
  return rows[0]!;
}

function touch(tx: Executor, id: string): Promise<number> {
  return tx.$executeRaw(Prisma.sql`UPDATE "segments" SET "updated_at" = now() WHERE "id" = ${id}::text`);
}

// Sizes of big audiences are counted inside these transactions; allow for that.
const TX_OPTIONS = { timeout: 60_000, maxWait: 10_000 };

/** Creates a segment with its explicit targets; returns its id. */
export async function createSegment(prisma: PrismaClient, input: CreateSegmentInput): Promise<string> {
  const id = input.id == null ? randomUUID() : checkString(input.id, 'input.id', 128, ID_PATTERN);
  const name = checkName(input.name, 'input.name');
  const description = checkDescription(input.description ?? null, 'input.description');
  const rules: Rules = { filter: input.filter ?? null, allUsers: input.allUsers ?? false, allSenderChannels: input.allSenderChannels ?? false };
  checkRules(input.type, rules);
  const targetIds = checkTargetIds(input.targetIds ?? [], 'input.targetIds');
  return prisma.$transaction(async (tx) => {
    const inserted = await tx.$queryRaw<{ id: string }[]>(Prisma.sql`
      INSERT INTO "segments" ("id", "type", "name", "description", "filter", "all_users", "all_sender_channels")
      VALUES (${id}::text, ${input.type}::text::"segment_type", ${name}::text, ${description}::text, ${filterJson(rules.filter)}::jsonb,
              ${rules.allUsers}::boolean, ${rules.allSenderChannels}::boolean)
      ON CONFLICT ("id") DO NOTHING RETURNING "id"`);
    if (inserted.length === 0) throw new ConflictError(`A segment with id ${id} already exists`, 'input.id');
    await requireTargets(tx, input.type, targetIds, 'input.targetIds');
    await insertTargets(tx, id, targetIds);
    await storeSize(tx, { id, type: input.type, ...rules });
    return id;
  }, TX_OPTIONS);
}

/** Changes name, description and rules; the type cannot change. */
export async function updateSegment(prisma: PrismaClient, id: string, input: UpdateSegmentInput): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const current = await lockSegment(tx, id, 'id');
    if (input.type != null && input.type !== current.type) {
      throw new ValidationError(`A segment's type cannot change (it is ${current.type})`, 'input.type');
    }
    const rules: Rules = {
      filter: input.filter === undefined ? current.filter : input.filter,
      allUsers: input.allUsers ?? current.allUsers,
      allSenderChannels: input.allSenderChannels ?? current.allSenderChannels,
    };
    checkRules(current.type, rules);
    const data: Prisma.SegmentUpdateInput = {
      allUsers: rules.allUsers,
      allSenderChannels: rules.allSenderChannels,
      filter: rules.filter == null ? Prisma.DbNull : (rules.filter as Prisma.InputJsonValue),
    };
    if (input.name != null) data.name = checkName(input.name, 'input.name');
    if (input.description !== undefined) data.description = checkDescription(input.description, 'input.description');
    await tx.segment.update({ where: { id }, data, select: { id: true } });
    await storeSize(tx, { ...current, ...rules });
  }, TX_OPTIONS);
}

/** Deletes a segment and its targets; CONFLICT while a campaign in progress (or not yet finished) uses it. */
export async function deleteSegment(prisma: PrismaClient, id: string): Promise<string> {
  return prisma.$transaction(async (tx) => {
    await lockSegment(tx, id, 'id');
    const use = await tx.campaignSegment.findFirst({
      where: { segmentId: id, campaign: activeCampaignWhere },
      select: { campaign: { select: { id: true, status: true } } },
    });
    if (use) {
      throw new ConflictError(
        `Segment ${id} is used by campaign ${use.campaign.id} (${use.campaign.status}); delete it once that campaign is completed, or stopped after writing its recipients`,
        'id',
      );
    }
    await tx.segment.delete({ where: { id }, select: { id: true } });
    return id;
  });
}

/** Adds up to 10,000 existing users/channels as explicit targets; returns how many were new. */
export async function addSegmentTargets(prisma: PrismaClient, segmentId: string, targetIds: readonly string[]): Promise<number> {
  const ids = checkTargetIds(targetIds, 'targetIds', { min: 1 });
  return prisma.$transaction(async (tx) => {
    const segment = await lockSegment(tx, segmentId, 'segmentId');
    await requireTargets(tx, segment.type, ids, 'targetIds');
    const added = await insertTargets(tx, segmentId, ids);
    if (added > 0) await touch(tx, segmentId);
    await storeSize(tx, segment);
    return added;
  }, TX_OPTIONS);
}

/** Removes explicit targets (ids that are not targets are ignored); returns how many went. */
export async function removeSegmentTargets(prisma: PrismaClient, segmentId: string, targetIds: readonly string[]): Promise<number> {
  const ids = checkTargetIds(targetIds, 'targetIds', { min: 1 });
  return prisma.$transaction(async (tx) => {
    const segment = await lockSegment(tx, segmentId, 'segmentId');
    const removed = await deleteTargets(tx, segmentId, ids);
    if (removed > 0) await touch(tx, segmentId);
    await storeSize(tx, segment);
    return removed;
  }, TX_OPTIONS);
}

/** The audience size now (also stored as cachedSize). */
export function segmentSize(prisma: PrismaClient, segment: AudienceRule): Promise<number> {
  return storeSize(prisma, segment);
}

/** An unsaved segment rule: what an editor has typed so far. */
export interface RuleDraft {
  type: SegmentKind;
  filter?: unknown;
  allUsers?: boolean | null;
  allSenderChannels?: boolean | null;
  /** The sender allSenderChannels counts the channels of; without one that rule counts 0. */
  senderId?: string | null;
}

/**
 * The audience size an unsaved rule would have (no explicit targets: a draft has none),
 * through the same audience SQL and the same checks as createSegment, errors at the
 * argument names (`filter.$or[1].age`). Reads only.
 */
export async function draftAudienceSize(prisma: PrismaClient, draft: RuleDraft): Promise<number> {
  const rules: Rules = { filter: draft.filter ?? null, allUsers: draft.allUsers ?? false, allSenderChannels: draft.allSenderChannels ?? false };
  checkRules(draft.type, rules, '');
  const senderId = draft.senderId ?? null;
  if (senderId !== null && !(await prisma.user.findUnique({ where: { id: senderId }, select: { id: true } }))) {
    throw new ValidationError(`User ${senderId} does not exist`, 'senderId');
  }
  // The empty id matches no segment_targets row: the explicit branch adds nothing.
  return countAudience(prisma, { id: '', type: draft.type, ...rules }, { senderId });
}

/** Whether targetId is in the segment's live audience; NOT_FOUND for an unknown segment. */
export async function segmentTargetExists(prisma: PrismaClient, segmentId: string, targetId: string): Promise<boolean> {
  const segment = await prisma.segment.findUnique({ where: { id: segmentId } });
  if (!segment) throw new NotFoundError(`Segment ${segmentId} does not exist`, 'segmentId');
  return audienceHas(prisma, segment, targetId);
}

// ---------------------------------------------------------------------------------------
// The segments list.

export type SegmentSortField = 'name' | 'createdAt' | 'updatedAt' | 'size';

export interface SegmentFilterShape extends LogicalFilter<SegmentFilterShape> {
  id?: ScalarFilter<string> | null;
  name?: ScalarFilter<string> | null;
  type?: ScalarFilter<SegmentKind> | null;
  createdAt?: ScalarFilter<Date> | null;
  updatedAt?: ScalarFilter<Date> | null;
}

export interface SegmentListArgs {
  filter?: SegmentFilterShape | null;
  sort?: readonly SortShape<SegmentSortField>[] | null;
}

const FILTER_FIELDS = {
  id: column<string>('id'),
  name: column<string>('name'),
  type: column<SegmentKind>('type'),
  createdAt: column<Date>('createdAt'),
  updatedAt: column<Date>('updatedAt'),
};
const SORT_COLUMNS: Record<SegmentSortField, string> = { name: 'name', createdAt: 'createdAt', updatedAt: 'updatedAt', size: 'cachedSize' };

/** Counts the audiences of the matching segments and stores them, when at most 1,000 match. */
async function refreshSizes(prisma: PrismaClient, where: Prisma.SegmentWhereInput): Promise<void> {
  const segments = await prisma.segment.findMany({
    where,
    select: { id: true, type: true, filter: true, allUsers: true, allSenderChannels: true },
    take: MAX_SIZE_REFRESH + 1,
  });
  if (segments.length > MAX_SIZE_REFRESH) return;
  const sizes = new Map<string, number>();
  // A few counts at a time: each is one indexed query; the pool serves several at once.
  for (let i = 0; i < segments.length; i += 4) {
    await Promise.all(segments.slice(i, i + 4).map(async (s) => sizes.set(s.id, await countAudience(prisma, s))));
  }
  await storeSizes(prisma, sizes);
}

/** The Prisma where of a segments list (VALIDATION naming `filter.…` on misuse). */
export function segmentWhere(filter: SegmentFilterShape | null | undefined): Prisma.SegmentWhereInput {
  return entityWhere(filter, FILTER_FIELDS) as Prisma.SegmentWhereInput;
}

/**
 * The Prisma orderBy of a segments list (oldest first by default, then id). Sorting by size
 * reads the stored sizes, so they are refreshed first for up to 1,000 matching segments.
 */
export async function segmentOrderBy(
  prisma: PrismaClient,
  where: Prisma.SegmentWhereInput,
  sort: SegmentListArgs['sort'],
): Promise<Prisma.SegmentOrderByWithRelationInput[]> {
  if (sort?.some((s) => s.field === 'size')) await refreshSizes(prisma, where);
  return toOrderBy(sort, SORT_COLUMNS, 'id', [{ field: 'createdAt', direction: 'ASC' }]) as Prisma.SegmentOrderByWithRelationInput[];
}
