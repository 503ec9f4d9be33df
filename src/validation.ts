/**
 * Edge checks shared by every service. Each throws a ValidationError naming the dotted
 * path of the input at fault, so a failed call writes nothing and says where it failed.
 */
import { ValidationError } from './errors.js';

/** Ids chosen by clients (users, channel ids): letters, digits and `@ . _ - !`. */
export const ID_PATTERN = /^[A-Za-z0-9@._!-]+$/;
/** Channel types: lower-case letters, digits, `_` and `-`. */
export const CHANNEL_TYPE_PATTERN = /^[a-z0-9_-]+$/;

/** Requires `value` to be 1..max characters and, when given, to match `pattern`. */
export function checkString(value: string, path: string, max: number, pattern?: RegExp, what = 'letters, digits and @ . _ - !'): string {
  if (value.length === 0) throw new ValidationError(`${path} must not be empty`, path);
  if (value.length > max) throw new ValidationError(`${path} must be at most ${max} characters`, path);
  if (pattern && !pattern.test(value)) throw new ValidationError(`${path} may only contain ${what}`, path);
  return value;
}

/** Requires at most `max` items, each distinct. */
export function checkList<T>(values: readonly T[], path: string, max: number, { min = 0, distinct = true } = {}): readonly T[] {
  if (values.length < min) throw new ValidationError(`${path} needs at least ${min} item${min === 1 ? '' : 's'}`, path);
  if (values.length > max) throw new ValidationError(`${path} may hold at most ${max} items, got ${values.length}`, path);
  if (distinct) {
    const seen = new Set<T>();
    for (const [i, v] of values.entries()) {
      if (seen.has(v)) throw new ValidationError(`${path} lists ${String(v)} twice`, `${path}[${i}]`);
      seen.add(v);
    }
  }
  return values;
}

/** Requires a JSON object (not an array or scalar) whose JSON text is at most `maxBytes`. */
export function checkJsonObject(value: unknown, path: string, maxBytes = 8192): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError(`${path} must be a JSON object`, path);
  }
  if (Buffer.byteLength(JSON.stringify(value)) > maxBytes) {
    throw new ValidationError(`${path} must be at most ${maxBytes} bytes of JSON`, path);
  }
  return value as Record<string, unknown>;
}

/** Requires a JSON array of objects of at most `maxItems` items and `maxBytes` of JSON. */
export function checkJsonObjectList(value: unknown, path: string, maxItems = 10, maxBytes = 16384): Record<string, unknown>[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw new ValidationError(`${path} must be a list of JSON objects`, path);
  if (value.length > maxItems) throw new ValidationError(`${path} may hold at most ${maxItems} items`, path);
  value.forEach((item, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new ValidationError(`${path}[${i}] must be a JSON object`, `${path}[${i}]`);
    }
  });
  if (Buffer.byteLength(JSON.stringify(value)) > maxBytes) {
    throw new ValidationError(`${path} must be at most ${maxBytes} bytes of JSON`, path);
  }
  return value as Record<string, unknown>[];
}

/** Requires a page size within 0..max (defaulting when absent). */
export function pageSize(value: number | null | undefined, path: string, max: number, fallback = 100): number {
  if (value === null || value === undefined) return Math.min(fallback, max);
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new ValidationError(`${path} must be an integer from 0 to ${max}`, path);
  }
  return value;
}
