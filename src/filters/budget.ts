/**
 * The size budget of one filter, JSON or typed. The per-operator limits (lists ≤ 1,000,
 * nesting ≤ 5) still let `{"$or": [1,000 × {"country": {"$in": [1,000 strings]}}]}`
 * through — a million values that exhaust the heap while the SQL is built. The budget is
 * charged as the compiler walks the filter and throws VALIDATION at the spot where it is
 * crossed, so nothing past that spot is read or built.
 */
import { ValidationError, joinPath } from '../errors.js';

/** Values (list elements and scalars, at any depth) across all conditions of one filter. */
export const MAX_FILTER_VALUES = 10_000;
/** Characters of all strings (values and keys) of one filter. */
export const MAX_FILTER_CHARS = 100_000;
/** Field conditions and logical branches of one filter. */
export const MAX_FILTER_CONDITIONS = 1_000;

export class FilterBudget {
  private values = 0;
  private chars = 0;
  private conditions = 0;

  /** Charges one condition (a field test or one branch of and/or/nor) found at `path`. */
  condition(path: string): void {
    this.conditions += 1;
    if (this.conditions > MAX_FILTER_CONDITIONS) {
      throw new ValidationError(`The filter has more than ${MAX_FILTER_CONDITIONS} conditions`, path);
    }
  }

  /** Charges a key (a field name) found at `path`. */
  key(key: string, path: string): void {
    this.chargeChars(key.length, path);
  }

  /**
   * Charges every value inside `operand` (found at `path`): each scalar, list and object
   * counts one, strings and keys count their length. Each value is charged before it is
   * looked into, so the walk stops as soon as the budget is crossed (the path names the
   * element where), whatever the operand's size; its own stack makes any depth safe.
   */
  operand(operand: unknown, path: string): void {
    const containers: [object, string][] = [];
    const charge = (value: unknown, at: string) => {
      this.values += 1;
      if (this.values > MAX_FILTER_VALUES) {
        throw new ValidationError(`The filter has more than ${MAX_FILTER_VALUES} values in all`, at);
      }
      if (typeof value === 'string') this.chargeChars(value.length, at);
      else if (typeof value === 'object' && value !== null && !(value instanceof Date)) containers.push([value, at]);
    };
    charge(operand, path);
    while (containers.length > 0) {
      const [container, at] = containers.pop()!;
      if (Array.isArray(container)) {
        container.forEach((item, i) => charge(item, joinPath(at, i)));
        continue;
      }
      for (const key in container) {
        this.chargeChars(key.length, at);
        charge((container as Record<string, unknown>)[key], joinPath(at, key));
      }
    }
  }

  private chargeChars(n: number, path: string): void {
    this.chars += n;
    if (this.chars > MAX_FILTER_CHARS) {
      throw new ValidationError(`The filter's strings are longer than ${MAX_FILTER_CHARS} characters in all`, path);
    }
  }
}
