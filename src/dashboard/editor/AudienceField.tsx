/**
 * Audience: either segments of one type (the API refuses a mix; the form offers only the
 * type of the first one ticked), or explicit user ids pasted or read from a CSV file.
 */
import { useId, useState, type ChangeEvent } from 'react';
import { useQuery } from 'urql';
import { EditorSegmentsDocument } from '../generated/graphql';
import { formatCount } from '../format';
import { parseUserIds, type AudienceKind } from './form';
import { FieldErrors } from './FieldErrors';

/** The API's limit on segments per campaign is 25; 1,000 is the most one page lists. */
const SEGMENT_PAGE = 1000;

export interface AudienceValue {
  audienceKind: AudienceKind;
  segmentIds: string[];
  userIdsText: string;
}

export function AudienceField(props: { value: AudienceValue; onChange: (change: Partial<AudienceValue>) => void; errors?: string[] }) {
  const id = useId();
  const { audienceKind, segmentIds, userIdsText } = props.value;
  const [fileNote, setFileNote] = useState<string | null>(null);
  const [segments] = useQuery({ query: EditorSegmentsDocument, variables: { first: SEGMENT_PAGE }, pause: audienceKind !== 'segments' });
  const list = segments.data?.segments.edges.map((edge) => edge.node) ?? [];
  const chosenType = list.find((segment) => segmentIds.includes(segment.id))?.type;
  const idCount = parseUserIds(userIdsText).length;

  const toggleSegment = (segmentId: string, on: boolean) =>
    props.onChange({ segmentIds: on ? [...segmentIds, segmentId] : segmentIds.filter((s) => s !== segmentId) });

  const readCsv = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (!file) return;
    const text = await file.text();
    // A header such as "id" or "user_id" is not a user id.
    const lines = text.split(/\r?\n/);
    const body = /^\s*"?(user_?)?ids?"?\s*(,|$)/i.test(lines[0] ?? '') ? lines.slice(1) : lines;
    const ids = parseUserIds(body.map((line) => line.split(',')[0] ?? '').join('\n'));
    props.onChange({ userIdsText: ids.join('\n') });
    setFileNote(`Read ${formatCount(ids.length)} ids from ${file.name} (first column).`);
  };

  return (
    <fieldset className="field audience" aria-describedby={`${id}-errors`}>
      <legend>Audience</legend>
      <div className="choice-row">
        <label>
          <input type="radio" name={`${id}-kind`} checked={audienceKind === 'users'} onChange={() => props.onChange({ audienceKind: 'users' })} /> Explicit users
        </label>
        <label>
          <input type="radio" name={`${id}-kind`} checked={audienceKind === 'segments'} onChange={() => props.onChange({ audienceKind: 'segments' })} /> Segments
        </label>
      </div>
      {audienceKind === 'users' ? (
        <>
          <label htmlFor={`${id}-ids`}>User ids</label>
          <textarea
            id={`${id}-ids`}
            rows={4}
            placeholder={'One per line or comma-separated, e.g.\nann, bob'}
            value={userIdsText}
            onChange={(event) => props.onChange({ userIdsText: event.target.value })}
          />
          <div className="choice-row">
            <span className="muted">{idCount === 1 ? '1 user' : `${formatCount(idCount)} users`}</span>
            <label className="button file-button">
              Upload CSV
              <input type="file" accept=".csv,text/csv,text/plain" className="visually-hidden" onChange={readCsv} />
            </label>
          </div>
          {fileNote && <p className="muted" role="status">{fileNote}</p>}
        </>
      ) : (
        <div className="segment-list">
          {segments.fetching && <span className="muted">Loading segments…</span>}
          {segments.error && <span className="field-error">Could not load the segments: {segments.error.message}</span>}
          {!segments.fetching && !segments.error && list.length === 0 && <span className="muted">There are no segments yet.</span>}
          {list.map((segment) => (
            <label key={segment.id} className={chosenType && segment.type !== chosenType ? 'muted' : undefined}>
              <input
                type="checkbox"
                checked={segmentIds.includes(segment.id)}
                disabled={!!chosenType && segment.type !== chosenType && !segmentIds.includes(segment.id)}
                onChange={(event) => toggleSegment(segment.id, event.target.checked)}
              />{' '}
              {segment.name} <span className="badge">{segment.type}</span>
            </label>
          ))}
          {chosenType && <p className="muted">A campaign's segments are all of one type: {chosenType.toLowerCase()} segments only.</p>}
        </div>
      )}
      <div id={`${id}-errors`}>
        <FieldErrors errors={props.errors} />
      </div>
    </fieldset>
  );
}
