/**
 * THE audience query of a segment: its explicit targets that still exist, united with its
 * rule (a JSON filter, allUsers, or allSenderChannels). `Segment.size`, `Segment.targets`,
 * `segmentTargetExists` and campaign delivery (`INSERT … SELECT`) all select from it, so
 * they agree on who is in a segment, and the audience never leaves the database.
 *
 * Shape: `rule UNION ALL (explicit targets the rule does not match)`. The branches are
 * disjoint, so rows are distinct without a hash or sort over the whole audience; a count
 * reads the rule through its indexes (GIN on custom, btree columns) plus the segment's
 * targets by the segment_targets primary key, and a wrapping `WHERE target_id = $1` is
 * pushed into both branches as primary-key lookups.
 */
import { Prisma } from '../generated/prisma/client.js';
import { entityTableSql, primaryKeyField, type FilterEntity } from '../filters/fields.js';
import { compileJsonFilter } from '../filters/json-filter.js';
import { FALSE_SQL, TRUE_SQL, notSql } from '../filters/json-filter-sql.js';
import type { RawQueryable } from '../filters/json-page.js';

export type SegmentKind = 'USER' | 'CHANNEL';

/** What decides a segment's audience; a Prisma `Segment` row fits it. */
export interface AudienceRule {
  id: string;
  type: SegmentKind;
  filter: unknown | null;
  allUsers: boolean;
  allSenderChannels: boolean;
}

export interface AudienceOptions {
  /** The campaign's sender; feeds allSenderChannels. Without one that rule adds nothing. */
  senderId?: string | null;
}

/** The entity a segment of this type targets: users for USER, channels for CHANNEL. */
export function audienceEntity(type: SegmentKind): FilterEntity {
  return type === 'USER' ? 'user' : 'channel';
}

/** The rule as a boolean over the entity table aliased `t` (TRUE: everyone, FALSE: nobody). */
function ruleSql(segment: AudienceRule, senderId: string | null | undefined): Prisma.Sql {
  if (segment.type === 'USER' && segment.allUsers) return TRUE_SQL;
  if (segment.type === 'CHANNEL' && segment.allSenderChannels) {
    if (!senderId) return FALSE_SQL;
    // Served by the channel_members primary key (channel_cid, user_id).
    return Prisma.sql`EXISTS (SELECT 1 FROM "channel_members" m WHERE m."channel_cid" = t."cid" AND m."user_id" = ${senderId}::text)`;
  }
  // Stored filters were validated when saved; `{}` compiles to TRUE_SQL (everyone).
  if (segment.filter != null) return compileJsonFilter(audienceEntity(segment.type), segment.filter, 'filter');
  return FALSE_SQL;
}

/** One disjoint part of an audience: `SELECT key FROM from WHERE where`. */
interface AudienceBranch {
  key: Prisma.Sql;
  from: Prisma.Sql;
  where: Prisma.Sql;
  /** The joined entity's key, equal to `key` (explicit targets). */
  joinedKey?: Prisma.Sql;
}

function audienceBranches(segment: AudienceRule, options: AudienceOptions): AudienceBranch[] {
  const entity = audienceEntity(segment.type);
  const table = entityTableSql(entity);
  const key = primaryKeyField(entity).column;
  const rule = ruleSql(segment, options.senderId);
  // The join drops targets whose user or channel has been deleted (no foreign key there).
  const explicit = (extra: Prisma.Sql): AudienceBranch => ({
    key: Prisma.sql`st."target_id"`,
    from: Prisma.sql`"segment_targets" st JOIN ${table} t ON ${key} = st."target_id"`,
    where: Prisma.sql`st."segment_id" = ${segment.id}::text${extra}`,
    joinedKey: key,
  });
  // Every existing explicit target is also an entity row: the rule alone is the audience.
  if (rule === TRUE_SQL) return [{ key, from: Prisma.sql`${table} t`, where: TRUE_SQL }];
  if (rule === FALSE_SQL) return [explicit(Prisma.empty)];
  return [{ key, from: Prisma.sql`${table} t`, where: rule }, explicit(Prisma.sql` AND ${notSql(rule)}`)];
}

