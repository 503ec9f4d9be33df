/**
 * Expected failures, shared by services, resolvers and jobs. Each carries a code from the
 * spec's ErrorCode enum and, where it applies, the dotted path of the offending input
 * (`filter.$or[1].age`, `input.segmentIds`). Mutations return them as union members;
 * queries turn them into top-level errors with `extensions.code` / `extensions.path`.
 */
export type ErrorCodeName = 'VALIDATION' | 'NOT_FOUND' | 'CONFLICT' | 'INVALID_STATE';

export abstract class BeaconError extends Error {
  abstract readonly code: ErrorCodeName;
  /** Dotted paths of the inputs at fault; empty when the error is about no single input. */
  readonly path: string[];
  constructor(message: string, path?: string | string[]) {
    super(message);
    this.name = new.target.name;
    this.path = path === undefined ? [] : Array.isArray(path) ? path : [path];
  }
}

/** Input that breaks a rule: wrong type, too long, unknown id, bad filter. */
export class ValidationError extends BeaconError {
  readonly code = 'VALIDATION' as const;
}

/** The entity named by the operation does not exist. */
export class NotFoundError extends BeaconError {
  readonly code = 'NOT_FOUND' as const;
}

/** The operation clashes with other data (a segment in use, a duplicate id). */
export class ConflictError extends BeaconError {
  readonly code = 'CONFLICT' as const;
}

/** The entity is not in a state that allows the operation. */
export class InvalidStateError extends BeaconError {
  readonly code = 'INVALID_STATE' as const;
}

/** Appends a key to a dotted path: `filter` + `age` → `filter.age`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}
