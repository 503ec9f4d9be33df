/**
 * The visual filter builder: rows of field, operator and value inside AND/OR/NOR groups, on
 * the tree of filter-model.ts. The root group is the filter object itself (its keys are
 * ANDed), so it has no operator menu.
 */
import { useState } from 'react';
import {
  defaultValue,
  emptyGroup,
  emptyRow,
  formatValue,
  OPERATOR_LABELS,
  OPERATORS,
  parseValue,
  updateNode,
  valueKind,
  type FilterGroup,
  type FilterNode,
  type FilterRow,
  type GroupOp,
  type Operator,
  type ValueKind,
} from './filter-model';

const GROUP_LABELS: Record<GroupOp, string> = { $and: 'All of (AND)', $or: 'Any of (OR)', $nor: 'None of (NOR)' };
const KIND_LABELS: Record<ValueKind, string> = { string: 'Text', number: 'Number', boolean: 'True/false', null: 'Null', list: 'List' };

type Change = (id: string, change: (node: FilterNode) => FilterNode | null) => void;

export function FilterBuilder({ root, onChange }: { root: FilterGroup; onChange: (root: FilterGroup) => void }) {
  const change: Change = (id, update) => onChange(updateNode(root, id, update));
  return (
    <div className="filter-builder" role="group" aria-label="Filter builder">
      <GroupView group={root} isRoot change={change} />
    </div>
  );
}

function GroupView({ group, isRoot, change }: { group: FilterGroup; isRoot?: boolean; change: Change }) {
  const add = (node: FilterNode) => change(group.id, (g) => ({ ...(g as FilterGroup), children: [...(g as FilterGroup).children, node] }));
  return (
    <div className={isRoot ? 'filter-group root' : 'filter-group'} role="group" aria-label={isRoot ? 'All conditions' : GROUP_LABELS[group.op]}>
      {!isRoot && (
        <div className="filter-group-head">
          <select
            aria-label="Group"
            value={group.implicit ? '$and' : group.op}
            onChange={(e) => change(group.id, (g) => ({ ...(g as FilterGroup), op: e.target.value as GroupOp, implicit: false }))}
          >
            {(Object.keys(GROUP_LABELS) as GroupOp[]).map((op) => (
              <option key={op} value={op}>
                {GROUP_LABELS[op]}
              </option>
            ))}
          </select>
          <button type="button" className="link-button" onClick={() => change(group.id, () => null)}>
            Remove group
          </button>
        </div>
      )}
      {group.children.length === 0 && <p className="muted">{isRoot ? 'No conditions: the filter matches everyone.' : 'No conditions yet.'}</p>}
      {group.children.map((node) =>
        node.kind === 'row' ? <RowView key={node.id} row={node} change={change} /> : <GroupView key={node.id} group={node} change={change} />,
      )}
      <div className="actions">
        <button type="button" onClick={() => add(emptyRow())}>
          Add condition
        </button>
        <button type="button" onClick={() => add(emptyGroup('$or'))}>
          Add OR group
        </button>
        <button type="button" onClick={() => add(emptyGroup('$and'))}>
          Add AND group
        </button>
      </div>
    </div>
  );
}

function RowView({ row, change }: { row: FilterRow; change: Change }) {
  // The text as typed, so "1." or "a," can be on their way to a number or a list.
  const [text, setText] = useState(formatValue(row.value));
  // Chosen apart from the value: an empty number field has no number yet.
  const [kind, setKind] = useState(valueKind(row.value));
  const set = (patch: Partial<FilterRow>) => change(row.id, (node) => ({ ...(node as FilterRow), ...patch }));
  const setText_ = (next: string, nextKind: ValueKind) => {
    setText(next);
    setKind(nextKind);
    const value = parseValue(next, nextKind);
    if (value !== undefined) set({ value });
  };
  const setOperator = (operator: Operator) => {
    const value = defaultValue(operator, row.value);
    setText(formatValue(value));
    setKind(valueKind(value));
    set({ operator, value });
  };
  return (
    <div className="filter-row" role="group" aria-label="Condition">
      <input aria-label="Field" placeholder="field, e.g. address.city" value={row.field} onChange={(e) => set({ field: e.target.value })} />
      <select aria-label="Operator" value={row.operator} onChange={(e) => setOperator(e.target.value as Operator)}>
        {OPERATORS.map((operator) => (
          <option key={operator} value={operator}>
            {OPERATOR_LABELS[operator]}
          </option>
        ))}
      </select>
      <select aria-label="Value type" value={kind} onChange={(e) => setText_(e.target.value === 'boolean' ? 'true' : text, e.target.value as ValueKind)}>
        {(Object.keys(KIND_LABELS) as ValueKind[]).map((k) => (
          <option key={k} value={k}>
            {KIND_LABELS[k]}
          </option>
        ))}
      </select>
      {kind === 'boolean' ? (
        <select aria-label="Value" value={String(row.value)} onChange={(e) => setText_(e.target.value, 'boolean')}>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      ) : kind === 'null' ? (
        <span className="muted">null</span>
      ) : (
        <input
          aria-label="Value"
          inputMode={kind === 'number' ? 'decimal' : undefined}
          placeholder={kind === 'list' ? 'a, b, c' : undefined}
          value={text}
          onChange={(e) => setText_(e.target.value, kind)}
        />
      )}
      <button type="button" className="link-button" aria-label="Remove condition" onClick={() => change(row.id, () => null)}>
        Remove
      </button>
    </div>
  );
}
