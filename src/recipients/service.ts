/**
 * Recipients: one row per user (user audiences) or per channel (channel audiences) of a
 * campaign, with what happened to it. The campaign's counters (`recipients_total`,
 * `messages_sent`, …) are kept in step with these rows: every write here that adds or
 * removes recipients adjusts them in the same statement or transaction.
 */
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { RecipientStatus } from '../generated/prisma/enums.js';
import { InvalidStateError } from '../errors.js';
import { column, entityWhere, type LogicalFilter, type ScalarFilter } from '../filters/typed.js';
import { toOrderBy, type SortShape } from '../filters/typed-sort.js';
import { checkList } from '../validation.js';

export const MAX_DELETE_RECIPIENTS = 1000;

/** The typed filter of recipient lists (spec §6). */
export interface RecipientFilter extends LogicalFilter<RecipientFilter> {
  campaignId?: ScalarFilter<string> | null;
  status?: ScalarFilter<RecipientStatus> | null;
  userId?: ScalarFilter<string> | null;
  channelCid?: ScalarFilter<string> | null;
  error?: ScalarFilter<string> | null;
  sentAt?: ScalarFilter<Date> | null;
  readAt?: ScalarFilter<Date> | null;
  createdAt?: ScalarFilter<Date> | null;
}

const filterFields = {
  campaignId: column<string>('campaignId'),
  status: column<RecipientStatus>('status'),
  userId: column<string>('userId', { nullable: true }),
  channelCid: column<string>('channelCid', { nullable: true }),
  error: column<string>('error', { nullable: true }),
  sentAt: column<Date>('sentAt', { nullable: true }),
  readAt: column<Date>('readAt', { nullable: true }),
  createdAt: column<Date>('createdAt'),
};

/** Sort fields of recipient lists, each with its description. */
export const RECIPIENT_SORT_FIELDS = {
  createdAt: 'When the recipient was added to the campaign.',
  sentAt: 'When the message was sent (recipients not sent yet come last ascending, first descending).',
  readAt: 'When the receiver read the message (unread come last ascending, first descending).',
  status: 'Status in lifecycle order: PENDING, SENT, ERRORED, SKIPPED.',
} as const;
export type RecipientSortField = keyof typeof RECIPIENT_SORT_FIELDS;

const sortColumns: Record<RecipientSortField, string> = { createdAt: 'createdAt', sentAt: 'sentAt', readAt: 'readAt', status: 'status' };

/**
 * The Prisma where of a recipient list: `filter` (VALIDATION naming `filter.…` on misuse),
 * within one campaign when `campaignId` is given.
 */
export function recipientWhere(filter: RecipientFilter | null | undefined, campaignId?: string): Prisma.RecipientWhereInput {
  const filtered = entityWhere(filter, filterFields) as Prisma.RecipientWhereInput;
  return campaignId === undefined ? filtered : { AND: [{ campaignId }, filtered] };
}

/** Sort keys to a total Prisma orderBy (oldest first by default, then id). */
export function recipientOrderBy(sort: readonly SortShape<RecipientSortField>[] | null | undefined): Prisma.RecipientOrderByWithRelationInput[] {
  return toOrderBy(sort, sortColumns, 'id', [{ field: 'createdAt' }]) as Prisma.RecipientOrderByWithRelationInput[];
}

/** Anything that runs raw SQL: a PrismaClient or an interactive-transaction client. */
export type RawDb = Pick<PrismaClient, '$queryRaw'>;

/**
 * Adds recipients to a campaign: users and/or channels, skipping ids already there and ids
 * that name no existing user or channel. Bumps `recipients_total` by the rows actually
 * inserted, in the same statement, so the counter can never drift from the rows. Returns
 * that number. Safe to repeat (the delivery engine re-runs it after a crash).
 */
export async function insertRecipients(
  db: RawDb,
  campaignId: string,
  targets: { userIds?: readonly string[]; channelCids?: readonly string[] },
): Promise<number> {
  const userIds = [...new Set(targets.userIds ?? [])];
  const channelCids = [...new Set(targets.channelCids ?? [])];
  if (userIds.length === 0 && channelCids.length === 0) return 0;
  // One statement: the ids travel as two array parameters; the joins drop ids of users or
  // channels that do not exist (deleted since the audience was read) instead of failing on
  // the foreign key; ON CONFLICT skips recipients already present (unique per campaign ×
  // user and campaign × channel); the UPDATE counts exactly the rows inserted.
  const rows = await db.$queryRaw<{ inserted: number }[]>`
    WITH ins AS (
      INSERT INTO recipients (campaign_id, user_id, channel_cid)
      SELECT ${campaignId}, u.id, NULL FROM unnest(${userIds}::text[]) AS t(id) JOIN users u ON u.id = t.id
      UNION ALL
      SELECT ${campaignId}, NULL, c.cid FROM unnest(${channelCids}::text[]) AS t(cid) JOIN channels c ON c.cid = t.cid
      ON CONFLICT DO NOTHING
      RETURNING 1
    ), bumped AS (
      UPDATE campaigns SET recipients_total = recipients_total + (SELECT count(*) FROM ins)
      WHERE id = ${campaignId}
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM ins)::int AS inserted`;
  return rows[0]?.inserted ?? 0;
}

export interface DeletedRecipients {
  deletedIds: string[];
  deletedCount: number;
  /** Campaigns whose counters changed (for live events). */
  campaignIds: string[];
}

