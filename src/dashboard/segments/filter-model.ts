/**
 * The segment filter builder's model: a filter in the API's JSON operator syntax
 * (campaign-api.md §2) as a tree of rows (field, operator, value) and AND/OR/NOR groups, and
 * back. Pure TypeScript with no imports, so the root test suite can check the round-trip.
 *
 * A JSON object is an *implicit* AND group: each field key becomes one row per operator
 * (`{"age": {"$gte": 18, "$lt": 65}}` is two rows), a bare value is an `$eq` row marked `bare`,
 * and `$and`/`$or`/`$nor` keys become explicit groups whose children are the array's elements.
 * `toJson` merges rows of one field back into one operator object in their first order, so
 * `toJson(fromJson(x))` equals `x` key for key. `fromJson` checks exactly that before it
 * answers: JSON the builder cannot represent (object values, mixed `$` and plain keys, unknown
 * operators, …) is reported unsupported and the dashboard keeps the JSON view only.
 */

export type Scalar = string | number | boolean | null;
export type RowValue = Scalar | Scalar[];
export type JsonValue = Scalar | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export const OPERATORS = [
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$exists',
  '$autocomplete',
  '$contains',
] as const;
export type Operator = (typeof OPERATORS)[number];

/** Words for the operator menu. */
export const OPERATOR_LABELS: Record<Operator, string> = {
  $eq: 'equals',
  $ne: 'does not equal',
  $gt: 'greater than',
  $gte: 'at least',
  $lt: 'less than',
  $lte: 'at most',
  $in: 'is one of',
  $nin: 'is none of',
  $exists: 'exists',
  $autocomplete: 'starts with',
  $contains: 'contains',
};

export const GROUP_OPS = ['$and', '$or', '$nor'] as const;
export type GroupOp = (typeof GROUP_OPS)[number];

export type ValueKind = 'string' | 'number' | 'boolean' | 'null' | 'list';

export interface FilterRow {
  kind: 'row';
  id: string;
  /** A built-in or custom field; nested custom fields with dots (`address.city`). */
  field: string;
  operator: Operator;
  value: RowValue;
  /** Written as `{field: value}` rather than `{field: {"$eq": value}}`. */
  bare: boolean;
}

export interface FilterGroup {
  kind: 'group';
  id: string;
  op: GroupOp;
  /** Written as the keys of one object (always `$and`) rather than an `$op` array. */
  implicit: boolean;
  children: FilterNode[];
}

export type FilterNode = FilterRow | FilterGroup;

export type ParseResult = { ok: true; root: FilterGroup } | { ok: false; reason: string };

