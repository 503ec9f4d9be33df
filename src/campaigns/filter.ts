/**
 * The campaign lists' filter and sort (inputs in filter.schema.ts) compiled to Prisma
 * `where` / `orderBy`. `segments` filters by the campaign's segment links with the
 * array semantics of the operator syntax: `eq`/`in` match a campaign using any of the
 * ids, `ne`/`nin` one using none of them, `exists` one with (or without) any segment.
 */
import { ValidationError, joinPath } from '../errors.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { CampaignStatus as CampaignStatusValue } from '../generated/prisma/enums.js';
import { MAX_IN_VALUES, column, entityWhere, type FieldCompiler, type LogicalFilter, type ScalarFilter } from '../filters/typed.js';
import { toOrderBy, type SortShape } from '../filters/typed-sort.js';

export interface CampaignFilterShape extends LogicalFilter<CampaignFilterShape> {
  id?: ScalarFilter<string> | null;
  name?: ScalarFilter<string> | null;
  status?: ScalarFilter<CampaignStatusValue> | null;
  senderId?: ScalarFilter<string> | null;
  segments?: ScalarFilter<string> | null;
  createdAt?: ScalarFilter<Date> | null;
  updatedAt?: ScalarFilter<Date> | null;
  scheduledFor?: ScalarFilter<Date> | null;
}

export const CAMPAIGN_SORT_FIELDS = {
  name: 'Name.',
  status: 'Status, in lifecycle order (DRAFT, SCHEDULED, IN_PROGRESS, COMPLETED, STOPPED, FAILED).',
  createdAt: 'Creation time.',
  updatedAt: 'Last change.',
  scheduledFor: 'Scheduled start (campaigns without one sort last ascending, first descending).',
} as const;
export type CampaignSortField = keyof typeof CAMPAIGN_SORT_FIELDS;
export type CampaignSortShape = SortShape<CampaignSortField>;


const segmentsWhere: FieldCompiler<ScalarFilter<string>> = (filter, path) => {
  const parts: Prisma.CampaignWhereInput[] = [];
  const list = (values: readonly string[], op: 'in' | 'nin') => {
    if (values.length > MAX_IN_VALUES) {
      throw new ValidationError(`${joinPath(path, op)} may list at most ${MAX_IN_VALUES} values, got ${values.length}`, joinPath(path, op));
    }
    return [...values];
  };
  if (filter.eq != null) parts.push({ segments: { some: { segmentId: filter.eq } } });
  if (filter.in != null) parts.push({ segments: { some: { segmentId: { in: list(filter.in, 'in') } } } });
  if (filter.ne != null) parts.push({ segments: { none: { segmentId: filter.ne } } });
  if (filter.nin != null) parts.push({ segments: { none: { segmentId: { in: list(filter.nin, 'nin') } } } });
  if (filter.exists != null) parts.push(filter.exists ? { segments: { some: {} } } : { segments: { none: {} } });
  return parts as Record<string, unknown>[];
};

const FILTER_FIELDS = {
  id: column<string>('id'),
  name: column<string>('name'),
  status: column<CampaignStatusValue>('status'),
  senderId: column<string>('senderId', { nullable: true }),
  segments: segmentsWhere,
  createdAt: column<Date>('createdAt'),
  updatedAt: column<Date>('updatedAt'),
  scheduledFor: column<Date>('scheduledFor', { nullable: true }),
};

/** Compiles a CampaignFilter to a Prisma where (VALIDATION naming `filter.…` on misuse). */
export function campaignWhere(filter: CampaignFilterShape | null | undefined, path = 'filter'): Prisma.CampaignWhereInput {
  return entityWhere(filter, FILTER_FIELDS, path) as Prisma.CampaignWhereInput;
}

const SORT_COLUMNS: Record<CampaignSortField, string> = {
  name: 'name',
  status: 'status',
  createdAt: 'createdAt',
  updatedAt: 'updatedAt',
  scheduledFor: 'scheduledFor',
};

/** Sort keys to a total Prisma orderBy (oldest first by default, then id). */
export function campaignOrderBy(sort: readonly CampaignSortShape[] | null | undefined): Prisma.CampaignOrderByWithRelationInput[] {
  return toOrderBy(sort, SORT_COLUMNS, 'id', [{ field: 'createdAt', direction: 'ASC' }]);
}