/**
 * Deletes recipients by id and takes them out of their campaigns' counters, all in one
 * transaction; ids that match nothing are ignored, the deleted ones come back in input
 * order. Refuses (INVALID_STATE on `ids`, nothing deleted) when any of them belongs to a
 * campaign that is IN_PROGRESS, whose delivery is still writing those rows and counters.
 *
 * Counters are decremented by what each deleted row had contributed, so they keep
 * describing the remaining recipients: every row `recipients_total`; SENT rows
 * `messages_sent` and `users_sent` (which counts SENT recipients, users or channels); ERRORED
 * rows `messages_errored`; SKIPPED rows `recipients_skipped`; rows with `read_at`
 * `users_read`. `channels_created` stays: the channels still exist.
 */
export async function deleteRecipients(prisma: PrismaClient, ids: readonly string[]): Promise<DeletedRecipients> {
  checkList(ids, 'ids', MAX_DELETE_RECIPIENTS, { min: 1, distinct: false });
  const unique = [...new Set(ids)];
  return prisma.$transaction(async (tx) => {
    // Lock the campaigns involved (in id order, so two deletes cannot deadlock) before
    // reading their status: a campaign cannot start delivering between this check and the
    // delete, since changing its status needs the same row lock.
    const campaigns = await tx.$queryRaw<{ id: string; status: string }[]>`
      SELECT id, status::text AS status FROM campaigns
      WHERE id IN (SELECT campaign_id FROM recipients WHERE id = ANY(${unique}::text[]))
      ORDER BY id
      FOR UPDATE`;
    const busy = campaigns.filter((c) => c.status === 'IN_PROGRESS').map((c) => c.id);
    if (busy.length) {
      throw new InvalidStateError(
        `Campaign ${busy.join(', ')} is IN_PROGRESS: its recipients cannot be deleted until it is stopped or finishes`,
        'ids',
      );
    }
    // One statement deletes the rows and subtracts, per campaign, what they had counted.
    // GREATEST keeps a counter from going negative should it ever have drifted.
    const deleted = await tx.$queryRaw<{ id: string }[]>`
      WITH gone AS (
        DELETE FROM recipients WHERE id = ANY(${unique}::text[])
        RETURNING id, campaign_id, status, user_id, read_at
      ), per_campaign AS (
        SELECT campaign_id,
          count(*)::int AS total,
          (count(*) FILTER (WHERE status = 'SENT'))::int AS sent,
          (count(*) FILTER (WHERE status = 'ERRORED'))::int AS errored,
          (count(*) FILTER (WHERE status = 'SKIPPED'))::int AS skipped,
          (count(*) FILTER (WHERE read_at IS NOT NULL))::int AS users_read
        FROM gone GROUP BY campaign_id
      ), adjusted AS (
        UPDATE campaigns c SET
          recipients_total = GREATEST(c.recipients_total - p.total, 0),
          messages_sent = GREATEST(c.messages_sent - p.sent, 0),
          users_sent = GREATEST(c.users_sent - p.sent, 0),
          messages_errored = GREATEST(c.messages_errored - p.errored, 0),
          recipients_skipped = GREATEST(c.recipients_skipped - p.skipped, 0),
          users_read = GREATEST(c.users_read - p.users_read, 0)
        FROM per_campaign p WHERE c.id = p.campaign_id
        RETURNING 1
      )
      SELECT id FROM gone`;
    const gone = new Set(deleted.map((d) => d.id));
    const deletedIds = unique.filter((id) => gone.has(id));
    return { deletedIds, deletedCount: deletedIds.length, campaignIds: deletedIds.length ? campaigns.map((c) => c.id) : [] };
  });
}

/** The counter columns a campaign keeps in step with its recipient rows (same transactions). */
export interface RecipientCounters {
  recipientsTotal: number;
  messagesSent: number;
  messagesErrored: number;
  recipientsSkipped: number;
  materializedAt: Date | null;
}

/**
 * How many of a campaign's recipients a filter matches, from its counters instead of a
 * count(*) over the rows, when it can be: with no filter, `recipients_total` (every write of
 * recipient rows — materialization chunks, insertRecipients, deleteRecipients — changes it in
 * the same transaction, so it is the rows' count as of the campaign's read, also while the
 * audience is still being written); with one status (`{ status: { eq } }`), once the audience
 * is written (materialized), the status counters kept by delivery, retries and deletes.
 * Counting 100,000 rows under delivery costs ~15 ms of database CPU per call. Null: count the rows.
 */
export function countFromCounters(filter: RecipientFilter | null | undefined, campaign: Partial<RecipientCounters>): number | null {
  const { recipientsTotal, messagesSent, messagesErrored, recipientsSkipped, materializedAt } = campaign;
  const keys = filter ? Object.keys(filter).filter((key) => filter[key as keyof RecipientFilter] != null) : [];
  if (keys.length === 0) return recipientsTotal ?? null;
  if (!materializedAt || recipientsTotal === undefined || messagesSent === undefined || messagesErrored === undefined || recipientsSkipped === undefined) return null;
  const status = filter?.status;
  if (keys.length !== 1 || !status) return null;
  const statusKeys = Object.keys(status).filter((key) => status[key as keyof typeof status] != null);
  if (statusKeys.length !== 1 || status.eq == null) return null;
  const byStatus: Record<RecipientStatus, number> = {
    SENT: messagesSent,
    ERRORED: messagesErrored,
    SKIPPED: recipientsSkipped,
    PENDING: Math.max(0, recipientsTotal - messagesSent - messagesErrored - recipientsSkipped),
  };
  return byStatus[status.eq];
}
