/**
 * PostgreSQL failures Beacon reacts to by their SQLSTATE: a statement cancelled by the
 * API's statement timeout, and the transient conflicts (deadlock, serialization failure)
 * that succeed when the transaction runs again.
 */

/** SQLSTATE of a statement cancelled by `statement_timeout` (or by an operator). */
export const QUERY_CANCELED = '57014';
const DEADLOCK_DETECTED = '40P01';
const SERIALIZATION_FAILURE = '40001';
const UNIQUE_VIOLATION = '23505';

/**
 * The SQLSTATE behind an error from `pg` (`error.code`) or from Prisma's pg adapter (which
 * keeps it in `meta.driverAdapterError.cause.originalCode`), or undefined.
 */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; severity?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } };
  const adapted = e.meta?.driverAdapterError?.cause?.originalCode;
  if (typeof adapted === 'string') return adapted;
  // A pg DatabaseError carries the SQLSTATE in `code` next to a `severity`; Prisma's own
  // `code` (P2010, …) has no severity.
  if (typeof e.code === 'string' && typeof e.severity === 'string') return e.code;
  return undefined;
}

/** True for failures that say "run the whole transaction again". */
export function isTransientConflict(error: unknown): boolean {
  const state = sqlState(error);
  return state === DEADLOCK_DETECTED || state === SERIALIZATION_FAILURE;
}

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts?: number;
  /** Upper bound of the first wait in ms; doubled for each further attempt. */
  baseDelayMs?: number;
  /** Further failures that mean "run it again" for this transaction. */
  alsoTransient?: (error: unknown) => boolean;
}

/** A unique_violation (23505), whichever key. */
export const isUniqueViolation = (error: unknown): boolean => sqlState(error) === UNIQUE_VIOLATION;

/** A unique_violation (23505) of the named constraint or index. */
export function isUniqueViolationOf(error: unknown, constraint: string): boolean {
  return isUniqueViolation(error) && (error as { constraint?: unknown }).constraint === constraint;
}

/**
 * Runs `transaction` and runs it again (up to `attempts` times in all) while it fails with
 * a deadlock or a serialization failure. PostgreSQL rolled the failed attempt back whole,
 * so a rerun starts clean. The waits are jittered ("full jitter") so that the transactions
 * that just collided do not collide again in lockstep.
 */
export async function retryTransientConflicts<T>(transaction: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 20;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await transaction();
    } catch (error) {
      if (attempt >= attempts || !(isTransientConflict(error) || options.alsoTransient?.(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * baseDelayMs * 2 ** (attempt - 1)));
    }
  }
}
