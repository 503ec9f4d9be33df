/**
 * The campaign page's Test send: find users by id or name, send them the campaign's message
 * for real (nothing counted, no recipient written), and see what happened for each: a link
 * to the channel the message went to, or the error.
 * A failed send keeps the chosen users, so trying again is one click.
 */
import { useId, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { TestCampaignDocument, TestUserSearchDocument, type TestCampaignMutation } from '../generated/graphql';
import { useDebounced } from '../debounce';
import { Link } from '../router';
import { ErrorMessage } from './CampaignBits';

const SEARCH_SIZE = 8;
/** The API's limit per test send. */
const MAX_USERS = 100;

type Results = Extract<TestCampaignMutation['testCampaign'], { __typename: 'TestCampaignPayload' }>['results'];

interface ChosenUser {
  id: string;
  name: string | null;
}

const describeUser = (user: ChosenUser) => (user.name ? `${user.name} (${user.id})` : user.id);

export function TestSend({ campaignId }: { campaignId: string }) {
  const ids = useId();
  const [search, setSearch] = useState('');
  const [chosen, setChosen] = useState<ChosenUser[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [results, setResults] = useState<Results | null>(null);
  const [sending, send] = useMutation(TestCampaignDocument);

  const query = useDebounced(search.trim(), 250);
  const [found] = useQuery({
    query: TestUserSearchDocument,
    variables: { filter: { $or: [{ id: { $autocomplete: query } }, { name: { $autocomplete: query } }] }, first: SEARCH_SIZE },
    pause: !query,
  });
  const matches = query ? (found.data?.users.edges.map(({ node }) => node) ?? []) : [];
  const names = new Map([...chosen, ...matches].map((user) => [user.id, user]));

  const toggle = (user: ChosenUser, on: boolean) =>
    setChosen((previous) => (on ? [...previous.filter((u) => u.id !== user.id), user] : previous.filter((u) => u.id !== user.id)));

  const submit = async () => {
    setError(null);
    setResults(null);
    const response = await send({ id: campaignId, userIds: chosen.map((user) => user.id) });
    const payload = response.data?.testCampaign;
    if (payload?.__typename === 'TestCampaignPayload') setResults(payload.results);
    else setError(response.error?.message ?? (payload && 'message' in payload ? payload.message : 'The test send failed.'));
  };

  const unchosenMatches = matches.filter((user) => !chosen.some((u) => u.id === user.id));
  return (
    <section className="card" aria-labelledby={`${ids}-heading`}>
      <h2 id={`${ids}-heading`}>Try the message</h2>
      <p className="muted">Sends the message for real to the users you choose, in the channel the campaign would use; nothing is counted.</p>
      <form
        className="test-send"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <div className="field">
          <label htmlFor={`${ids}-search`}>Find users</label>
          <input
            id={`${ids}-search`}
            type="search"
            value={search}
            placeholder="Name or id"
            autoComplete="off"
            onChange={(event) => setSearch(event.target.value)}
          />
        </div>
        {found.error && <ErrorMessage title="Could not search the users." error={found.error} />}
        {query && found.fetching && !found.data && (
          <p className="muted" role="status">
            Searching…
          </p>
        )}
        {query && found.data && unchosenMatches.length === 0 && matches.length === 0 && <p className="muted">No users match “{query}”.</p>}
        <fieldset className="user-choices">
          <legend>Test users ({chosen.length} chosen)</legend>
          {chosen.length === 0 && unchosenMatches.length === 0 && <p className="muted">Search above and tick the users to send to.</p>}
          {[...chosen, ...unchosenMatches].map((user) => {
            const checked = chosen.some((u) => u.id === user.id);
            return (
              <label key={user.id} className="choice">
                <input
                  type="checkbox"
                  checked={checked}
                  disabled={!checked && chosen.length >= MAX_USERS}
                  onChange={(event) => toggle(user, event.target.checked)}
                />
                {describeUser(user)}
              </label>
            );
          })}
        </fieldset>
        <div className="actions">
          <button type="submit" className="primary" disabled={chosen.length === 0 || sending.fetching}>
            Test send
          </button>
        </div>
      </form>
      {error && <ErrorMessage title="The test send failed." error={{ message: error }} />}
      {results && (
        <ul className="test-results" aria-label="Test send results">
          {results.map((result) => {
            const user = names.get(result.userId) ?? { id: result.userId, name: null };
            return (
              <li key={result.userId} className={result.status === 'SENT' ? 'sent' : 'errored'}>
                <strong>{describeUser(user)}</strong>:{' '}
                {result.status === 'SENT' ? (
                  <>
                    Sent
                    {result.channelCid && (
                      <>
                        {' · '}
                        <Link to={`/channels/${encodeURIComponent(result.channelCid)}`}>Open channel</Link>
                      </>
                    )}
                  </>
                ) : (
                  `Not sent: ${result.error ?? 'unknown error'}`
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
