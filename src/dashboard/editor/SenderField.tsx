/**
 * Sender: search users by name or id (debounced, prefix match) and pick one. The chosen
 * sender stays shown above the search until another is picked.
 */
import { useId, useState } from 'react';
import { useQuery } from 'urql';
import { SenderSearchDocument } from '../generated/graphql';
import { useDebounced } from '../debounce';
import { FieldErrors } from './FieldErrors';

export type Sender = { id: string; name: string | null };

const MATCHES = 8;

export function senderLabel(sender: Sender): string {
  return sender.name ? `${sender.name} (${sender.id})` : sender.id;
}

export function SenderField(props: { value: Sender | null; onChange: (sender: Sender) => void; errors?: string[] }) {
  const id = useId();
  const [search, setSearch] = useState('');
  const query = useDebounced(search.trim(), 250);
  const [result] = useQuery({
    query: SenderSearchDocument,
    variables: { filter: { $or: [{ id: { $autocomplete: query } }, { name: { $autocomplete: query } }] }, first: MATCHES },
    pause: query === '',
  });
  // An emptied box (or a pick) closes the matches at once, not after the debounce.
  const open = query !== '' && search.trim() !== '';
  const matches = open ? (result.data?.users.edges.map((edge) => edge.node) ?? []) : [];
  return (
    <div className="field">
      <label htmlFor={id}>Sender</label>
      <p className="muted chosen" id={`${id}-chosen`}>
        {props.value ? <>Sends as <strong>{senderLabel(props.value)}</strong></> : 'No sender chosen yet: search by name or id.'}
      </p>
      <input
        id={id}
        type="search"
        autoComplete="off"
        placeholder="Search users by name or id"
        aria-describedby={`${id}-chosen`}
        aria-invalid={props.errors?.length ? true : undefined}
        value={search}
        onChange={(event) => setSearch(event.target.value)}
      />
      {open && (
        <div className="matches" aria-live="polite">
          {result.fetching && matches.length === 0 && <span className="muted">Searching…</span>}
          {result.error && <span className="field-error">Search failed: {result.error.message}</span>}
          {!result.fetching && !result.error && matches.length === 0 && <span className="muted">No user matches “{query}”.</span>}
          {matches.map((user) => (
            <button
              key={user.id}
              type="button"
              aria-pressed={props.value?.id === user.id}
              onClick={() => {
                props.onChange(user);
                setSearch('');
              }}
            >
              {senderLabel(user)}
            </button>
          ))}
        </div>
      )}
      <FieldErrors errors={props.errors} />
    </div>
  );
}
