/**
 * A saved segment's explicit targets: ids pasted or read from a CSV file (first column) are
 * added or removed in one call each (the API takes up to 10,000 and lists unknown ids in its
 * message), and the table pages through the live audience (explicit targets ∪ the rule),
 * searched by id prefix.
 */
import { useId, useState, type ChangeEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { AddSegmentTargetsDocument, RemoveSegmentTargetsDocument, SegmentTargetsDocument } from '../generated/graphql';
import { parseUserIds } from '../editor/form';
import { formatCount } from '../format';
import { useDebounced } from '../debounce';
import { Pager } from '../components/Pager';
import { ErrorMessage } from '../components/CampaignBits';
import { useCursorPages } from '../paging';

const PAGE_SIZE = 25;
const MAX_IDS = 10_000;

export function SegmentTargets({ segmentId }: { segmentId: string }) {
  const ids = useId();
  const [text, setText] = useState('');
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);
  const [search, setSearch] = useState('');
  const query = useDebounced(search.trim(), 250);
  // A new search starts again from the first page (no stale-cursor query: reset while rendering).
  const pages = useCursorPages(query);
  const [result, refetch] = useQuery({
    query: SegmentTargetsDocument,
    variables: {
      id: segmentId,
      filter: query ? { id: { autocomplete: query } } : null,
      first: PAGE_SIZE,
      after: pages.cursor,
    },
    requestPolicy: 'cache-and-network',
  });
  const [addState, add] = useMutation(AddSegmentTargetsDocument);
  const [removeState, remove] = useMutation(RemoveSegmentTargetsDocument);
  const targetIds = parseUserIds(text);
  const connection = result.data?.segment?.targets;

  const readCsv = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (!file) return;
    const lines = (await file.text()).split(/\r?\n/);
    // A header such as "id" or "user_id" is not a target id.
    const body = /^\s*"?((user|channel)_?)?(ids?|cids?)"?\s*(,|$)/i.test(lines[0] ?? '') ? lines.slice(1) : lines;
    setText(parseUserIds(body.map((line) => line.split(',')[0] ?? '').join('\n')).join('\n'));
  };

  const change = async (kind: 'add' | 'remove') => {
    setOutcome(null);
    const variables = { segmentId, targetIds };
    if (kind === 'add') {
      const response = await add(variables);
      const payload = response.data?.addSegmentTargets;
      if (payload?.__typename === 'AddSegmentTargetsPayload') {
        setText('');
        refetch({ requestPolicy: 'network-only' });
        return setOutcome({ ok: true, message: `Added ${formatCount(payload.added)} of ${formatCount(targetIds.length)} ids.` });
      }
      return setOutcome({ ok: false, message: response.error?.message ?? (payload && 'message' in payload ? payload.message : 'Nothing was added.') });
    }
    const response = await remove(variables);
    const payload = response.data?.removeSegmentTargets;
    if (payload?.__typename === 'RemoveSegmentTargetsPayload') {
      setText('');
      refetch({ requestPolicy: 'network-only' });
      return setOutcome({ ok: true, message: `Removed ${formatCount(payload.removed)} of ${formatCount(targetIds.length)} ids (others were not explicit targets).` });
    }
    setOutcome({ ok: false, message: response.error?.message ?? (payload && 'message' in payload ? payload.message : 'Nothing was removed.') });
  };

  const busy = addState.fetching || removeState.fetching;
  return (
    <div className="card segment-targets">
      <h2>Targets</h2>
      <div className="field">
        <label htmlFor={`${ids}-ids`}>Target ids</label>
        <textarea id={`${ids}-ids`} rows={4} value={text} placeholder="One id per line, or comma-separated" onChange={(e) => setText(e.target.value)} />
        <p className="muted">
          {formatCount(targetIds.length)} ids{targetIds.length > MAX_IDS ? ` — at most ${formatCount(MAX_IDS)} at once` : ''}.{' '}
          <label className="button">
            Upload CSV
            <input type="file" accept=".csv,text/csv,text/plain" className="visually-hidden" onChange={readCsv} />
          </label>
        </p>
      </div>
      <div className="actions">
        <button type="button" disabled={busy || targetIds.length === 0 || targetIds.length > MAX_IDS} onClick={() => change('add')}>
          Add targets
        </button>
        <button type="button" disabled={busy || targetIds.length === 0 || targetIds.length > MAX_IDS} onClick={() => change('remove')}>
          Remove targets
        </button>
      </div>
      {outcome && (
        <p className={outcome.ok ? 'muted' : 'field-error'} role={outcome.ok ? 'status' : 'alert'}>
          {outcome.message}
        </p>
      )}
      <div className="field targets-search">
        <label htmlFor={`${ids}-search`}>Search targets</label>
        <input
          id={`${ids}-search`}
          type="search"
          value={search}
          placeholder="Id starts with…"
          autoComplete="off"
          onChange={(event) => setSearch(event.target.value)}
        />
      </div>
      {result.error && <ErrorMessage title="Could not load the audience." error={result.error} />}
      {!connection && result.fetching && (
        <p className="muted" role="status">
          Loading the audience…
        </p>
      )}
      {connection && connection.edges.length === 0 && (
        <p className="muted">{query ? `No targets match “${query}”.` : 'No one in the audience yet: add targets above or give the segment a rule.'}</p>
      )}
      {connection && connection.edges.length > 0 && (
        <>
          <table className="table">
            <caption className="visually-hidden">Audience</caption>
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Name</th>
              </tr>
            </thead>
            <tbody>
              {connection.edges.map(({ node }) => (
                <tr key={node.id}>
                  <td data-label="Id">{node.id}</td>
                  <td data-label="Name">{node.user?.name ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager
            label="Target pages"
            summary={query ? `${formatCount(connection.totalCount)} match “${query}”` : `${formatCount(connection.totalCount)} in the audience`}
            {...pages.pager(connection.pageInfo.hasNextPage, connection.pageInfo.endCursor)}
          />
        </>
      )}
    </div>
  );
}