let nextId = 0;
/** Ids only key the builder's rows in React; they never reach the JSON. */
export function newId(): string {
  nextId += 1;
  return `f${nextId}`;
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isScalar = (value: unknown): value is Scalar =>
  value === null || ['string', 'number', 'boolean'].includes(typeof value);
const isOperator = (key: string): key is Operator => (OPERATORS as readonly string[]).includes(key);
const isGroupOp = (key: string): key is GroupOp => (GROUP_OPS as readonly string[]).includes(key);

class Unsupported extends Error {}

function rowValue(value: JsonValue, path: string): RowValue {
  if (isScalar(value)) return value;
  if (Array.isArray(value) && value.every(isScalar)) return value;
  throw new Unsupported(`${path}: the builder edits only text, numbers, true/false, null and lists of them`);
}

function row(field: string, operator: Operator, value: RowValue, bare: boolean): FilterRow {
  return { kind: 'row', id: newId(), field, operator, value, bare };
}

function objectToNodes(object: JsonObject, path: string): FilterNode[] {
  const nodes: FilterNode[] = [];
  for (const [key, value] of Object.entries(object)) {
    const at = path ? `${path}.${key}` : key;
    if (isGroupOp(key)) {
      if (!Array.isArray(value)) throw new Unsupported(`${at}: expected a list of conditions`);
      const children = value.map((element, index) => {
        if (!isObject(element)) throw new Unsupported(`${at}[${index}]: expected an object`);
        return elementToNode(element, `${at}[${index}]`);
      });
      nodes.push({ kind: 'group', id: newId(), op: key, implicit: false, children });
    } else if (key.startsWith('$')) {
      throw new Unsupported(`${at}: not a field or a group`);
    } else if (isObject(value)) {
      const operators = Object.entries(value);
      if (operators.length === 0) throw new Unsupported(`${at}: an empty condition`);
      for (const [operator, operand] of operators) {
        if (!isOperator(operator)) throw new Unsupported(`${at}: unknown operator ${operator}`);
        nodes.push(row(key, operator, rowValue(operand, `${at}.${operator}`), false));
      }
    } else {
      nodes.push(row(key, '$eq', rowValue(value, at), true));
    }
  }
  return nodes;
}

/** One element of an `$and`/`$or`/`$nor` list: a single condition stays a row. */
function elementToNode(element: JsonObject, path: string): FilterNode {
  const nodes = objectToNodes(element, path);
  if (nodes.length === 1 && Object.keys(element).length === 1) return nodes[0]!;
  return { kind: 'group', id: newId(), op: '$and', implicit: true, children: nodes };
}

/** The builder tree of a filter, or why only the JSON view can show it. */
export function fromJson(filter: unknown): ParseResult {
  if (!isObject(filter)) return { ok: false, reason: 'The filter must be a JSON object.' };
  try {
    const root: FilterGroup = {
      kind: 'group',
      id: newId(),
      op: '$and',
      implicit: true,
      children: objectToNodes(filter, ''),
    };
    // The builder only takes what it gives back unchanged, down to the order of keys.
    if (JSON.stringify(toJson(root)) !== JSON.stringify(filter)) {
      return { ok: false, reason: 'The builder cannot show this filter exactly; edit it as JSON.' };
    }
    return { ok: true, root };
  } catch (error) {
    if (error instanceof Unsupported) return { ok: false, reason: `The builder cannot show ${error.message}; edit it as JSON.` };
    throw error;
  }
}

/** `bare` only counts for `$eq`, so a row can keep it while the user tries other operators. */
const isBare = (node: FilterRow) => node.bare && node.operator === '$eq';

function rowJson(node: FilterRow): JsonValue {
  return isBare(node) ? node.value : { [node.operator]: node.value };
}

/** The children of an implicit group as one object, or null when two would take one key. */
function mergeIntoObject(children: FilterNode[]): JsonObject | null {
  const object: JsonObject = {};
  for (const node of children) {
    if (node.kind === 'group') {
      const key = node.implicit ? '$and' : node.op;
      if (key in object) return null;
      object[key] = node.implicit ? [groupJson(node)] : node.children.map(elementJson);
      continue;
    }
    const existing = object[node.field];
    if (existing === undefined) {
      object[node.field] = rowJson(node);
      continue;
    }
    // A second operator on the same field joins its operator object; anything else collides.
    if (isBare(node) || !isObject(existing) || node.operator in existing || !Object.keys(existing).every(isOperator)) return null;
    existing[node.operator] = node.value;
  }
  return object;
}

function groupJson(group: FilterGroup): JsonObject {
  if (group.implicit) {
    const merged = mergeIntoObject(group.children);
    if (merged) return merged;
  }
  return { [group.implicit ? '$and' : group.op]: group.children.map(elementJson) };
}

function elementJson(node: FilterNode): JsonObject {
  return node.kind === 'row' ? { [node.field]: rowJson(node) } : groupJson(node);
}

/** The filter a builder tree stands for (the root is written as one object). */
export function toJson(root: FilterGroup): JsonObject {
  return groupJson(root);
}

export function valueKind(value: RowValue): ValueKind {
  if (Array.isArray(value)) return 'list';
  if (value === null) return 'null';
  return typeof value as 'string' | 'number' | 'boolean';
}

/** The operand an operator expects when a row switches to it. */
export function defaultValue(operator: Operator, current: RowValue): RowValue {
  if (operator === '$exists') return typeof current === 'boolean' ? current : true;
  if (operator === '$in' || operator === '$nin') {
    if (Array.isArray(current)) return current;
    return current === null || current === '' ? [] : [current];
  }
  if (Array.isArray(current)) return current[0] ?? '';
  return current;
}

/**
 * A typed value from the builder's text input: numbers stay numbers only when the row is of
 * kind number, so `"007"` typed as text stays text. Lists are comma-separated, each item
 * typed like a number when the list's items are numbers.
 */
export function parseValue(text: string, kind: ValueKind): RowValue | undefined {
  switch (kind) {
    case 'string':
      return text;
    case 'number': {
      const number = Number(text);
      return text.trim() !== '' && Number.isFinite(number) ? number : undefined;
    }
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : undefined;
    case 'null':
      return null;
    case 'list': {
      const items = text.split(',').map((item) => item.trim()).filter((item) => item !== '');
      const numeric = items.length > 0 && items.every((item) => Number.isFinite(Number(item)));
      return numeric ? items.map(Number) : items;
    }
  }
}

/** The text a value shows in the builder's input. */
export function formatValue(value: RowValue): string {
  if (Array.isArray(value)) return value.map((item) => String(item)).join(', ');
  return value === null ? '' : String(value);
}

/** A new empty row for the builder; its equality is written bare, the shortest way. */
export function emptyRow(): FilterRow {
  return row('', '$eq', '', true);
}

/** A new group of one empty row. */
export function emptyGroup(op: GroupOp): FilterGroup {
  return { kind: 'group', id: newId(), op, implicit: false, children: [emptyRow()] };
}

/** The tree with the node `id` replaced by `change(node)` (or removed when it returns null). */
export function updateNode(root: FilterGroup, id: string, change: (node: FilterNode) => FilterNode | null): FilterGroup {
  const visit = (node: FilterNode): FilterNode | null => {
    if (node.id === id) return change(node);
    if (node.kind === 'row') return node;
    const children = node.children.map(visit).filter((child): child is FilterNode => child !== null);
    return { ...node, children };
  };
  return visit(root) as FilterGroup;
}
