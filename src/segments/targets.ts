/**
 * Explicit targets of a segment: checking a list of ids, and the set-based writes that add
 * and remove them. Callers run these inside the transaction of their mutation.
 */
import { Prisma } from '../generated/prisma/client.js';
import { ValidationError } from '../errors.js';
import { entityTableSql, primaryKeyField } from '../filters/fields.js';
import type { RawQueryable } from '../filters/json-page.js';
import { checkList } from '../validation.js';
import { audienceEntity, countAudience, type AudienceRule, type SegmentKind } from './audience.js';

/** At most this many target ids per call (createSegment, addSegmentTargets, removeSegmentTargets). */
export const MAX_TARGETS_PER_CALL = 10_000;
/** How many unknown ids an error message lists. */
const SHOWN_UNKNOWN = 20;

export interface Executor extends RawQueryable {
  $executeRaw(query: Prisma.Sql): Promise<number>;
}

/** Checks the list size and drops repeats, keeping the first occurrence's order. */
export function checkTargetIds(ids: readonly string[], path: string, { min = 0 } = {}): string[] {
  checkList(ids, path, MAX_TARGETS_PER_CALL, { min, distinct: false });
  return [...new Set(ids)];
}

/**
 * Throws VALIDATION at `path` listing the ids that are not existing users (USER) or channel
 * cids (CHANNEL). One set query: the ids travel as one array parameter.
 */
export async function requireTargets(db: RawQueryable, type: SegmentKind, ids: readonly string[], path: string): Promise<void> {
  // PostgreSQL text cannot hold NUL, so such an id cannot exist; it is unknown without asking.
  const entity = audienceEntity(type);
  const rows = ids.length === 0 ? [] : await db.$queryRaw<{ id: string }[]>(Prisma.sql`
    SELECT x.id FROM unnest(${[...ids]}::text[]) WITH ORDINALITY AS x(id, n)
    WHERE NOT EXISTS (SELECT 1 FROM ${entityTableSql(entity)} t WHERE ${primaryKeyField(entity).column} = x.id)
    ORDER BY x.n`);
  const missing = new Set(rows.map((r) => r.id));
  const unknown = ids.filter((id) => missing.has(id));
  if (unknown.length === 0) return;
  const what = type === 'USER' ? 'user ids' : 'channel cids';
  const shown = unknown.slice(0, SHOWN_UNKNOWN).map((id) => JSON.stringify(id)).join(', ');
  const more = unknown.length > SHOWN_UNKNOWN ? `, … (${unknown.length} in all)` : '';
  throw new ValidationError(`Unknown ${what}: ${shown}${more}`, path);
}

/** Adds targets, leaving existing ones as they are; returns how many were new. */
export function insertTargets(db: Executor, segmentId: string, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return Promise.resolve(0);
  // One statement for up to 10,000 rows; ON CONFLICT makes repeats and races no-ops.
  return db.$executeRaw(Prisma.sql`
    INSERT INTO "segment_targets" ("segment_id", "target_id")
    SELECT ${segmentId}::text, x.id FROM unnest(${[...ids]}::text[]) AS x(id)
    ON CONFLICT DO NOTHING`);
}

/** Removes the listed targets; ids that are not targets are ignored. Returns how many went. */
export function deleteTargets(db: Executor, segmentId: string, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return Promise.resolve(0);
  return db.$executeRaw(Prisma.sql`
    DELETE FROM "segment_targets" WHERE "segment_id" = ${segmentId}::text AND "target_id" = ANY(${[...ids]}::text[])`);
}

/**
 * Counts the audience and stores it as cachedSize (used only to sort by size). Leaves
 * updated_at alone: computing a size is not a change of the segment.
 */
export async function storeSize(db: Executor, segment: AudienceRule): Promise<number> {
  const size = await countAudience(db, segment);
  await storeSizes(db, new Map([[segment.id, size]]));
  return size;
}

/** Stores several computed sizes in one statement. */
export async function storeSizes(db: Executor, sizes: ReadonlyMap<string, number>): Promise<void> {
  if (sizes.size === 0) return;
  await db.$executeRaw(Prisma.sql`
    UPDATE "segments" s SET "cached_size" = x.size
    FROM unnest(${[...sizes.keys()]}::text[], ${[...sizes.values()]}::int[]) AS x(id, size)
    WHERE s."id" = x.id AND s."cached_size" <> x.size`);
}
