/**
 * New segment (/segments/new) and Segment (/segments/:id): name, description, type and the
 * rule (all users, all sender channels or a filter). The filter is edited in the visual
 * builder or as JSON; both views hold the same filter, and a filter the builder cannot show
 * stays in the JSON view. The audience size of the unsaved rule follows the edits.
 */
import { useId, useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import {
  CreateSegmentDocument,
  DeleteSegmentDocument,
  SegmentAudienceSizeDocument,
  SegmentEditorDocument,
  UpdateSegmentDocument,
  type EditorSegmentFragment,
  type SaveErrorFragment,
  type SegmentType,
} from '../generated/graphql';
import { Link, navigate } from '../router';
import { useDebounced } from '../debounce';
import { formatCount } from '../format';
import { ErrorMessage } from '../components/CampaignBits';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { FilterBuilder } from '../segments/FilterBuilder';
import { SegmentTargets } from '../segments/SegmentTargets';
import { fromJson, toJson, type FilterGroup } from '../segments/filter-model';
import { NotFound } from '../components/NotFound';

type Rule = 'none' | 'allUsers' | 'allSenderChannels' | 'filter';

interface FilterState {
  view: 'builder' | 'json';
  root: FilterGroup;
  json: string;
  /** Why the builder cannot show the JSON, or why the JSON does not parse. */
  note: string | null;
}

const EMPTY_ROOT = (): FilterGroup => (fromJson({}) as { ok: true; root: FilterGroup }).root;

function filterState(filter: unknown): FilterState {
  const parsed = fromJson(filter ?? {});
  const json = JSON.stringify(filter ?? {}, null, 2);
  if (parsed.ok) return { view: 'builder', root: parsed.root, json, note: null };
  return { view: 'json', root: EMPTY_ROOT(), json, note: parsed.reason };
}

/** The filter the current view holds, or an error message when its JSON does not parse. */
function currentFilter(state: FilterState): { filter: unknown } | { error: string } {
  if (state.view === 'builder') return { filter: toJson(state.root) };
  try {
    return { filter: JSON.parse(state.json) as unknown };
  } catch {
    return { error: 'The JSON does not parse.' };
  }
}

export function NewSegmentPage() {
  return <SegmentEditor />;
}

export function SegmentPage({ id }: { id: string }) {
  const [result] = useQuery({ query: SegmentEditorDocument, variables: { id }, requestPolicy: 'network-only' });
  const segment = result.data?.segment;
  if (result.error) return <ErrorMessage title="Could not load the segment." error={result.error} />;
  if (result.fetching && !segment) return <p className="muted" role="status">Loading segment…</p>;
  if (!segment) {
    return <NotFound what="Segment" id={id} listPath="/segments" />;
  }
  return <SegmentEditor key={segment.id} segment={segment} />;
}

function SegmentEditor({ segment }: { segment?: EditorSegmentFragment }) {
  const ids = useId();
  const [name, setName] = useState(segment?.name ?? '');
  const [description, setDescription] = useState(segment?.description ?? '');
  const [type, setType] = useState<SegmentType>(segment?.type ?? 'USER');
  const [rule, setRule] = useState<Rule>(
    segment?.allUsers ? 'allUsers' : segment?.allSenderChannels ? 'allSenderChannels' : segment?.filter != null || !segment ? 'filter' : 'none',
  );
  const [filter, setFilter] = useState<FilterState>(() => filterState(segment?.filter));
  const [errors, setErrors] = useState<string[]>([]);
  const [confirming, setConfirming] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [createState, create] = useMutation(CreateSegmentDocument);
  const [updateState, update] = useMutation(UpdateSegmentDocument);
  const [deleteState, remove] = useMutation(DeleteSegmentDocument);

  const current = currentFilter(filter);
  const ruleInput = {
    allUsers: rule === 'allUsers',
    allSenderChannels: rule === 'allSenderChannels',
    filter: rule === 'filter' && 'filter' in current ? current.filter : null,
  };
  const sizeKey = useDebounced(JSON.stringify({ type, ...ruleInput }), 400);
  const sizeVariables = useMemo(() => JSON.parse(sizeKey) as { type: SegmentType; filter: unknown; allUsers: boolean; allSenderChannels: boolean }, [sizeKey]);
  const [size] = useQuery({ query: SegmentAudienceSizeDocument, variables: sizeVariables, pause: rule === 'none' || (rule === 'filter' && 'error' in current) });

  const switchView = (view: FilterState['view']) => {
    if (view === filter.view) return;
    if (view === 'json') return setFilter({ ...filter, view, json: JSON.stringify(toJson(filter.root), null, 2), note: null });
    if ('error' in current) return setFilter({ ...filter, note: current.error });
    const parsed = fromJson(current.filter);
    setFilter(parsed.ok ? { ...filter, view, root: parsed.root, note: null } : { ...filter, note: parsed.reason });
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setErrors([]);
    if (rule === 'filter' && 'error' in current) return setErrors([current.error]);
    const rules = { allUsers: ruleInput.allUsers, allSenderChannels: ruleInput.allSenderChannels, filter: ruleInput.filter };
    const input = { name, description: description || null, ...rules };
    const response = segment ? await update({ id: segment.id, input }) : await create({ input: { ...input, type, filter: rules.filter ?? undefined } });
    if (response.error) return setErrors([response.error.message]);
    const payload = response.data && ('createSegment' in response.data ? response.data.createSegment : response.data.updateSegment);
    if (!payload) return setErrors(['The server sent no answer.']);
    if ('segment' in payload) return navigate(`/segments/${encodeURIComponent(payload.segment.id)}`, { replace: !segment });
    const error = payload as SaveErrorFragment;
    const path = 'path' in error ? error.path : null;
    setErrors([path?.length ? `${path.join(', ')}: ${error.message}` : error.message]);
  };

  const confirmDelete = async () => {
    if (!segment) return;
    const response = await remove({ id: segment.id });
    setConfirming(false);
    const payload = response.data?.deleteSegment;
    if (payload?.__typename === 'DeleteSegmentPayload') return navigate('/segments');
    setDeleteError(response.error?.message ?? (payload && 'message' in payload ? payload.message : 'The segment was not deleted.'));
  };

  return (
    <section className="editor">
      <p className="breadcrumb">
        <Link to="/segments">Segments</Link>
      </p>
      <h1>{segment ? `Segment “${segment.name}”` : 'New segment'}</h1>
      {segment?.inUse && <p className="notice">A campaign uses this segment.</p>}
      <form onSubmit={save} noValidate>
        {errors.length > 0 && (
          <div className="error-box" role="alert">
            <strong>Not saved.</strong>
            {errors.map((message) => (
              <p key={message}>{message}</p>
            ))}
          </div>
        )}
        <div className="card form-grid">
          <div className="field">
            <label htmlFor={`${ids}-name`}>Name</label>
            <input id={`${ids}-name`} value={name} maxLength={128} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={`${ids}-description`}>Description</label>
            <textarea id={`${ids}-description`} rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={`${ids}-type`}>Type</label>
            <select id={`${ids}-type`} value={type} disabled={Boolean(segment)} onChange={(e) => setType(e.target.value as SegmentType)}>
              <option value="USER">Users</option>
              <option value="CHANNEL">Channels</option>
            </select>
          </div>
        </div>
        <fieldset className="card">
          <legend>Rule</legend>
          <div className="actions">
            {(
              [
                ['allUsers', 'All users'],
                ['allSenderChannels', 'All sender channels'],
                ['filter', 'Filter'],
                ['none', 'No rule (explicit targets only)'],
              ] as [Rule, string][]
            ).map(([value, label]) => (
              <label key={value} className="check-field">
                <input type="radio" name={`${ids}-rule`} value={value} checked={rule === value} onChange={() => setRule(value)} /> {label}
              </label>
            ))}
          </div>
          {rule === 'filter' && (
            <div className="filter-editor">
              <div className="actions" role="group" aria-label="Filter view">
                <button type="button" aria-pressed={filter.view === 'builder'} onClick={() => switchView('builder')}>
                  Builder
                </button>
                <button type="button" aria-pressed={filter.view === 'json'} onClick={() => switchView('json')}>
                  JSON
                </button>
              </div>
              {filter.note && <p className="notice">{filter.note}</p>}
              {filter.view === 'builder' ? (
                <FilterBuilder root={filter.root} onChange={(root) => setFilter({ ...filter, root })} />
              ) : (
                <div className="field">
                  <label htmlFor={`${ids}-json`}>Filter JSON</label>
                  <textarea id={`${ids}-json`} className="code" rows={10} spellCheck={false} value={filter.json} onChange={(e) => setFilter({ ...filter, json: e.target.value })} />
                </div>
              )}
            </div>
          )}
          <p role="status" aria-label="Audience size">
            {rule === 'none' ? (
              <span className="muted">No rule: the audience is the explicit targets.</span>
            ) : size.error ? (
              <span className="field-error">{size.error.graphQLErrors[0]?.message ?? size.error.message}</span>
            ) : size.data ? (
              <>
                Audience size: <strong>{formatCount(size.data.segmentAudienceSize)}</strong>
                {size.fetching || sizeKey !== JSON.stringify({ type, ...ruleInput }) ? <span className="muted"> (updating…)</span> : null}
              </>
            ) : (
              <span className="muted">Counting the audience…</span>
            )}
          </p>
        </fieldset>
        {deleteError && (
          <div className="error-box" role="alert">
            <strong>Not deleted.</strong>
            <p>{deleteError}</p>
          </div>
        )}
        <div className="actions form-actions">
          {segment && (
            <button type="button" className="danger" onClick={() => setConfirming(true)}>
              Delete
            </button>
          )}
          <button type="submit" className="primary" disabled={createState.fetching || updateState.fetching}>
            {createState.fetching || updateState.fetching ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
      {segment ? <SegmentTargets segmentId={segment.id} /> : <p className="muted">Save the segment to add explicit targets.</p>}
      {confirming && segment && (
        <ConfirmDialog title="Delete segment?" confirmLabel="Delete segment" busy={deleteState.fetching} onConfirm={confirmDelete} onCancel={() => setConfirming(false)}>
          “{segment.name}” and its explicit targets will be deleted.
        </ConfirmDialog>
      )}
    </section>
  );
}
