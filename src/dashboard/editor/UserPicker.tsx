/**
 * One user, picked by searching names and ids (debounced, prefix match): the editor's Sender
 * and the Preview's recipient. The choice stays shown above the search until another is picked.
 */
import { useId, useState, type ReactNode } from 'react';
import { useQuery } from 'urql';
import { SenderSearchDocument } from '../generated/graphql';
import { useDebounced } from '../debounce';
import { FieldErrors } from './FieldErrors';

export type PickedUser = { id: string; name: string | null };

const MATCHES = 8;

export function userLabel(user: PickedUser): string {
  return user.name ? `${user.name} (${user.id})` : user.id;
}

export function UserPicker(props: {
  label: string;
  value: PickedUser | null;
  onChange: (user: PickedUser) => void;
  /** The line above the search: what the choice means, or how to make one. */
  describe: (user: PickedUser | null) => ReactNode;
  errors?: string[];
}) {
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
      <label htmlFor={id}>{props.label}</label>
      <p className="muted chosen" id={`${id}-chosen`}>
        {props.describe(props.value)}
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
              {userLabel(user)}
            </button>
          ))}
        </div>
      )}
      <FieldErrors errors={props.errors} />
    </div>
  );
}

export function SenderField(props: { value: PickedUser | null; onChange: (sender: PickedUser) => void; errors?: string[] }) {
  return (
    <UserPicker
      label="Sender"
      {...props}
      describe={(sender) => (sender ? <>Sends as <strong>{userLabel(sender)}</strong></> : 'No sender chosen yet: search by name or id.')}
    />
  );
}
