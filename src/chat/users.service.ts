/**
 * Users of the chat store. `upsertUsers` replaces each listed user whole (fields left out
 * take their defaults, `createdAt` is kept), all in one statement inside one transaction.
 */
import type { PrismaClient } from '../generated/prisma/client.js';
import { ValidationError } from '../errors.js';
import { ID_PATTERN, checkJsonObject, checkList, checkString } from '../validation.js';

export const MAX_USERS_PER_CALL = 1000;

export interface UserInput {
  id: string;
  name?: string | null;
  role?: string | null;
  language?: string | null;
  teams?: readonly string[] | null;
  custom?: unknown;
}

interface UserRow {
  id: string;
  name: string | null;
  role: string;
  language: string | null;
  teams: string[];
  custom: Record<string, unknown>;
}

/** Validates one user input; `path` is e.g. `users[3]`. */
export function validateUserInput(input: UserInput, path: string): UserRow {
  const teams = [...(input.teams ?? [])];
  checkList(teams, `${path}.teams`, 100);
  teams.forEach((team, i) => checkString(team, `${path}.teams[${i}]`, 64));
  return {
    id: checkString(input.id, `${path}.id`, 128, ID_PATTERN),
    name: input.name == null ? null : checkString(input.name, `${path}.name`, 256),
    role: input.role == null ? 'user' : checkString(input.role, `${path}.role`, 64, /^[a-z0-9_-]+$/, 'lower-case letters, digits, _ and -'),
    language: input.language == null ? null : checkString(input.language, `${path}.language`, 16, /^[A-Za-z0-9_-]+$/, 'letters, digits, _ and -'),
    teams,
    custom: checkJsonObject(input.custom, `${path}.custom`),
  };
}

/** Inserts or replaces up to 1,000 users in one transaction; returns their ids in input order. */
export async function upsertUsers(prisma: PrismaClient, inputs: readonly UserInput[]): Promise<string[]> {
  checkList(inputs, 'users', MAX_USERS_PER_CALL, { min: 1, distinct: false });
  const rows = inputs.map((input, i) => validateUserInput(input, `users[${i}]`));
  checkList(rows.map((r) => r.id), 'users.id', MAX_USERS_PER_CALL);
  // One set-based statement: the rows travel as one JSON parameter and are unpacked by
  // jsonb_to_recordset, so 1,000 users cost one round trip, not 1,000.
  await prisma.$executeRaw`
    INSERT INTO users (id, name, role, language, teams, custom)
    SELECT r.id, r.name, r.role, r.language, r.teams, r.custom
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      AS r(id text, name text, role text, language text, teams text[], custom jsonb)
    ON CONFLICT (id) DO UPDATE SET
      name = EXCLUDED.name, role = EXCLUDED.role, language = EXCLUDED.language,
      teams = EXCLUDED.teams, custom = EXCLUDED.custom, updated_at = now()`;
  return rows.map((r) => r.id);
}

/** Deletes users (their memberships go with them; their messages stay, without sender). Returns the ids that existed. */
export async function deleteUsers(prisma: PrismaClient, ids: readonly string[]): Promise<string[]> {
  checkList(ids, 'ids', MAX_USERS_PER_CALL, { min: 1 });
  return prisma.$transaction(async (tx) => {
    // References to users are checked per statement (see the migration
    // references_checked_per_statement): writers of referencing rows hold a shared lock,
    // deleters an exclusive one. Taken first, before any row lock: this waits for the
    // delivery batches in flight (they take the shared lock at BEGIN, before they claim
    // recipient rows) and holds new ones back until this commits, so no batch holds a row
    // this needs. (Before, this locked the users' recipient rows first to keep the lock
    // order of batches, which took per-row foreign-key locks on users.)
    await tx.$queryRaw`SELECT beacon_lock_references()::text AS locked`;
    // Memberships first, counting them per channel in the same statement, so member_count
    // stays exact without rescanning channels; then the users, whose deletion sets their
    // other references to NULL.
    await tx.$executeRaw`
      WITH gone AS (DELETE FROM channel_members WHERE user_id = ANY(${[...ids]}::text[]) RETURNING channel_cid)
      UPDATE channels c SET member_count = c.member_count - g.n, updated_at = now()
      FROM (SELECT channel_cid, count(*)::int AS n FROM gone GROUP BY channel_cid) g
      WHERE c.cid = g.channel_cid`;
    const deleted = await tx.$queryRaw<{ id: string }[]>`
      DELETE FROM users WHERE id = ANY(${[...ids]}::text[]) RETURNING id`;
    return deleted.map((d) => d.id);
  });
}

/** Returns the subset of `ids` that are not existing users, in input order. */
export async function findMissingUserIds(db: Pick<PrismaClient, '$queryRaw'>, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const found = await db.$queryRaw<{ id: string }[]>`SELECT id FROM users WHERE id = ANY(${[...ids]}::text[])`;
  const known = new Set(found.map((f) => f.id));
  return ids.filter((id) => !known.has(id));
}

/** Ids quoted in one error message, at most. */
const MAX_LISTED_IDS = 20;

/** Lists ids for an error message: the first 20, then how many in all. */
export function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, MAX_LISTED_IDS).join(', ');
  return ids.length > MAX_LISTED_IDS ? `${shown}, … (${ids.length} in all)` : shown;
}

/** Throws a VALIDATION error listing the unknown user ids, if any. */
export async function requireUsers(db: Pick<PrismaClient, '$queryRaw'>, ids: readonly string[], path: string): Promise<void> {
  const missing = await findMissingUserIds(db, ids);
  if (missing.length) throw new ValidationError(`Unknown user ids: ${listIds(missing)}`, path);
}
