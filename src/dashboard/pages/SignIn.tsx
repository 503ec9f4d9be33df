import { useId, useState, type FormEvent } from 'react';
import { tokenProblem } from '../auth';

/** The sign-in page: paste a token (or open a sign-in link, handled before this renders). */
export function SignIn({ notice, onSignIn }: { notice: string | null; onSignIn: (token: string) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const fieldId = useId();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const token = value.trim().replace(/^bearer\s+/i, '');
    const problem = token ? tokenProblem(token) : 'Paste a token first.';
    if (problem) setError(problem);
    else onSignIn(token);
  };

  const message = error ?? notice;
  return (
    <main className="signin">
      <form className="signin-card" onSubmit={submit} aria-labelledby={`${fieldId}-title`}>
        <h1 id={`${fieldId}-title`}>Beacon</h1>
        <p className="muted">
          Open the sign-in link printed by <code>npm run token -- --dashboard</code>, or paste its token.
        </p>
        {message && (
          <p className="notice" role="alert">
            {message}
          </p>
        )}
        <label htmlFor={fieldId}>Token</label>
        <textarea
          id={fieldId}
          value={value}
          onChange={(event) => setValue(event.target.value)}
          rows={4}
          spellCheck={false}
          autoComplete="off"
          required
        />
        <button type="submit" className="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}