/**
 * SQL (Prisma.Sql) selecting one column `target_id` (user id or channel cid) of the live
 * audience of one segment: explicit targets that still exist ∪ the rule. `senderId` feeds
 * allSenderChannels (channels the sender is a member of); without a sender that rule adds
 * nothing. Rows are distinct.
 *
 * `within`, a condition on a target id expression (a key range), keeps only the members
 * meeting it. It is applied to every key of each branch — for explicit targets to the
 * segment's and to the joined entity's, which PostgreSQL would not infer from the join —
 * so both sides are read by range rather than in full.
 */
export function segmentAudienceSql(segment: AudienceRule, options: AudienceOptions = {}, within?: (key: Prisma.Sql) => Prisma.Sql): Prisma.Sql {
  const selects = audienceBranches(segment, options).map((b) => {
    const keys = b.joinedKey ? [b.key, b.joinedKey] : [b.key];
    const where = within ? Prisma.sql`${b.where} AND ${Prisma.join(keys.map(within), ' AND ')}` : b.where;
    return Prisma.sql`SELECT ${b.key} AS "target_id" FROM ${b.from} WHERE ${where}`;
  });
  return Prisma.join(selects, ' UNION ALL ');
}

export interface AudiencePage {
  /** Condition on a branch's target id expression (cursor and filters). */
  condition: (targetId: Prisma.Sql) => Prisma.Sql;
  descending: boolean;
  limit: number;
}

/**
 * SQL selecting `target_id` of up to `limit` audience members meeting `condition`, in id
 * order. Each branch is ordered and limited on its own: PostgreSQL 15 does not plan a
 * Merge Append of a filtered index scan under a LIMIT, and would otherwise evaluate the
 * rule over the whole audience to sort it; this way each branch reads its primary key in
 * order and stops after `limit` rows.
 */
export function audiencePageSql(segment: AudienceRule, page: AudiencePage, options: AudienceOptions = {}): Prisma.Sql {
  const dir = Prisma.raw(page.descending ? 'DESC' : 'ASC');
  const selects = audienceBranches(segment, options).map(
    (b) => Prisma.sql`(SELECT ${b.key} AS "target_id" FROM ${b.from} WHERE ${b.where} AND ${page.condition(b.key)}
      ORDER BY ${b.key} ${dir} LIMIT ${page.limit}::int)`,
  );
  return Prisma.sql`SELECT a."target_id" FROM (${Prisma.join(selects, ' UNION ALL ')}) a ORDER BY a."target_id" ${dir} LIMIT ${page.limit}::int`;
}

/** Counts the live audience of one segment (only members meeting `where`, a condition on `a."target_id"`), in the database. */
export async function countAudience(
  db: RawQueryable,
  segment: AudienceRule,
  options: AudienceOptions = {},
  where: Prisma.Sql = TRUE_SQL,
): Promise<number> {
  const condition = where === TRUE_SQL ? Prisma.empty : Prisma.sql` WHERE ${where}`;
  const rows = await db.$queryRaw<{ count: bigint | number }[]>(
    Prisma.sql`SELECT count(*) AS "count" FROM (${segmentAudienceSql(segment, options)}) a${condition}`,
  );
  return Number(rows[0]?.count ?? 0);
}

/** Whether `targetId` is in the live audience; one query of primary-key lookups. */
export async function audienceHas(db: RawQueryable, segment: AudienceRule, targetId: string, options: AudienceOptions = {}): Promise<boolean> {
  const rows = await db.$queryRaw<{ found: boolean }[]>(
    Prisma.sql`SELECT EXISTS (SELECT 1 FROM (${segmentAudienceSql(segment, options)}) a WHERE a."target_id" = ${targetId}::text) AS "found"`,
  );
  return rows[0]?.found === true;
}
